using System.Diagnostics;
using System.Runtime;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Storage;
using Xunit.Abstractions;

namespace Micropay.Core.Tests.Soak;

/// <summary>
/// The durable engine with every feature on (accounts, transfers, holds with timeouts, linked chains, channels with
/// vouchers, ticks, closes and expiries, keys and signed orders, the audit log, snapshots and compaction) at a steady load
/// for a bounded time, sampling its managed heap, working set, open files and disk use, and failing on growth the data
/// does not explain (<see cref="SoakAnalysis"/> says how each is judged and why).
/// </summary>
/// <remarks>
/// Run it with <c>MICROPAY_SOAK_SECONDS=600 dotnet test tests/Micropay.Core.Tests -c Release --filter
/// "FullyQualifiedName~EngineSoakTests.DurableEngine_AllFeaturesAtSteadyLoad" --logger "console;verbosity=detailed"</c>
/// (default 120 s); <c>MICROPAY_SOAK_REPORT</c> names a file for the report. The class is its own collection with
/// parallelization disabled: no other test may allocate while it measures the heap.
/// </remarks>
[CollectionDefinition(nameof(EngineSoakTests), DisableParallelization = true)]
[Collection(nameof(EngineSoakTests))]
public sealed class EngineSoakTests(ITestOutputHelper output) : TemporaryDirectoryTest("micropay-soak-")
{
    private static readonly SigningKey Operator = SigningKey.Import(Convert.FromHexString("5050505050505050505050505050505050505050505050505050505050505050"), SigningKeyFormat.RawSeed);

    [Fact]
    [Trait("Category", "Stress")]
    public async Task DurableEngine_AllFeaturesAtSteadyLoad_GrowsOnlyWithItsData()
    {
        SoakAnalysis analysis = await RunAsync(SoakSettings.FromEnvironment());

        Assert.True(analysis.Violations.Count == 0, analysis.Report);
    }

    /// <summary>
    /// The same run (<c>MICROPAY_SOAK_LEAK_SECONDS</c>, default 150 s) with each round's 16-transfer batch kept in a static
    /// list (about 2 KiB a round, quiet rounds included): the check must fail on the managed heap, and only there.
    /// </summary>
    [Fact]
    [Trait("Category", "Stress")]
    public async Task DurableEngine_WithAPlantedLeak_FailsOnTheManagedHeap()
    {
        try
        {
            SoakAnalysis analysis = await RunAsync(SoakSettings.FromEnvironment("MICROPAY_SOAK_LEAK_SECONDS", 150) with { PlantLeak = true });

            Assert.Contains(analysis.Violations, v => v.StartsWith("managed heap", StringComparison.Ordinal));
            Assert.All(analysis.Violations, v => Assert.True(v.StartsWith("managed heap", StringComparison.Ordinal) || v.StartsWith("working set", StringComparison.Ordinal), v));
        }
        finally
        {
            SoakWorkload.ReleasePlantedLeak();
        }
    }

