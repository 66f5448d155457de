using Microsoft.Extensions.Hosting;
using Micropay.Core.Channels;
using Micropay.Core.Engine;

namespace PayPerRequest.Server;

/// <summary>
/// Turns the gate's accepted payments into ledger money in the background: every <see cref="Interval"/>, it redeems the
/// best voucher of each lane that changed since the last pass (one <c>RedeemVouchersAsync</c> batch) and the best tick of
/// each chain that moved (one <c>RedeemTicksAsync</c> batch). A thousand requests on a lane cost the ledger one
/// redemption. Stopping runs a last pass, so nothing accepted is left unredeemed by a clean shutdown.
/// </summary>
/// <remarks>
/// Passes never overlap (a semaphore): the timer's and <see cref="RedeemNowAsync"/>'s. A redemption is idempotent on
/// (channel, lane, sequence), so a pass that fails half way is simply redone by the next. What the receivers hold is the
/// payee's money until redeemed: a real server also saves <c>ChannelReceiver.ExportState</c> between passes.
/// </remarks>
public sealed class BatchRedeemer : BackgroundService
{
    // Redemptions per ledger batch; well under LedgerEngineOptions.DefaultMaxBatchSize, so the engine's default suits.
    private const int BatchSize = 1024;

    private readonly LedgerEngine _engine;
    private readonly PaymentGate _gate;
    private readonly SemaphoreSlim _pass = new(1, 1);

    // What the last passes redeemed: (channel, lane) -> sequence, and channel -> tick index. Protected by _pass.
    private readonly Dictionary<(UInt128 Channel, uint Lane), ulong> _redeemedLanes = [];
    private readonly Dictionary<UInt128, uint> _redeemedTicks = [];

    // Statistics, written under _pass and read by anyone (Interlocked).
    private long _vouchersRedeemed;
    private long _ticksRedeemed;
    private long _batches;
    private long _failures;

    /// <summary>Creates the redeemer.</summary>
    /// <param name="engine">The ledger.</param>
    /// <param name="gate">The gate whose accepted payments it redeems.</param>
    /// <param name="interval">Time between passes.</param>
    public BatchRedeemer(LedgerEngine engine, PaymentGate gate, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _engine = engine;
        _gate = gate;
        Interval = interval;
    }

    /// <summary>Time between passes.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Vouchers redeemed (one per lane per pass in which the lane moved).</summary>
    public long VouchersRedeemed => Interlocked.Read(ref _vouchersRedeemed);

    /// <summary>Ticks redeemed (one per chain per pass in which it moved).</summary>
    public long TicksRedeemed => Interlocked.Read(ref _ticksRedeemed);

    /// <summary>Ledger batches submitted.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Redemptions the ledger refused (other than an idempotent <see cref="ChannelResult.AlreadyRedeemed"/>).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Runs one pass now, after any pass in progress.</summary>
    /// <param name="cancellationToken">Cancels the wait for a pass in progress and the submissions.</param>
    /// <returns>The redemptions the ledger applied in this pass.</returns>
    public async Task<int> RedeemNowAsync(CancellationToken cancellationToken = default)
    {
        await _pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RedeemVouchersAsync(cancellationToken).ConfigureAwait(false) + await RedeemTicksAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pass.Release();
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await RedeemNowAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _pass.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RedeemNowAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync runs the last pass.
        }
    }

    private async Task<int> RedeemVouchersAsync(CancellationToken cancellationToken)
    {
        var due = new List<Voucher>();
        foreach (ChannelReceiver receiver in _gate.Receivers)
        {
            foreach (Voucher best in receiver.BestVouchers())
            {
                if (!_redeemedLanes.TryGetValue((best.ChannelId, best.Lane), out ulong sequence) || sequence < best.Sequence)
                {
                    due.Add(best);
                }
            }
        }

        int applied = 0;
        var results = new ChannelResult[BatchSize];
        foreach (Voucher[] batch in due.Chunk(BatchSize))
        {
            await _engine.RedeemVouchersAsync(batch, results, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _batches);
            for (int i = 0; i < batch.Length; i++)
            {
                if (results[i] is ChannelResult.Ok or ChannelResult.AlreadyRedeemed)
                {
                    _redeemedLanes[(batch[i].ChannelId, batch[i].Lane)] = batch[i].Sequence;
                    applied += results[i] == ChannelResult.Ok ? 1 : 0;
                }
                else
                {
                    // Retryable refusals (ExceedsDeposit until a top-up) are tried again next pass; final ones are counted
                    // each pass, which a real server would alert on.
                    Interlocked.Increment(ref _failures);
                }
            }
        }

        Interlocked.Add(ref _vouchersRedeemed, applied);
        return applied;
    }

    private async Task<int> RedeemTicksAsync(CancellationToken cancellationToken)
    {
        var due = new List<Tick>();
        foreach (TickVerifier verifier in _gate.TickVerifiers)
        {
            if (verifier.TryGetBestTick(out Tick best) &&
                (!_redeemedTicks.TryGetValue(best.ChannelId, out uint index) || index < best.Index))
            {
                due.Add(best);
            }
        }

        int applied = 0;
        var results = new ChannelResult[BatchSize];
        foreach (Tick[] batch in due.Chunk(BatchSize))
        {
            await _engine.RedeemTicksAsync(batch, results, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _batches);
            for (int i = 0; i < batch.Length; i++)
            {
                if (results[i] is ChannelResult.Ok or ChannelResult.AlreadyRedeemed)
                {
                    _redeemedTicks[batch[i].ChannelId] = batch[i].Index;
                    applied += results[i] == ChannelResult.Ok ? 1 : 0;
                }
                else
                {
                    Interlocked.Increment(ref _failures);
                }
            }
        }

        Interlocked.Add(ref _ticksRedeemed, applied);
        return applied;
    }
}
