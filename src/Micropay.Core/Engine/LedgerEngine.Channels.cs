using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Micropay.Core.Channels;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

// Channels: opens, top-ups, redemptions and closes. Every signature (and a tick's hash chain) is checked here, on the
// caller's thread, before the event is queued; the writer applies only the deterministic rules (ChannelBook).
public sealed partial class LedgerEngine
{
    // Voucher batches at least this long are verified on every core (below it, the fan-out costs more than it saves).
    private const int ParallelVerifyThreshold = 64;

    // Every channel config the writer has applied (or recovered): written by the writer thread when an open applies,
    // read by any caller to verify vouchers, ticks and closes. Configs are immutable, so a reader either finds the whole
    // config or none. An open applied but not yet released is already here: a redemption verified against it is queued
    // after the open, so it can never be applied before it.
    private readonly ConcurrentDictionary<UInt128, ChannelConfig> _channelConfigs = new();

    // The channels' state: the writer's (ChannelBook, writer thread only) and the released copy readers see.
    private ChannelBook _channelBook = null!;
    private readonly PublishedChannels _publishedChannels = new();

    /// <summary>
    /// Opens a channel: creates its escrow account (whose id is the channel id) and moves the deposit from the payer
    /// into it, as one operation. Completes once the open's batch is released (durable in the default mode).
    /// </summary>
    /// <param name="request">The payer's signed request (<see cref="ChannelOpenRequest.Sign"/>).</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result. Before queueing: <see cref="ChannelResult.InstanceMismatch"/> (the config names another instance),
    /// <see cref="ChannelResult.BadSignature"/>, and for a step-up co-signature (<see cref="ChannelOpenRequest.WithCoSignature"/>)
    /// <see cref="ChannelResult.CoSignerNotFound"/>, <see cref="ChannelResult.CoSignerIsSigner"/> or
    /// <see cref="ChannelResult.BadCoSignature"/>. Then, in order: <see cref="ChannelResult.Exists"/> or
    /// <see cref="ChannelResult.ExistsWithDifferentDeposit"/>, <see cref="ChannelResult.AmountMustNotBeZero"/>,
    /// <see cref="ChannelResult.ExpiryNotInFuture"/>, the payer and payee account checks (not found, ledger, closed), the
    /// payer key's registration and policy when the payer account has registered keys (<see cref="ChannelResult.KeyNotFound"/>
    /// to <see cref="ChannelResult.SignCountNotIncreasing"/>, as for payment orders), then the deposit's own:
    /// <see cref="ChannelResult.InsufficientFunds"/>, <see cref="ChannelResult.Overflow"/>.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="request"/> is a default value.</exception>
    public ValueTask<ChannelResult> OpenChannelAsync(ChannelOpenRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Config is null)
        {
            throw new ArgumentException("The request is a default value; use ChannelOpenRequest.Sign.", nameof(request));
        }

