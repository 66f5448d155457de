using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;

namespace PayPerRequest.Server;

/// <summary>
/// <c>POST /channels</c>: opens a payer's channel to this server's payee on the ledger, then starts accepting its
/// payments. The server checks the terms are its own (payee, ledger, a deposit of at least one request, time left to
/// redeem), the engine checks the payer's signature and funds and moves the deposit into escrow, and the gate trusts the
/// channel through the ledger's certificate, exactly as a payee that is not the ledger's operator would.
/// </summary>
public sealed class ChannelOpenEndpoint
{
    private readonly LedgerEngine _engine;
    private readonly PaymentGate _gate;
    private readonly VerificationKey _operatorKey;
    private readonly UInt128 _payeeAccountId;
    private readonly uint _ledgerId;
    private readonly ulong _minLifetime;
    private readonly TimeProvider _time;

    /// <summary>Creates the endpoint's handler.</summary>
    /// <param name="engine">The ledger; it must have an operator key, to certify channels.</param>
    /// <param name="gate">The gate that accepts the channel's payments once it is open.</param>
    /// <param name="operatorKey">The operator's verification key, which the certificates are checked with.</param>
    /// <param name="payeeAccountId">This server's account: every channel must pay it.</param>
    /// <param name="ledgerId">The ledger (currency) of the price.</param>
    /// <param name="minLifetime">The shortest time to expiry accepted, nanoseconds: more than the gate's redeem margin.</param>
    /// <param name="time">The clock.</param>
    public ChannelOpenEndpoint(
        LedgerEngine engine, PaymentGate gate, VerificationKey operatorKey, UInt128 payeeAccountId, uint ledgerId, ulong minLifetime, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(operatorKey);
        ArgumentNullException.ThrowIfNull(time);
        _engine = engine;
        _gate = gate;
        _operatorKey = operatorKey;
        _payeeAccountId = payeeAccountId;
        _ledgerId = ledgerId;
        _minLifetime = minLifetime;
        _time = time;
    }

    /// <summary>Handles one open.</summary>
    /// <param name="body">The posted body.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    /// <returns>201 with <see cref="OpenedChannel"/>, or 400 with <see cref="OpenRefused"/>.</returns>
    public async Task<IResult> HandleAsync(OpenChannelBody? body, CancellationToken cancellationToken)
    {
        byte[] bytes = new byte[ChannelOpenRequest.CoSignedSize];
        if (body?.OpenRequest is null || !Convert.TryFromBase64String(body.OpenRequest, bytes, out int written) ||
            !ChannelOpenRequest.TryParse(bytes.AsSpan(0, written), out ChannelOpenRequest request, out _))
        {
            return Refuse("malformed", "Post {\"openRequest\": \"<base64 of a signed ChannelOpenRequest>\"}.");
        }

        ChannelConfig config = request.Config;
        if (config.PayeeAccountId != _payeeAccountId)
        {
            return Refuse("wrong_payee", "The channel must pay the challenge's payee.");
        }

        if (config.LedgerId != _ledgerId)
        {
            return Refuse("wrong_ledger", "The channel must be on the challenge's ledger.");
        }

        if (request.Deposit < _gate.Price)
        {
            return Refuse("deposit_too_small", "The deposit must cover at least one request.");
        }

        // The open's signature proves only that the signer holds the key named in the config. The ledger ties that key to
        // the payer account only when the account has registered keys; an account with none accepts any key (the
        // library's rule for embedded callers that vouch for their own submissions). This endpoint is open to anyone, so it
        // demands a registered key: otherwise whoever knows an account id could spend it into a channel.
        if (!_engine.TryGetKey(KeyIds.Of(config.PayerKey), out KeyInfo key) || key.AccountId != config.PayerAccountId || key.Status != KeyStatus.Active)
        {
            return Refuse("payer_key_not_registered", "The channel's payer key must be registered, and active, on the payer account.");
        }

        ulong now = LedgerClock.Now(_time);
        if (config.ExpiresAt <= now || config.ExpiresAt - now < _minLifetime)
        {
            return Refuse("expires_too_soon", "The channel must live at least the challenge's minLifetimeSeconds.");
        }

        // Exists: the same open retried (its first answer was lost); the ledger moved the deposit once.
        ChannelResult opened = await _engine.OpenChannelAsync(request, cancellationToken).ConfigureAwait(false);
        if (opened is not (ChannelResult.Ok or ChannelResult.Exists))
        {
            return Refuse(JsonNamingPolicy.SnakeCaseLower.ConvertName(opened.ToString()), $"The ledger refused the open: {opened}.");
        }

        if (!_engine.TryIssueCertificate(config.Id, out ChannelCertificate? certificate))
        {
            return Refuse("channel_not_found", "The ledger has no such channel.");
        }

        string? distrust;
        if (config.Mode == ChannelMode.Cumulative)
        {
            if (ChannelReceiver.TryCreate(certificate, _operatorKey, _engine.InstanceId, _payeeAccountId, _gate.RedeemMargin, out ChannelReceiver? receiver, out distrust))
            {
                _gate.Add(receiver);
            }
        }
        else if (TickVerifier.TryCreate(certificate, _operatorKey, _engine.InstanceId, _payeeAccountId, out TickVerifier? verifier, out distrust))
        {
            _gate.Add(verifier);
        }

        if (distrust is not null)
        {
            // Not the payer's fault: the server's operator key and engine disagree. Say so rather than pretend.
            return Results.Problem(distrust, statusCode: StatusCodes.Status500InternalServerError);
        }

        byte[] encoded = new byte[ChannelCertificate.Size];
        certificate.Encode(encoded);
        return Results.Json(
            new OpenedChannel(config.Id.ToString("x32", CultureInfo.InvariantCulture), certificate.Deposit.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(encoded)),
            statusCode: StatusCodes.Status201Created);
    }

    private static IResult Refuse(string reason, string detail) => Results.BadRequest(new OpenRefused(reason, detail));
}
