using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Micropay.Core.Channels;

namespace PayPerRequest.Server;

/// <summary>
/// Guards an endpoint with a price: serves the request when its <see cref="PaymentHeaders.Voucher"/> or
/// <see cref="PaymentHeaders.Tick"/> header pays it (judged by the <see cref="PaymentGate"/>, offline), and answers
/// <c>402 Payment Required</c> with a <see cref="PaymentRequired"/> body otherwise. Add it with
/// <c>.AddEndpointFilter(filter)</c> on any endpoint or group.
/// </summary>
/// <remarks>
/// The payment is judged before the handler runs and is not given back if the handler fails: the client paid for the
/// attempt. A server that wants to charge only for success would judge the payment first and accept it after.
/// </remarks>
public sealed class PaymentEndpointFilter : IEndpointFilter
{
    private readonly PaymentGate _gate;
    private readonly PriceChallenge _challenge;

    /// <summary>Creates the filter.</summary>
    /// <param name="gate">The gate that judges payments.</param>
    /// <param name="challenge">The price challenge every 402 answer carries.</param>
    public PaymentEndpointFilter(PaymentGate gate, PriceChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(challenge);
        _gate = gate;
        _challenge = challenge;
    }

    /// <summary>The names the JSON body gives outcomes: snake case (<c>payment_missing</c>, <c>bad_signature</c>).</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>Its name.</returns>
    public static string ReasonName(PaymentOutcome outcome) => JsonNamingPolicy.SnakeCaseLower.ConvertName(outcome.ToString());

    /// <inheritdoc />
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        PaymentOutcome outcome = Judge(context.HttpContext.Request.Headers);
        return outcome == PaymentOutcome.Accepted
            ? next(context)
            : ValueTask.FromResult<object?>(Results.Json(new PaymentRequired(ReasonName(outcome), Describe(outcome), _challenge), statusCode: StatusCodes.Status402PaymentRequired));
    }

    private PaymentOutcome Judge(IHeaderDictionary headers)
    {
        bool hasVoucher = headers.TryGetValue(PaymentHeaders.Voucher, out StringValues voucher);
        bool hasTick = headers.TryGetValue(PaymentHeaders.Tick, out StringValues tick);

        // One payment per request, in one header value: two would leave which one paid open to argument.
        Span<byte> bytes = stackalloc byte[Voucher.Size + 3];
        return (hasVoucher, hasTick) switch
        {
            (false, false) => _gate.Record(PaymentOutcome.PaymentMissing),
            (true, false) when TryDecode(voucher, bytes, Voucher.Size) => _gate.PayWithVoucher(bytes[..Voucher.Size]),
            (false, true) when TryDecode(tick, bytes, Tick.Size) => _gate.PayWithTick(bytes[..Tick.Size]),
            _ => _gate.Record(PaymentOutcome.Malformed),
        };
    }

    // Decodes exactly size bytes; the buffer is 3 bytes longer so that a longer value fails to fit a size-byte payment
    // instead of being cut short.
    private static bool TryDecode(StringValues value, Span<byte> buffer, int size) =>
        value.Count == 1 && Convert.TryFromBase64String(value[0]!, buffer, out int written) && written == size;

    private static string Describe(PaymentOutcome outcome) => outcome switch
    {
        PaymentOutcome.PaymentMissing => "This endpoint costs the challenge's price per request: open a channel, then send a voucher or a tick with each request.",
        PaymentOutcome.Malformed => "Send one header, Payment-Voucher (base64 of 128 bytes) or Payment-Tick (base64 of 64 bytes), with one value.",
        PaymentOutcome.UnknownChannel => "No channel with this id was opened through this server: open one first.",
        PaymentOutcome.WrongScheme => "The channel pays the other way: vouchers for a cumulative channel, ticks for a hash-chain one.",
        PaymentOutcome.LaneOutOfRange => "The voucher's lane is not below the challenge's maxLanes.",
        PaymentOutcome.BadSignature => "The voucher's signature does not verify with the channel's payer key and this ledger's instance id.",
        PaymentOutcome.BadTick => "The tick's word does not hash to the last word accepted.",
        PaymentOutcome.Replayed => "The voucher's sequence (or the tick's index) is not above the last one accepted: a payment is accepted once.",
        PaymentOutcome.Underpaid => "The payment adds less than the price to what the lane (or chain) already paid.",
        PaymentOutcome.TickTooFarAhead => "The tick pays more units at once than the challenge's maxTickUnits.",
        PaymentOutcome.ExceedsDeposit => "The channel's deposit is spent: open a new channel.",
        PaymentOutcome.Expired => "The voucher expired, or the channel expires too soon for the server to redeem: open a new channel.",
        _ => outcome.ToString(),
    };
}
