using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Micropay.Core.Channels;
using Micropay.Core.Engine;

namespace Micropay.Core.Hosting;

/// <summary>
/// The running <see cref="LedgerEngine"/>, for dependency injection: a singleton whose <see cref="Engine"/> is set when
/// the host starts (the engine opens in the hosted service's start) and cleared when it stops. Resolve the engine when
/// it is used, not in a constructor, which may run before the host has started.
/// </summary>
public sealed class MicropayEngineProvider
{
    private const int NotStarted = 0;
    private const int Running = 1;
    private const int Stopped = 2;

    private readonly MicropayMetrics _metrics;
    private readonly TaskCompletionSource<LedgerEngine> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Written by the hosted service (start, stop), read by any thread.
    private LedgerEngine? _engine;
    private int _state;

    internal MicropayEngineProvider(MicropayMetrics metrics)
    {
        _metrics = metrics;
    }

    /// <summary>The running engine.</summary>
    /// <exception cref="InvalidOperationException">The host has not started the engine yet, or has stopped it.</exception>
    public LedgerEngine Engine => Volatile.Read(ref _engine) ?? throw NotRunning();

    /// <summary>Whether the engine is open (the host has started it and not yet stopped it).</summary>
    public bool IsRunning => Volatile.Read(ref _engine) is not null;

    /// <summary>Gets the running engine without throwing.</summary>
    /// <param name="engine">The engine, or <see langword="null"/> when it is not running.</param>
    /// <returns>Whether the engine is running.</returns>
    public bool TryGetEngine([NotNullWhen(true)] out LedgerEngine? engine)
    {
        engine = Volatile.Read(ref _engine);
        return engine is not null;
    }

    /// <summary>
    /// Completes with the engine once the host has opened it, for work that starts alongside the host (a
    /// <c>BackgroundService</c> may run before the engine's hosted service has started). Never blocks.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The engine. It may have been stopped since; <see cref="LedgerEngine"/> then refuses work.</returns>
    /// <exception cref="InvalidOperationException">The engine was stopped before it was ever reached here.</exception>
    public Task<LedgerEngine> WaitForEngineAsync(CancellationToken cancellationToken = default) => _started.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Redeems a voucher through the running engine (<see cref="LedgerEngine.RedeemVoucherAsync"/>), recording a refusal in
    /// the <see cref="MicropayDiagnostics.RedemptionsRejected"/> counter with its reason, inside a "Micropay.Core.RedeemVoucher" activity.
    /// </summary>
    /// <param name="voucher">The voucher.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The engine's result.</returns>
    /// <exception cref="InvalidOperationException">The engine is not running.</exception>
    public async ValueTask<ChannelResult> RedeemVoucherAsync(Voucher voucher, CancellationToken cancellationToken = default)
    {
        LedgerEngine engine = Engine;
        using Activity? activity = MicropayActivities.Source.StartActivity("Micropay.Core.RedeemVoucher");
        ChannelResult result = await engine.RedeemVoucherAsync(voucher, cancellationToken).ConfigureAwait(false);
        Observe(result, tick: false, activity);
        return result;
    }

    /// <summary>
    /// Redeems a hash-chain tick through the running engine (<see cref="LedgerEngine.RedeemTickAsync"/>), recording a refusal
    /// in the <see cref="MicropayDiagnostics.RedemptionsRejected"/> counter with its reason, inside a "Micropay.Core.RedeemTick" activity.
    /// </summary>
    /// <param name="tick">The tick.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event.</param>
    /// <returns>The engine's result.</returns>
    /// <exception cref="InvalidOperationException">The engine is not running.</exception>
    public async ValueTask<ChannelResult> RedeemTickAsync(Tick tick, CancellationToken cancellationToken = default)
    {
        LedgerEngine engine = Engine;
        using Activity? activity = MicropayActivities.Source.StartActivity("Micropay.Core.RedeemTick");
        ChannelResult result = await engine.RedeemTickAsync(tick, cancellationToken).ConfigureAwait(false);
        Observe(result, tick: true, activity);
        return result;
    }

    internal void SetRunning(LedgerEngine engine)
    {
        Volatile.Write(ref _engine, engine);
        Volatile.Write(ref _state, Running);
        _metrics.Attach(engine);
        _started.TrySetResult(engine);
    }

    /// <summary>Clears the engine (new callers get the "stopped" error) and returns it for disposal, or null if none ran.</summary>
    internal LedgerEngine? SetStopped()
    {
        Volatile.Write(ref _state, Stopped);
        _metrics.Detach();
        _started.TrySetException(new InvalidOperationException("The Micropay ledger engine was stopped before it started."));
        return Interlocked.Exchange(ref _engine, null);
    }

    private void Observe(ChannelResult result, bool tick, Activity? activity)
    {
        if (result != ChannelResult.Ok)
        {
            _metrics.RedemptionRejected(result, tick);
            activity?.SetTag(MicropayDiagnostics.ReasonTag, result.ToString());
        }
    }

    private InvalidOperationException NotRunning() => new(Volatile.Read(ref _state) == Stopped
        ? "The Micropay ledger engine has stopped: the host is shutting down (or stopped), and accepts no more work."
        : "The Micropay ledger engine is not running yet: it opens when the host starts (IHost.StartAsync). Resolve "
          + "MicropayEngineProvider.Engine when it is used, not in a constructor, or await WaitForEngineAsync.");
}
