using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Micropay.Core.Hosting.Tests;

/// <summary>
/// A failing store, put in through <see cref="MicropayOptions.ConfigureEngine"/>: the engine's failure and failed
/// snapshots reach the health check and the log.
/// </summary>
public sealed class MicropayFailureTests : HostingTestKit
{
    [Fact]
    public async Task AppendFails_EngineStops_HealthIsUnhealthyAndEngineFaultedIsLogged()
    {
        var logs = new CapturingLoggerProvider();
        FailingLedgerStore? store = null;
        using IHost host = BuildFailingHost(logs, s => store = s);
        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        store!.FailAppends = true;
        await Assert.ThrowsAsync<LedgerEngineException>(async () => await engine.CreateAccountAsync(Acct(2)));

        Assert.NotNull(engine.Failure);
        HealthReportEntry entry = (await health.CheckHealthAsync()).Entries["micropay"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Same(engine.Failure, entry.Exception);
        CapturingLoggerProvider.LogEntry faulted = await WaitForLogAsync(logs, MicropayEventIds.EngineFaulted);
        Assert.Equal(LogLevel.Critical, faulted.Level);
        Assert.Same(engine.Failure, faulted.Exception);
        await host.StopAsync();
        Assert.Single(logs.WithId(MicropayEventIds.EngineFaulted));
    }

    [Fact]
    public async Task SnapshotFails_HealthIsDegradedAndSnapshotFailedIsLogged()
    {
        var logs = new CapturingLoggerProvider();
        FailingLedgerStore? store = null;
        using IHost host = BuildFailingHost(logs, s => store = s);
        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));

        store!.FailSnapshots = true;
        await Assert.ThrowsAsync<LedgerEngineException>(async () => await engine.TakeSnapshotAsync());

        HealthReportEntry entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["micropay"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("snapshot failed", entry.Description, StringComparison.Ordinal);
        CapturingLoggerProvider.LogEntry failed = await WaitForLogAsync(logs, MicropayEventIds.SnapshotFailed);
        Assert.Same(engine.LastSnapshotError, failed.Exception);
        Assert.Null(engine.Failure);

        // The next snapshot succeeds: healthy again, and the monitor reports the new snapshot.
        store.FailSnapshots = false;
        ulong snapshot = await engine.TakeSnapshotAsync();
        Assert.Equal(HealthStatus.Healthy, (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Status);
        CapturingLoggerProvider.LogEntry written = await WaitForLogAsync(logs, MicropayEventIds.SnapshotWritten);
        Assert.Equal(snapshot, written.State.Single(p => p.Key == "SnapshotBatchNumber").Value);
        await host.StopAsync();
    }

    [Fact]
    public async Task StoreStalls_SubmissionsQueueInTheRingAndTheGaugeShowsThem()
    {
        FailingLedgerStore? store = null;
        using IHost host = BuildFailingHost(new CapturingLoggerProvider(), s => store = s, maxBatchSize: 1);
        using var metrics = new MetricRecorder(host.Services.GetRequiredService<MicropayMetrics>().Meter);
        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;

        // One event per batch, two batches in flight while the store stalls: the rest wait in the ring.
        store!.Stall();
        var pending = new Task<CreateAccountResult>[10];
        for (int i = 0; i < pending.Length; i++)
        {
            pending[i] = engine.CreateAccountAsync(Acct((UInt128)(i + 1))).AsTask();
        }

        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            while (engine.IngressDepth < pending.Length - 3)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        metrics.Observe();
        Assert.InRange(metrics.Of(MicropayDiagnostics.IngressDepth)[^1].Value, pending.Length - 3, pending.Length);
        Assert.All(pending, p => Assert.False(p.IsCompleted));

        store.Release();
        Assert.All(await Task.WhenAll(pending), r => Assert.Equal(CreateAccountResult.Ok, r));
        Assert.Equal(0, engine.IngressDepth);
        await host.StopAsync();
    }

    [Fact]
    public async Task MeteredStore_AppendFails_CountsTheFailureAndRethrows()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        MicropayMetrics metrics = host.Services.GetRequiredService<MicropayMetrics>();
        using var recorder = new MetricRecorder(metrics.Meter);
        await using var failing = new FailingLedgerStore(new InMemoryLedgerStore()) { FailAppends = true };
        var metered = new MeteredLedgerStore(failing, metrics);
        Assert.Equal(LedgerStoreCapabilities.None, metered.Capabilities & LedgerStoreCapabilities.EncodedAppend);
        var batch = new CommitBatch(new CommitBatchHeader(1, BatchOperation.CreateTransfers, 1, 0, default, default), ReadOnlyMemory<byte>.Empty);

        await Assert.ThrowsAsync<IOException>(async () => await metered.AppendAsync(batch));

        MetricRecorder.Recorded failure = Assert.Single(recorder.Of(MicropayDiagnostics.AppendFailures));
        Assert.Equal(nameof(BatchOperation.CreateTransfers), failure.Tags[MicropayDiagnostics.OperationTag]);
        Assert.Empty(recorder.Of(MicropayDiagnostics.Transfers));
    }

    private IHost BuildFailingHost(CapturingLoggerProvider logs, Action<FailingLedgerStore> created, int maxBatchSize = LedgerEngineOptions.DefaultMaxBatchSize) =>
        BuildHost(
            logs,
            options =>
            {
                options.MonitorInterval = TimeSpan.FromMilliseconds(20);
                options.ConfigureEngine = given =>
                {
                    // A store of the test's own, in a directory of its own: the one the service made goes unopened.
                    var store = new FailingLedgerStore(new FileLedgerStore(Path.Combine(Root, "failing")));
                    created(store);
                    return new LedgerEngineOptions { Store = store, Durability = given.Durability, IngressCapacity = given.IngressCapacity, MaxBatchSize = maxBatchSize };
                };
            },
            services => services.AddHealthChecks().AddMicropay(configure: thresholds =>
            {
                thresholds.DegradedBelowFreeBytes = 0;
                thresholds.UnhealthyBelowFreeBytes = 0;
            }));

    /// <summary>Waits for the monitor loop's next poll to log the event (no timing is asserted: it only bounds a hang).</summary>
    private static async Task<CapturingLoggerProvider.LogEntry> WaitForLogAsync(CapturingLoggerProvider logs, int eventId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            if (logs.WithId(eventId) is [var entry, ..])
            {
                return entry;
            }

            await Task.Delay(10, timeout.Token);
        }
    }
}