    private async Task<SoakAnalysis> RunAsync(SoakSettings settings)
    {
        string ledgerDirectory = Path.Combine(Directory, "ledger");
        string auditDirectory = Path.Combine(Directory, "audit");
        LedgerEngineOptions Options(FileLedgerStore store) => new()
        {
            Store = store,
            SnapshotIntervalBatches = 0,
            OperatorKey = Operator,
            Audit = new AuditOptions { Directory = auditDirectory },
        };

        // An engine's own heap with no data (its ring, buffers and pools): an open of an empty directory. Each open is in
        // a method of its own, so no hoisted local keeps a disposed engine reachable.
        var storeOptions = new FileLedgerStoreOptions { SegmentSizeBytes = settings.SegmentSizeBytes };
        long heapBeforeEmpty = await SettledHeapAsync();
        long heapEmptyOpen = await HeapWithEngineOpenAsync(
            new LedgerEngineOptions
            {
                Store = new FileLedgerStore(Path.Combine(Directory, "empty"), storeOptions),
                OperatorKey = Operator,
                Audit = new AuditOptions { Directory = Path.Combine(Directory, "empty-audit") },
            },
            _ => { });

        long heapBefore = await SettledHeapAsync();
        var clock = Stopwatch.StartNew();
        var samples = new List<SoakSample>();
        IReadOnlyDictionary<string, long> outcomes = await RunLoadAsync(Options(new FileLedgerStore(ledgerDirectory, storeOptions)), settings, clock, samples, ledgerDirectory, auditDirectory);

        // What the data costs: the heap of a fresh open of the same directory above the heap just before it, less an
        // empty engine's.
        long heapDisposed = await SettledHeapAsync();
        long heapReopened = await HeapWithEngineOpenAsync(Options(new FileLedgerStore(ledgerDirectory, storeOptions)), reopened =>
        {
            // Clock pulses after the last sample may still have refunded a channel or two (a transfer each).
            Assert.Equal(samples[^1].Accounts, reopened.ReadAllAccounts().Length);
            Assert.InRange(reopened.TransferCount, samples[^1].Transfers, samples[^1].Transfers + 64);
        });
        var analysis = SoakAnalysis.Analyse(settings, samples, new SoakHeap(heapBefore, heapDisposed, heapReopened, heapBeforeEmpty, heapEmptyOpen), outcomes);
        output.WriteLine(analysis.Report);
        if (settings.ReportPath is { } path)
        {
            await File.WriteAllTextAsync(path, analysis.Report);
            await File.WriteAllLinesAsync(path + ".csv", samples.Select(s => s.ToString()));
        }

        return analysis;
    }

