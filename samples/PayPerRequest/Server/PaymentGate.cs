using System.Collections.Concurrent;
using Micropay.Core.Channels;

namespace PayPerRequest.Server;

/// <summary>
/// The payee's edge: holds a <see cref="ChannelReceiver"/> per voucher channel and a <see cref="TickVerifier"/> per
/// hash-chain channel opened through this server, and judges each request's payment offline, with no ledger call:
/// a voucher must verify and raise its lane's cumulative amount by at least the price, a tick must hash to the last word
/// and pay at least the price. What it accepts is the payee's money, redeemed later by <see cref="BatchRedeemer"/>.
/// Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// The price is checked before the receiver sees the voucher, under the lane's lock: <see cref="ChannelReceiver.Accept"/>
/// keeps any voucher that raises the amount at all, so a voucher paying less than the price must be refused before it
/// gets there, or the payer would pay for a request it was refused. The lane lock makes the check and the accept one
/// step; it serialises only one lane's vouchers, which a payer sends in order anyway (a lane is a sequence), while
/// vouchers of other lanes and channels are verified in parallel.
/// </para>
/// <para>
/// Lanes are a fixed array per channel (<see cref="MaxLanes"/>), made at open: a payer cannot grow the server's memory
/// by inventing lanes, and no lane state is created before a signature verifies.
/// </para>
/// </remarks>
public sealed class PaymentGate
{
    // Channels are added at open and never removed while the server runs (a sample: a real payee drops a channel once
    // it redeemed its last voucher after the channel's expiry).
    private readonly ConcurrentDictionary<UInt128, VoucherChannel> _voucherChannels = new();
    private readonly ConcurrentDictionary<UInt128, TickChannel> _tickChannels = new();
    private readonly TimeProvider _time;

    // Per-outcome counts, indexed by PaymentOutcome; Interlocked, read for the summary.
    private readonly long[] _outcomes = new long[Enum.GetValues<PaymentOutcome>().Length];