        ChannelResult checkedAtEdge = VerifyOpen(request);
        return checkedAtEdge != ChannelResult.Ok ? new ValueTask<ChannelResult>(checkedAtEdge)
            : request.CoSignature is null ? SubmitOne(OperationRegistry.OpenChannels, request, cancellationToken)
            : SubmitOne(OperationRegistry.OpenCoSignedChannels, request, cancellationToken);
    }

    /// <summary>Adds to an open channel's deposit: a transfer from its payer into its escrow, with the caller's transfer id.</summary>
    /// <param name="topUp">The top-up.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result, checked in order: <see cref="ChannelResult.InvalidTransferId"/>, <see cref="ChannelResult.ChannelNotFound"/>,
    /// <see cref="ChannelResult.Exists"/> or <see cref="ChannelResult.ExistsWithDifferentFields"/> (the id was used),
    /// closed or expired, <see cref="ChannelResult.ChannelClosing"/>, <see cref="ChannelResult.AmountMustNotBeZero"/>,
    /// the account checks, <see cref="ChannelResult.Overflow"/> (the deposits would pass 128 bits), the payer key's policy
    /// when the payer account has registered keys (a top-up carries no co-signature, so one above the step-up threshold is
    /// <see cref="ChannelResult.StepUpRequired"/>; <see cref="ChannelResult.OverChannelDepositLimit"/> counts the open's and
    /// every top-up's deposit), <see cref="ChannelResult.InsufficientFunds"/>.
    /// </returns>
    public ValueTask<ChannelResult> TopUpChannelAsync(ChannelTopUp topUp, CancellationToken cancellationToken = default) =>
        SubmitOne(OperationRegistry.TopUpChannels, topUp, cancellationToken);

    /// <summary>
    /// Redeems a voucher: pays the payee, from escrow, what the voucher's cumulative amount adds to what its lane already
    /// redeemed. The redemption's transfer id is derived from (channel, lane, sequence), so redeeming the same voucher
    /// twice pays once. Completes once the batch is released.
    /// </summary>
    /// <param name="voucher">The voucher.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result. Before queueing: <see cref="ChannelResult.ChannelNotFound"/>, <see cref="ChannelResult.WrongChannelMode"/>,
    /// <see cref="ChannelResult.BadSignature"/>. Then, in order: <see cref="ChannelResult.AlreadyRedeemed"/> (an idempotent
    /// retry), closed or expired, <see cref="ChannelResult.VoucherExpired"/>, <see cref="ChannelResult.SequenceNotIncreasing"/>,
    /// <see cref="ChannelResult.AmountNotIncreasing"/>, <see cref="ChannelResult.ExceedsDeposit"/> (retryable after a
    /// top-up), then the payee's account (not found, closed) and <see cref="ChannelResult.Overflow"/>.
    /// </returns>
    public ValueTask<ChannelResult> RedeemVoucherAsync(Voucher voucher, CancellationToken cancellationToken = default)
    {
        ChannelResult checkedAtEdge = VerifyVoucher(voucher);
        return checkedAtEdge == ChannelResult.Ok
            ? SubmitOne(OperationRegistry.RedeemVouchers, VoucherRedemption.Of(voucher), cancellationToken)
            : new ValueTask<ChannelResult>(checkedAtEdge);
    }

    /// <summary>
    /// Redeems a batch of vouchers, applied together in one ledger batch (same checks as <see cref="RedeemVoucherAsync"/>).
    /// The signatures are verified first, on every core when the batch is large; vouchers that fail there get their
    /// result without being queued.
    /// </summary>
    /// <param name="vouchers">The vouchers (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per voucher; at least as long as <paramref name="vouchers"/>.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of vouchers not redeemed (results other than <see cref="ChannelResult.Ok"/>).</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> RedeemVouchersAsync(ReadOnlyMemory<Voucher> vouchers, Memory<ChannelResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(vouchers.Length, results.Length, nameof(vouchers), nameof(results));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        // The redemptions (voucher and derived id) are built while verifying, on every core for a large batch, into a
        // pooled array that is returned when the batch completes.
        VoucherRedemption[] redemptions = ArrayPool<VoucherRedemption>.Shared.Rent(vouchers.Length);
        int refused = VerifyVouchers(vouchers.Span, results.Span, redemptions);
        if (refused == vouchers.Length)
        {
            ArrayPool<VoucherRedemption>.Shared.Return(redemptions);
            return new ValueTask<int>(refused);
        }

        return RedeemVerifiedAsync(redemptions, vouchers.Length, results, refused, cancellationToken);
    }

    /// <summary>Opens a batch of channels in one ledger batch (each as <see cref="OpenChannelAsync"/>, checked at the edge first).</summary>
    /// <param name="requests">The signed requests (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per request.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of requests not applied.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, holds a default request, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> OpenChannelsAsync(ReadOnlyMemory<ChannelOpenRequest> requests, Memory<ChannelResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(requests.Length, results.Length, nameof(requests), nameof(results));
        int refused = 0;
        bool coSigned = false;
        for (int i = 0; i < requests.Length; i++)
        {
            ChannelOpenRequest request = requests.Span[i];
            if (request.Config is null)
            {
                throw new ArgumentException($"Request {i} is a default value; use ChannelOpenRequest.Sign.", nameof(requests));
            }

            ChannelResult result = VerifyOpen(request);
            results.Span[i] = result;
            refused += result == ChannelResult.Ok ? 0 : 1;
            coSigned |= request.CoSignature is not null;
        }

        // One co-signed open makes the whole batch use the larger record (the others' co-signature part stays zero).
        return SubmitChecked(coSigned ? OperationRegistry.OpenCoSignedChannels : OperationRegistry.OpenChannels, requests, results, refused, nameof(requests), cancellationToken);
    }

    /// <summary>Applies a batch of top-ups in one ledger batch (each as <see cref="TopUpChannelAsync"/>).</summary>
    /// <param name="topUps">The top-ups (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per top-up.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of top-ups not applied.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> TopUpChannelsAsync(ReadOnlyMemory<ChannelTopUp> topUps, Memory<ChannelResult> results, CancellationToken cancellationToken = default) =>
        SubmitMany(OperationRegistry.TopUpChannels, topUps, results, nameof(topUps), cancellationToken);

    /// <summary>Redeems a batch of ticks in one ledger batch (each as <see cref="RedeemTickAsync"/>, checked at the edge first).</summary>
    /// <param name="ticks">The ticks (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per tick.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of ticks not redeemed.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> RedeemTicksAsync(ReadOnlyMemory<Tick> ticks, Memory<ChannelResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(ticks.Length, results.Length, nameof(ticks), nameof(results));
        int refused = 0;
        for (int i = 0; i < ticks.Length; i++)
        {
            ChannelResult result = VerifyTick(ticks.Span[i]);
            results.Span[i] = result;
            refused += result == ChannelResult.Ok ? 0 : 1;
        }

        return SubmitChecked(OperationRegistry.RedeemTicks, ticks, results, refused, nameof(ticks), cancellationToken);
    }

    /// <summary>Closes a batch of channels in one ledger batch (each as <see cref="CloseChannelAsync"/>, checked at the edge first).</summary>
    /// <param name="closes">The closes (at most <see cref="LedgerEngineOptions.MaxBatchSize"/>).</param>
    /// <param name="results">Receives one result per close.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of closes not applied.</returns>
    /// <exception cref="ArgumentException">The batch is empty, too large, holds a default close, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> CloseChannelsAsync(ReadOnlyMemory<ChannelClose> closes, Memory<ChannelResult> results, CancellationToken cancellationToken = default)
    {
        CheckBatch(closes.Length, results.Length, nameof(closes), nameof(results));
        int refused = 0;
        for (int i = 0; i < closes.Length; i++)
        {
            ChannelClose close = closes.Span[i];
            if (close.ChannelId == UInt128.Zero)
            {
                throw new ArgumentException($"Close {i} is a default value; use ChannelClose.Cooperative or ChannelClose.Unilateral.", nameof(closes));
            }

            ChannelResult result = VerifyClose(close);
            results.Span[i] = result;
            refused += result == ChannelResult.Ok ? 0 : 1;
        }

        return SubmitChecked(OperationRegistry.CloseChannels, closes, results, refused, nameof(closes), cancellationToken);
    }

    /// <summary>
    /// Redeems a hash-chain tick: pays the payee (index − highest index redeemed) × unit amount from escrow. Before
    /// queueing, the tick's word is hashed index times and compared with the channel's root (the chain is checked
    /// against the signed root, not against the last redemption, so the check needs no ledger state).
    /// </summary>
    /// <param name="tick">The tick.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result. Before queueing: <see cref="ChannelResult.ChannelNotFound"/>, <see cref="ChannelResult.WrongChannelMode"/>,
    /// <see cref="ChannelResult.BadTick"/>. Then, in order: <see cref="ChannelResult.AlreadyRedeemed"/>, closed or expired,
    /// <see cref="ChannelResult.TickIndexNotIncreasing"/>, <see cref="ChannelResult.Overflow"/>,
    /// <see cref="ChannelResult.ExceedsDeposit"/>, then the payee's account.
    /// </returns>
    public ValueTask<ChannelResult> RedeemTickAsync(Tick tick, CancellationToken cancellationToken = default)
    {
        ChannelResult checkedAtEdge = VerifyTick(tick);
        return checkedAtEdge == ChannelResult.Ok
            ? SubmitOne(OperationRegistry.RedeemTicks, tick, cancellationToken)
            : new ValueTask<ChannelResult>(checkedAtEdge);
    }

    /// <summary>
    /// Closes a channel: cooperatively (at once, on the payee's behalf) or unilaterally (the payer's signed close, which
    /// starts the settle delay; the payee can redeem until it ends). The rest of the deposit then returns to the payer.
    /// </summary>
    /// <param name="close">The close.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>
    /// The result. Before queueing: <see cref="ChannelResult.ChannelNotFound"/>, <see cref="ChannelResult.BadSignature"/>.
    /// Then: closed or expired, and for a unilateral close <see cref="ChannelResult.ChannelClosing"/> when the payer
    /// already started one.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="close"/> is a default value.</exception>
    public ValueTask<ChannelResult> CloseChannelAsync(ChannelClose close, CancellationToken cancellationToken = default)
    {
        if (close.ChannelId == UInt128.Zero)
        {
            throw new ArgumentException("The close is a default value; use ChannelClose.Cooperative or ChannelClose.Unilateral.", nameof(close));
        }

        ChannelResult checkedAtEdge = VerifyClose(close);
        return checkedAtEdge == ChannelResult.Ok
            ? SubmitOne(OperationRegistry.CloseChannels, close, cancellationToken)
            : new ValueTask<ChannelResult>(checkedAtEdge);
    }

    /// <summary>Reads a channel as of released batches (lock-free): its config and its escrow's totals.</summary>
    /// <param name="channelId">The channel's id.</param>
    /// <param name="channel">The channel, when found.</param>
    /// <returns>Whether the channel's open was released.</returns>
    public bool TryGetChannel(UInt128 channelId, out ChannelInfo channel)
    {
        if (_channelConfigs.TryGetValue(channelId, out ChannelConfig? config) && _accounts.TryGet(channelId, out Account escrow) &&
            _publishedChannels.TryGetState(channelId, out ChannelStatus status, out ulong closeDeadline, out uint tickIndex))
        {
            channel = new ChannelInfo(config, escrow.CreditsPosted, escrow.DebitsPosted) { Status = status, CloseDeadline = closeDeadline, TickIndex = tickIndex };
            return true;
        }

        channel = default;
        return false;
    }

    /// <summary>
    /// Reads a lane of a cumulative channel as of released batches (lock-free): the sequence and cumulative amount of the
    /// best voucher redeemed on it. A payer can resume signing above it; a payee can see what the ledger already paid.
    /// </summary>
    /// <param name="channelId">The channel.</param>
    /// <param name="lane">The lane.</param>
    /// <param name="sequence">The best redeemed voucher's sequence.</param>
    /// <param name="redeemed">Its cumulative amount: what the lane has paid the payee in all.</param>
    /// <returns>Whether a voucher was redeemed on the lane (in a released batch).</returns>
    public bool TryGetLane(UInt128 channelId, uint lane, out ulong sequence, out UInt128 redeemed)
    {
        bool found = _publishedChannels.TryGetLane(channelId, lane, out LaneState state);
        sequence = state.Sequence;
        redeemed = state.Redeemed;
        return found;
    }

    /// <summary>
    /// Issues the ledger's certificate of a channel, signed with <see cref="LedgerEngineOptions.OperatorKey"/>: its config,
    /// the deposit in escrow so far (the open's and every top-up's, as of released batches) and the open's time, so a
    /// payee holding only the operator's verification key can accept the channel's vouchers offline
    /// (<see cref="ChannelReceiver"/>). The certificate says nothing of later closes: a payee redeems before the expiry.
    /// </summary>
    /// <param name="channelId">The channel.</param>
    /// <param name="certificate">The certificate, when the channel's open was released.</param>
    /// <returns>Whether the channel exists (in a released batch).</returns>
    /// <exception cref="InvalidOperationException">The engine has no <see cref="LedgerEngineOptions.OperatorKey"/>.</exception>
    public bool TryIssueCertificate(UInt128 channelId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ChannelCertificate? certificate)
    {
        Crypto.SigningKey key = _options.OperatorKey
            ?? throw new InvalidOperationException("The engine was opened without LedgerEngineOptions.OperatorKey, so it cannot sign certificates.");
        if (_channelConfigs.TryGetValue(channelId, out ChannelConfig? config) && _accounts.TryGet(channelId, out Account escrow))
        {
            certificate = ChannelCertificate.Issue(key, config, escrow.CreditsPosted, escrow.Timestamp);
            return true;
        }

        certificate = null;
        return false;
    }

    /// <summary>Learns the channels a recovered ledger holds, and every channel it opens from now on (constructor).</summary>
    private void TrackChannelConfigs()
    {
        ChannelBook book = ChannelBook.Of(_ledger);
        foreach (ChannelState channel in book.All)
        {
            _channelConfigs[channel.Config.Id] = channel.Config;
            _publishedChannels.AddRecovered(channel);
        }

        book.ConfigAdded = config => _channelConfigs[config.Id] = config;
        _channelBook = book;
    }

    // The edge's checks (EdgeVerification) against the keys and channel configs the writer has applied.
    private ChannelResult VerifyOpen(in ChannelOpenRequest request) => EdgeVerification.VerifyOpen(request, _instanceId, new ConcurrentKeyLookup(_registeredKeys));

    private ChannelResult VerifyVoucher(in Voucher voucher) => EdgeVerification.VerifyVoucher(voucher, _instanceId, new ConcurrentChannelLookup(_channelConfigs));

    private ChannelResult VerifyTick(in Tick tick) => EdgeVerification.VerifyTick(tick, new ConcurrentChannelLookup(_channelConfigs));

    private ChannelResult VerifyClose(in ChannelClose close) => EdgeVerification.VerifyClose(close, _instanceId, new ConcurrentChannelLookup(_channelConfigs));

    /// <summary>
    /// Verifies every voucher, writing the refused ones' results (and Ok for the rest), and each voucher's redemption (with
    /// its derived id) to <paramref name="redemptions"/> at the same index; returns how many were refused.
    /// </summary>
    /// <remarks>Internal, not private, so the benchmarks measure the engine's own batch verifier (BatchVerifyBenchmarks).</remarks>
    internal int VerifyVouchers(ReadOnlySpan<Voucher> vouchers, Span<ChannelResult> results, Span<VoucherRedemption> redemptions)
    {
        if (vouchers.Length < ParallelVerifyThreshold || Environment.ProcessorCount == 1)
        {
            int refused = 0;
            for (int i = 0; i < vouchers.Length; i++)
            {
                results[i] = VerifyVoucher(vouchers[i]);
                refused += results[i] == ChannelResult.Ok ? 0 : 1;
                redemptions[i] = VoucherRedemption.Of(vouchers[i]);
            }

            return refused;
        }

        return VoucherBatchVerifier.Verify(this, vouchers, results, redemptions);
    }

    /// <summary>Submits the redemptions whose vouchers passed the edge's checks (<see cref="SubmitChecked"/>), then returns the pooled array.</summary>
    // Pooled state machines: a batch awaiting its durability does not box one per call.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> RedeemVerifiedAsync(
        VoucherRedemption[] redemptions, int count, Memory<ChannelResult> results, int refused, CancellationToken cancellationToken)
    {
        try
        {
            return await SubmitChecked(OperationRegistry.RedeemVouchers, redemptions.AsMemory(0, count), results, refused, "vouchers", cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<VoucherRedemption>.Shared.Return(redemptions);
        }
    }

    /// <summary>Verifies a batch of vouchers on every core, in contiguous slices (one per core).</summary>
    private static class VoucherBatchVerifier
    {
        public static unsafe int Verify(LedgerEngine engine, ReadOnlySpan<Voucher> vouchers, Span<ChannelResult> results, Span<VoucherRedemption> redemptions)
        {
            int refused = 0;
            fixed (Voucher* v = vouchers)
            fixed (ChannelResult* r = results)
            fixed (VoucherRedemption* d = redemptions)
            {
                nint vp = (nint)v;
                nint rp = (nint)r;
                nint dp = (nint)d;
                int count = vouchers.Length;
                int slices = Math.Min(Environment.ProcessorCount, count);
                Parallel.For(0, slices, () => 0, (slice, _, local) =>
                {
                    int from = (int)((long)count * slice / slices);
                    int to = (int)((long)count * (slice + 1) / slices);
                    for (int i = from; i < to; i++)
                    {
                        ChannelResult result = engine.VerifyVoucher(((Voucher*)vp)[i]);
                        ((ChannelResult*)rp)[i] = result;
                        ((VoucherRedemption*)dp)[i] = VoucherRedemption.Of(((Voucher*)vp)[i]);
                        local += result == ChannelResult.Ok ? 0 : 1;
                    }

                    return local;
                },
                local => Interlocked.Add(ref refused, local));
            }

            return refused;
        }
    }
}
