using System.Globalization;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Ledger;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// Opening a durable <see cref="LedgerEngine"/>: recovery from the latest snapshot plus replay of the journal after it
/// (<see cref="OpenWithSnapshot"/>), against replaying the whole journal without a snapshot (<see cref="OpenByReplay"/>).
/// </summary>
/// <remarks>
/// <para>
/// Setup (not measured) builds a <see cref="FileLedgerStore"/> with 1,000,000 accounts and <see cref="Transfers"/>
/// simple transfers in batches of 8,189, takes a snapshot, then applies 10 more batches (so opening replays them);
/// the no-snapshot variant gets the same journal without the snapshot. Each iteration opens the engine and the
/// cleanup disposes it. The figure includes the store's open (recovery scan), reading and checking the snapshot,
/// <c>LedgerStateMachine.ReadSnapshot</c>, replay, and building the engine's read side.
/// </para>
/// <para>
/// CI's dry run uses 1,000,000 transfers; set <c>MICROPAY_OPEN_BENCH_TRANSFERS</c> (e.g. <c>10000000</c>) for the
/// issue's 10M figure (setup then takes about a minute and ~6 GB of RAM). Iterations after the first reuse memory the
/// process has already touched; the first open of a fresh process also pays the kernel for fresh pages (see
/// docs/ARCHITECTURE.md 4.13), which <c>--open-time</c> measures separately.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class EngineOpenBenchmarks
{
    private const string SizeVariable = "MICROPAY_OPEN_BENCH_TRANSFERS";

    private string? _withSnapshot;
    private string? _withoutSnapshot;
    private LedgerEngine? _engine;

    /// <summary>Transfers in the ledger: <c>MICROPAY_OPEN_BENCH_TRANSFERS</c>, or 1,000,000.</summary>
    [ParamsSource(nameof(Sizes))]
    public int Transfers { get; set; }

    /// <summary>The sizes to run.</summary>
    public static IEnumerable<int> Sizes =>
        Environment.GetEnvironmentVariable(SizeVariable) is { Length: > 0 } sizes
            ? sizes.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            : [1_000_000];

    /// <summary>Builds the store with a snapshot.</summary>
    [GlobalSetup(Target = nameof(OpenWithSnapshot))]
    public void GlobalSetupSnapshot() => _withSnapshot = Build(Transfers, snapshot: true);

    /// <summary>Builds the store without a snapshot.</summary>
    [GlobalSetup(Target = nameof(OpenByReplay))]
    public void GlobalSetupReplay() => _withoutSnapshot = Build(Transfers, snapshot: false);

    /// <summary>Disposes the engine opened by the iteration.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine = null;
    }

    /// <summary>Deletes the store directories.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        foreach (string? directory in new[] { _withSnapshot, _withoutSnapshot })
        {
            if (directory is not null && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Opens from the latest snapshot plus 10 batches of journal.</summary>
    [Benchmark(Baseline = true)]
    public void OpenWithSnapshot() => _engine = Open(_withSnapshot!);

    /// <summary>Opens by replaying the whole journal.</summary>
    [Benchmark]
    public void OpenByReplay() => _engine = Open(_withoutSnapshot!);

    /// <summary>
    /// Builds a store, then opens it in a fresh child process (<see cref="RunOpenInThisProcess"/>) and reports how long
    /// that first open took: the <c>--open-time</c> report.
    /// </summary>
    /// <param name="output">Where the report goes.</param>
    /// <param name="transfers">Transfers in the ledger.</param>
    /// <param name="keep">
    /// A directory to keep the store in, or null for a temporary one deleted afterwards. A directory that already holds
    /// a store is opened as it is (no build), so repeated measurements can share one build.
    /// </param>
    /// <returns>The child's exit code (0 when the open succeeded).</returns>
    public static int RunColdOpenReport(TextWriter output, int transfers, string? keep = null)
    {
        bool reuse = keep is not null && Directory.Exists(keep) && Directory.EnumerateFiles(keep, "segment-*").Any();
        string directory = reuse ? keep! : Build(transfers, snapshot: true, keep);
        try
        {
            // A child process, so the open pays for fresh pages as a real restart would (the build's memory, freed or
            // not, cannot be reused by it).
            string host = Environment.ProcessPath!;
            var start = new System.Diagnostics.ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            {
                start.ArgumentList.Add(typeof(EngineOpenBenchmarks).Assembly.Location);
            }

            start.ArgumentList.Add("--open-store");
            start.ArgumentList.Add(directory);
            using var child = System.Diagnostics.Process.Start(start)!;
            string report = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            output.Write(report);
            return child.ExitCode;
        }
        finally
        {
            if (keep is null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Opens the store in <paramref name="directory"/> in this process and reports the time: <c>--open-store</c>.</summary>
    /// <param name="output">Where the report goes.</param>
    /// <param name="directory">A store built by <see cref="RunColdOpenReport"/>.</param>
    public static void RunOpenInThisProcess(TextWriter output, string directory)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        LedgerEngine engine = Open(directory);
        TimeSpan elapsed = stopwatch.Elapsed;
        int accounts = engine.ReadAllAccounts().Length;
        engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Open of '{directory}' ({accounts:N0} accounts; a snapshot plus 10 batches of journal): {elapsed.TotalMilliseconds:N0} ms (first open of a fresh process)"));
    }

    private static LedgerEngine Open(string directory) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(directory) }).AsTask().GetAwaiter().GetResult();

    private static string Build(int transfers, bool snapshot, string? directory = null)
    {
        directory ??= Path.Combine(Path.GetTempPath(), "micropay-open-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        Account[] accounts = TransferWorkload.CreateAccounts();
        var random = new Random(7);

        // Buffered: the journal is the same as in durable mode, without waiting for each fsync.
        LedgerEngine engine = LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(directory),
            Durability = DurabilityMode.Buffered,
            AccountCapacity = accounts.Length,
            TransferCapacity = transfers + (11 * TransferWorkload.BatchSize),
        }).AsTask().GetAwaiter().GetResult();
        try
        {
            var accountResults = new CreateAccountResult[TransferWorkload.BatchSize];
            for (int start = 0; start < accounts.Length; start += TransferWorkload.BatchSize)
            {
                int count = Math.Min(TransferWorkload.BatchSize, accounts.Length - start);
                Check(engine.CreateAccountsAsync(accounts.AsMemory(start, count), accountResults).AsTask().GetAwaiter().GetResult());
            }

            var batch = new Transfer[TransferWorkload.BatchSize];
            var results = new CreateTransferResult[TransferWorkload.BatchSize];
            ulong nextId = 1;
            void Submit(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    int debit = random.Next(accounts.Length);
                    int credit = (debit + 1 + random.Next(accounts.Length - 1)) % accounts.Length;
                    batch[i] = new Transfer
                    {
                        Id = nextId++,
                        DebitAccountId = accounts[debit].Id,
                        CreditAccountId = accounts[credit].Id,
                        Amount = 1,
                        LedgerId = TransferWorkload.LedgerId,
                        Code = 1,
                    };
                }

                Check(engine.CreateTransfersAsync(batch.AsMemory(0, count), results).AsTask().GetAwaiter().GetResult());
            }

            for (int done = 0; done < transfers; done += TransferWorkload.BatchSize)
            {
                Submit(Math.Min(TransferWorkload.BatchSize, transfers - done));
            }

            if (snapshot)
            {
                engine.TakeSnapshotAsync().AsTask().GetAwaiter().GetResult();
            }

            for (int i = 0; i < 10; i++)
            {
                Submit(TransferWorkload.BatchSize);
            }
        }
        finally
        {
            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return directory;
    }

    private static void Check(int failed)
    {
        if (failed != 0)
        {
            throw new InvalidOperationException($"{failed} events of the benchmark's setup failed.");
        }
    }
}
