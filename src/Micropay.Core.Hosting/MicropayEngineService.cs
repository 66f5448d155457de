using System.Diagnostics;
using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting;

/// <summary>
/// Runs the engine for the host: opens it (recovering the journal) in <see cref="StartAsync"/>, so the host does not
/// report started before the ledger is ready; drains and closes it in <see cref="StopAsync"/>; in between, a monitor
/// loop logs a failure or a failed snapshot, which the engine only exposes as properties.
/// </summary>
internal sealed class MicropayEngineService : IHostedService, IAsyncDisposable
{
    private readonly IOptions<MicropayOptions> _options;
    private readonly MicropayEngineProvider _provider;
    private readonly MicropayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();

    // Set by StartAsync and StopAsync, which the host calls one after the other, never together.
    private Task _monitor = Task.CompletedTask;
    private Task _disposal = Task.CompletedTask;

    public MicropayEngineService(
        IOptions<MicropayOptions> options, MicropayEngineProvider provider, MicropayMetrics metrics, ILogger<MicropayEngineService> logger, TimeProvider? time = null)
    {
        _options = options;
        _provider = provider;
        _metrics = metrics;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        MicropayOptions options = _options.Value;
        string journal = options.Durability == DurabilityMode.InMemory ? "in memory" : options.JournalDirectory!;
        using Activity? activity = MicropayActivities.Source.StartActivity("Micropay.Core.Open");
        activity?.SetTag("micropay.durability", options.Durability.ToString());
        Log.EngineOpening(_logger, journal, options.Durability);
        long start = Stopwatch.GetTimestamp();
        LedgerEngine engine;
        try
        {
            // The file store opens (checks and replays the journal) synchronously inside OpenAsync; on the thread pool it
            // does not hold up the host's thread, nor hosted services that start concurrently with this one.
            engine = await Task.Run(() => OpenAsync(options, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.EngineOpenFailed(_logger, e, journal);
            throw;
        }

        _provider.SetRunning(engine);
        if (engine.DiscardedTailAtOpen is { } tail)
        {
            Log.JournalTailDiscarded(_logger, tail.Length, tail.Offset, tail.Location, tail.BatchNumber ?? 0, tail.Reason);
        }

        Log.EngineOpened(
            _logger, engine.InstanceId.ToString("X32", null), engine.ReleasedBatchNumber, engine.LatestSnapshotBatchNumber, engine.Durability,
            (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        activity?.SetTag("micropay.batch.released", engine.ReleasedBatchNumber.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _monitor = MonitorAsync(engine, options.MonitorInterval, _stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        LedgerEngine? engine = _provider.SetStopped();
        if (engine is null)
        {
            return;
        }

        using Activity? activity = MicropayActivities.Source.StartActivity("Micropay.Core.Stop");
        Log.EngineStopping(_logger, engine.ReleasedBatchNumber);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _monitor.ConfigureAwait(false);
        long start = Stopwatch.GetTimestamp();
        // Closing the store is synchronous file work; the thread pool does it, so the host's thread is not held.
        _disposal = Task.Run(() => engine.DisposeAsync().AsTask(), CancellationToken.None);
        try
        {
            await _disposal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host gives up waiting; the engine still finishes what it accepted. DisposeAsync awaits it.
            activity?.SetStatus(ActivityStatusCode.Error, "shutdown timeout");
            Log.EngineStopAbandoned(_logger);
            return;
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.EngineStopFailed(_logger, e);
            throw;
        }

        Log.EngineStopped(_logger, engine.ReleasedBatchNumber, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    public async ValueTask DisposeAsync()
    {
        // A host disposed without stopping still closes the journal (and releases its lock).
        if (_provider.SetStopped() is { } engine)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _monitor.ConfigureAwait(false);
            _disposal = engine.DisposeAsync().AsTask();
        }

        try
        {
            await _disposal.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.EngineStopFailed(_logger, e);
        }

        _stopping.Dispose();
    }

    private async Task<LedgerEngine> OpenAsync(MicropayOptions options, CancellationToken cancellationToken)
    {
        ILedgerStore? store = options.Durability == DurabilityMode.InMemory
            ? null
            : new MeteredLedgerStore(
                new FileLedgerStore(options.JournalDirectory!, new FileLedgerStoreOptions
                {
                    SegmentSizeBytes = options.SegmentSizeBytes,
                    SnapshotsToKeep = options.SnapshotsToKeep,
                    VerifyHashChainOnOpen = options.VerifyHashChainOnOpen,
                    DropJournalFromPageCache = options.DropJournalFromPageCache,
                }),
                _metrics);
        LedgerEngineOptions engineOptions;
        try
        {
            engineOptions = MapOptions(options, store);
            if (options.ConfigureEngine is { } configure)
            {
                engineOptions = configure(engineOptions)
                    ?? throw new InvalidOperationException($"{nameof(MicropayOptions)}.{nameof(MicropayOptions.ConfigureEngine)} returned null; it must return the options to open with.");
            }
        }
        catch
        {
            if (store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        if (store is not null && !ReferenceEquals(engineOptions.Store, store))
        {
            // The callback brought its own store; ours was never opened.
            await store.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            return await LedgerEngine.OpenAsync(engineOptions, cancellationToken).ConfigureAwait(false);
        }
        catch when (engineOptions.Store is { } owned && engineOptions.Durability != DurabilityMode.InMemory)
        {
            // OpenAsync disposes the store when recovery fails, but not when it refuses the options first; disposing
            // twice is harmless, leaving the journal locked is not.
            await owned.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static LedgerEngineOptions MapOptions(MicropayOptions options, ILedgerStore? store)
    {
        AuditOptions? audit = null;
        if (!string.IsNullOrWhiteSpace(options.AuditDirectory))
        {
            var defaults = new AuditOptions();
            audit = new AuditOptions
            {
                Directory = options.AuditDirectory,
                Origin = options.AuditOrigin,
                CheckpointEveryBatches = options.AuditCheckpointEveryBatches ?? defaults.CheckpointEveryBatches,
                CheckpointInterval = options.AuditCheckpointInterval ?? defaults.CheckpointInterval,
            };
        }

        return new LedgerEngineOptions
        {
            Store = store,
            Durability = options.Durability,
            MaxBatchSize = options.MaxBatchSize,
            IngressCapacity = options.IngressCapacity,
            SnapshotIntervalBatches = options.SnapshotIntervalBatches,
            ClockPulses = options.ClockPulses,
            OperatorKey = options.OperatorKey,
            Audit = audit,
            AccountCapacity = options.AccountCapacity,
            TransferCapacity = options.TransferCapacity,
        };
    }

    /// <summary>
    /// Polls the engine's failure and snapshot state and logs each change once. Polling, because the engine raises no
    /// events; its properties are single volatile reads, so a poll costs nothing the engine notices.
    /// </summary>
    private async Task MonitorAsync(LedgerEngine engine, TimeSpan interval, CancellationToken cancellationToken)
    {
        Exception? reportedSnapshotError = engine.LastSnapshotError;
        ulong reportedSnapshot = engine.LatestSnapshotBatchNumber;
        bool reportedFailure = false;
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!reportedFailure && engine.Failure is { } failure)
                {
                    reportedFailure = true;
                    Log.EngineFaulted(_logger, failure);
                }

                Exception? snapshotError = engine.LastSnapshotError;
                if (snapshotError is not null && !ReferenceEquals(snapshotError, reportedSnapshotError))
                {
                    Log.SnapshotFailed(_logger, snapshotError, engine.LatestSnapshotBatchNumber);
                }

                reportedSnapshotError = snapshotError;
                ulong snapshot = engine.LatestSnapshotBatchNumber;
                if (snapshot != reportedSnapshot)
                {
                    reportedSnapshot = snapshot;
                    Log.SnapshotWritten(_logger, snapshot);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