    /// <summary>Creates a gate.</summary>
    /// <param name="price">What one request costs; not 0.</param>
    /// <param name="maxLanes">Voucher lanes kept per channel; 1 to 1,024.</param>
    /// <param name="maxTickUnits">The most units one tick may pay; not 0.</param>
    /// <param name="redeemMargin">How long before a channel's expiry the gate stops accepting its payments (nanoseconds).</param>
    /// <param name="time">The clock; the ledger's, in a real deployment.</param>
    public PaymentGate(ulong price, int maxLanes, uint maxTickUnits, ulong redeemMargin, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfZero(price);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLanes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLanes, 1024);
        ArgumentOutOfRangeException.ThrowIfZero(maxTickUnits);
        ArgumentNullException.ThrowIfNull(time);
        Price = price;
        MaxLanes = maxLanes;
        MaxTickUnits = maxTickUnits;
        RedeemMargin = redeemMargin;
        _time = time;
    }

    /// <summary>What one request costs.</summary>
    public ulong Price { get; }

    /// <summary>Voucher lanes kept per channel.</summary>
    public int MaxLanes { get; }

    /// <summary>The most units one tick may pay.</summary>
    public uint MaxTickUnits { get; }

    /// <summary>How long before a channel's expiry the gate stops accepting its payments, in nanoseconds.</summary>
    public ulong RedeemMargin { get; }

    /// <summary>The voucher channels' receivers, for redemption.</summary>
    public IEnumerable<ChannelReceiver> Receivers => _voucherChannels.Values.Select(c => c.Receiver);

    /// <summary>The hash-chain channels' verifiers, for redemption.</summary>
    public IEnumerable<TickVerifier> TickVerifiers => _tickChannels.Values.Select(c => c.Verifier);

    /// <summary>What the gate accepted in all: the sum of every receiver's and verifier's accepted amount.</summary>
    public UInt128 AcceptedTotal =>
        _voucherChannels.Values.Aggregate(UInt128.Zero, (sum, c) => sum + c.Receiver.AcceptedTotal) +
        _tickChannels.Values.Aggregate(UInt128.Zero, (sum, c) => sum + c.Verifier.AcceptedAmount);

    /// <summary>How many payments ended with <paramref name="outcome"/> (requests served, for <see cref="PaymentOutcome.Accepted"/>).</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>The count so far.</returns>
    public long Count(PaymentOutcome outcome) => Interlocked.Read(ref _outcomes[(int)outcome]);

    /// <summary>Starts accepting a voucher channel's payments; the channel's first receiver wins.</summary>
    /// <param name="receiver">The receiver, made from the ledger's certificate.</param>
    /// <returns>The channel's receiver: <paramref name="receiver"/>, or the one added before it (an open retried).</returns>
    public ChannelReceiver Add(ChannelReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        return _voucherChannels.GetOrAdd(receiver.Config.Id, static (_, state) => new VoucherChannel(state.receiver, state.lanes), (receiver, lanes: MaxLanes)).Receiver;
    }

    /// <summary>Starts accepting a hash-chain channel's payments; the channel's first verifier wins.</summary>
    /// <param name="verifier">The verifier, made from the ledger's certificate.</param>
    /// <returns>The channel's verifier: <paramref name="verifier"/>, or the one added before it.</returns>
    public TickVerifier Add(TickVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        return _tickChannels.GetOrAdd(verifier.Config.Id, static (_, v) => new TickChannel(v), verifier).Verifier;
    }

    /// <summary>Whether a channel was opened through this server.</summary>
    /// <param name="channelId">The channel.</param>
    /// <returns>Whether the gate accepts its payments.</returns>
    public bool Knows(UInt128 channelId) => _voucherChannels.ContainsKey(channelId) || _tickChannels.ContainsKey(channelId);

    /// <summary>Counts a request that carried no payment, or a malformed one (the filter's own verdicts).</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns><paramref name="outcome"/>.</returns>
    public PaymentOutcome Record(PaymentOutcome outcome)
    {
        Interlocked.Increment(ref _outcomes[(int)outcome]);
        return outcome;
    }

    /// <summary>Judges a voucher and, when it pays at least the price, keeps it (the receiver's best for its lane).</summary>
    /// <param name="encoded">The voucher's 128-byte wire format.</param>
    /// <returns>The verdict.</returns>
    public PaymentOutcome PayWithVoucher(ReadOnlySpan<byte> encoded) => Record(JudgeVoucher(encoded));

    /// <summary>Judges a tick and, when it pays at least the price, keeps it (the verifier's best).</summary>
    /// <param name="encoded">The tick's 64-byte wire format.</param>
    /// <returns>The verdict.</returns>
    public PaymentOutcome PayWithTick(ReadOnlySpan<byte> encoded) => Record(JudgeTick(encoded));

    private PaymentOutcome JudgeVoucher(ReadOnlySpan<byte> encoded)
    {
        if (!Voucher.TryParse(encoded, out Voucher voucher, out _))
        {
            return PaymentOutcome.Malformed;
        }

        if (!_voucherChannels.TryGetValue(voucher.ChannelId, out VoucherChannel? channel))
        {
            return _tickChannels.ContainsKey(voucher.ChannelId) ? PaymentOutcome.WrongScheme : PaymentOutcome.UnknownChannel;
        }

        if (voucher.Lane >= (uint)channel.Lanes.Length)
        {
            return PaymentOutcome.LaneOutOfRange;
        }

        LaneState lane = channel.Lanes[voucher.Lane];
        lock (lane)
        {
            // Cheap refusals first, before the signature (the expensive part): a replay costs the server no verification.
            if (voucher.Sequence <= lane.Sequence)
            {
                return PaymentOutcome.Replayed;
            }

            if (voucher.CumulativeAmount <= lane.Cumulative || voucher.CumulativeAmount - lane.Cumulative < Price)
            {
                return PaymentOutcome.Underpaid;
            }

            VoucherAcceptResult result = channel.Receiver.Accept(voucher, LedgerClock.Now(_time), out _);
            if (result == VoucherAcceptResult.Accepted)
            {
                lane.Sequence = voucher.Sequence;
                lane.Cumulative = voucher.CumulativeAmount;
            }

            return result switch
            {
                VoucherAcceptResult.Accepted => PaymentOutcome.Accepted,
                VoucherAcceptResult.BadSignature => PaymentOutcome.BadSignature,
                VoucherAcceptResult.SequenceNotIncreasing => PaymentOutcome.Replayed,
                VoucherAcceptResult.AmountNotIncreasing => PaymentOutcome.Underpaid,
                VoucherAcceptResult.ExceedsDeposit => PaymentOutcome.ExceedsDeposit,
                VoucherAcceptResult.VoucherExpired or VoucherAcceptResult.ChannelExpiring => PaymentOutcome.Expired,
                _ => PaymentOutcome.UnknownChannel, // WrongChannel: the map is keyed by the voucher's own channel id
            };
        }
    }

    private PaymentOutcome JudgeTick(ReadOnlySpan<byte> encoded)
    {
        if (!Tick.TryParse(encoded, out Tick tick, out _))
        {
            return PaymentOutcome.Malformed;
        }

        if (!_tickChannels.TryGetValue(tick.ChannelId, out TickChannel? channel))
        {
            return _voucherChannels.ContainsKey(tick.ChannelId) ? PaymentOutcome.WrongScheme : PaymentOutcome.UnknownChannel;
        }

        // TickVerifier checks no expiry (ChannelReceiver does, with its redeem margin): the gate applies the same rule.
        ChannelConfig config = channel.Verifier.Config;
        ulong now = LedgerClock.Now(_time);
        if (now >= config.ExpiresAt || config.ExpiresAt - now <= RedeemMargin)
        {
            return PaymentOutcome.Expired;
        }

        // One lock per channel: the index check, the price check and the accept are one step, so two ticks racing each
        // other cannot both be priced against the same last index. A chain is a sequence; there is nothing to run in parallel.
        lock (channel)
        {
            uint last = channel.Verifier.LastIndex;
            if (tick.Index <= last)
            {
                return PaymentOutcome.Replayed;
            }

            uint units = tick.Index - last;
            if (units > MaxTickUnits)
            {
                return PaymentOutcome.TickTooFarAhead;
            }

            // units × unit amount ≥ price, written as a division so that no unit amount a payer picks can overflow it.
            if (config.UnitAmount < (Price + units - 1) / units)
            {
                return PaymentOutcome.Underpaid;
            }

            return channel.Verifier.Accept(tick) switch
            {
                TickVerifyResult.Accepted => PaymentOutcome.Accepted,
                TickVerifyResult.IndexNotIncreasing => PaymentOutcome.Replayed,
                TickVerifyResult.ExceedsDeposit => PaymentOutcome.ExceedsDeposit,
                TickVerifyResult.BadWord or TickVerifyResult.IndexBeyondChain => PaymentOutcome.BadTick,
                _ => PaymentOutcome.UnknownChannel, // WrongChannel: the map is keyed by the tick's own channel id
            };
        }
    }

    /// <summary>A voucher channel: its receiver and the price check's view of each lane.</summary>
    private sealed class VoucherChannel(ChannelReceiver receiver, int lanes)
    {
        public ChannelReceiver Receiver { get; } = receiver;

        public LaneState[] Lanes { get; } = [.. Enumerable.Range(0, lanes).Select(_ => new LaneState())];
    }

    /// <summary>The last voucher accepted on a lane. Both fields are protected by locking the instance.</summary>
    private sealed class LaneState
    {
        public ulong Sequence;
        public UInt128 Cumulative;
    }

    /// <summary>A hash-chain channel; locking the instance makes a tick's price check and accept one step.</summary>
    private sealed class TickChannel(TickVerifier verifier)
    {
        public TickVerifier Verifier { get; } = verifier;
    }
}