    /// <summary>
    /// Opens the engine, runs the load and the maintenance, samples, and disposes the engine: when it returns nothing
    /// references the engine, its store or the workload (the heap after it is the heap without them).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, long>> RunLoadAsync(
        LedgerEngineOptions options, SoakSettings settings, Stopwatch clock, List<SoakSample> samples, string ledgerDirectory, string auditDirectory)
    {
        var segmentSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var store = (FileLedgerStore)options.Store!;
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(options);
        var workload = new SoakWorkload(engine, settings, clock);
        await workload.SetUpAsync();
        using var stop = new CancellationTokenSource();

        // A snapshot's copy of the state is garbage once written, but a sample taken while it is held would count it
        // (megabytes): snapshots and samples take turns.
        using var turns = new SemaphoreSlim(1, 1);
        Task load = workload.RunAsync(stop.Token);
        Task maintenance = MaintainAsync(engine, store, settings, turns, stop.Token);
        try
        {
            while (clock.Elapsed < settings.Duration && !load.IsCompleted && !maintenance.IsCompleted)
            {
                await Task.WhenAny(load, maintenance, Task.Delay(settings.SampleInterval));
                await turns.WaitAsync(CancellationToken.None);
                try
                {
                    samples.Add(Sample(engine, workload, clock, ledgerDirectory, auditDirectory, segmentSizes));
                }
                finally
                {
                    turns.Release();
                }

                SoakSample s = samples[^1];
                output.WriteLine($"{s.Seconds,5:F0} s heap {s.ManagedHeap >> 20} MiB rss {s.WorkingSet >> 20} MiB fds {s.OpenFiles} journal {s.JournalOnDisk >> 20} MiB " +
                                 $"snapshots {s.SnapshotsOnDisk >> 20} MiB audit {s.AuditOnDisk >> 20} MiB transfers {s.Transfers:N0} holds queued {s.HoldExpiryEntries:N0} " +
                                 $"channel deadlines {s.ChannelDeadlineEntries:N0}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load, maintenance);
        }

        // The last sample, with the load stopped: the data a fresh open will hold.
        samples.Add(Sample(engine, workload, clock, ledgerDirectory, auditDirectory, segmentSizes));
        Assert.Null(engine.Failure);
        return new Dictionary<string, long>(workload.Outcomes, StringComparer.Ordinal);
    }

    /// <summary>The heap once a disposed engine's threads have surely ended.</summary>
    private static async Task<long> SettledHeapAsync()
    {
        await Task.Delay(500);
        return CollectedHeap();
    }

    private static async Task<long> HeapWithEngineOpenAsync(LedgerEngineOptions options, Action<LedgerEngine> check)
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(options);
        check(engine);
        return CollectedHeap();
    }

    /// <summary>A snapshot every interval, then compaction of the journal it covers.</summary>
    private static async Task MaintainAsync(LedgerEngine engine, FileLedgerStore store, SoakSettings settings, SemaphoreSlim turns, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(settings.SnapshotInterval, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await turns.WaitAsync(CancellationToken.None);
            try
            {
                ulong batch = await engine.TakeSnapshotAsync(CancellationToken.None);
                var wait = Stopwatch.StartNew();
                while (engine.LatestSnapshotBatchNumber < batch && engine.LastSnapshotError is null && wait.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(50, CancellationToken.None);
                }

                Assert.Null(engine.LastSnapshotError);
                await store.CompactAsync(CancellationToken.None);
            }
            finally
            {
                turns.Release();
            }
        }
    }

    private static SoakSample Sample(LedgerEngine engine, SoakWorkload workload, Stopwatch clock, string ledgerDirectory, string auditDirectory, Dictionary<string, long> segmentSizes)
    {
        // The data first (the sums allocate), then a full compacting collection, then the resources.
        (int holds, int channelDeadlines, int burnt) = engine.WriterCountsUnsynchronized;
        long accounts = engine.ReadAllAccounts().Length; // the workload's and the channels' escrow accounts
        long transfers = engine.TransferCount;
        long events = engine.DurableAuditTreeSize;
        long journal = 0, snapshots = 0, latestSnapshot = 0, other = 0;
        int segments = 0, snapshotFiles = 0;
        string latestName = "";
        foreach (FileInfo file in new DirectoryInfo(ledgerDirectory).EnumerateFiles())
        {
            long length;
            try
            {
                length = file.Length;
            }
            catch (FileNotFoundException)
            {
                continue; // deleted by compaction or snapshot pruning meanwhile
            }

            if (file.Name.EndsWith(".seg", StringComparison.Ordinal))
            {
                journal += length;
                segments++;
                segmentSizes[file.Name] = Math.Max(segmentSizes.GetValueOrDefault(file.Name), length);
            }
            else if (file.Name.EndsWith(".snap", StringComparison.Ordinal))
            {
                snapshots += length;
                snapshotFiles++;
                if (string.CompareOrdinal(file.Name, latestName) > 0)
                {
                    latestName = file.Name;
                    latestSnapshot = length;
                }
            }
            else
            {
                other += length;
            }
        }

        long audit = new DirectoryInfo(auditDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Exists ? f.Length : 0);
        double seconds = clock.Elapsed.TotalSeconds;
        var sample = new SoakSample
        {
            Seconds = seconds,
            JournalOnDisk = journal,
            SegmentFiles = segments,
            SnapshotsOnDisk = snapshots,
            SnapshotFiles = snapshotFiles,
            LatestSnapshot = latestSnapshot,
            OtherLedgerFiles = other,
            AuditOnDisk = audit,
            JournalWritten = segmentSizes.Values.Sum(),
            Events = events,
            Accounts = accounts,
            Transfers = transfers,
            BurntIds = burnt,
            Channels = workload.Channels,
            Keys = workload.Keys,
            Rounds = workload.Rounds,
            HoldExpiryEntries = holds,
            ChannelDeadlineEntries = channelDeadlines,
            RecentTimedHolds = workload.TimedHoldsInLast((int)SoakWorkload.LongestHoldTimeout + 15),
            RecentChannels = workload.ChannelsInLast(3600 + 60),
        };

        long heap = CollectedHeap();
        using Process process = Process.GetCurrentProcess();
        return sample with
        {
            ManagedHeap = heap,
            WorkingSet = process.WorkingSet64,
            OpenFiles = OperatingSystem.IsLinux() ? System.IO.Directory.GetFiles("/proc/self/fd").Length : process.HandleCount,
        };
    }

    private static long CollectedHeap()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
