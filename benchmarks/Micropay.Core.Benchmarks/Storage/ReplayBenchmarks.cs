using BenchmarkDotNet.Attributes;
using CustomStorageAdapter;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// Replay speed: reading a journal of 999,058 events (122 batches of 8,189, like the ledger benchmarks' workload)
/// back with <see cref="ILedgerStore.ReadBatchesAsync"/>, as the engine does on recovery, from
/// <see cref="FileLedgerStore"/> and the sample's <see cref="SqliteLedgerStore"/>, against reading the same bytes from
/// a plain file (the baseline: no framing, no checks). Times are per event (<c>OperationsPerInvoke</c>), so
/// <c>Op/s</c> is events per second (<see cref="ReplayThroughputConfig"/>).
/// </summary>
/// <remarks>
/// The journal is written once per case in the global setup (about 128 MB, one fsync per batch), the store closed
/// and reopened, and deleted in the global cleanup. Every measured replay checks it read every event. The data is
/// then in the operating system's page cache: these are figures for a warm replay, the store's own cost, not the
/// disk's read speed.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(ReplayThroughputConfig))]
[InvocationCount(1, 1)]
public class ReplayBenchmarks
{
    /// <summary>Batches in the journal.</summary>
    public const int BatchCount = 122;

    /// <summary>Events per batch.</summary>
    public const int EventsPerBatch = 8189;

    /// <summary>Events in the journal: 999,058.</summary>
    public const int EventCount = BatchCount * EventsPerBatch;

    private string? _directory;
    private ILedgerStore? _store;
    private string? _rawPath;
    private readonly byte[] _readBuffer = new byte[1 << 20];

    /// <summary>Writes the journal as a plain file of encoded batches.</summary>
    [GlobalSetup(Target = nameof(RawFile_SequentialRead))]
    public void GlobalSetupRaw()
    {
        BatchChain chain = BatchChain.Create(BatchCount, EventsPerBatch);
        _directory = BatchChain.NewDirectory();
        _rawPath = Path.Combine(_directory, "raw.journal");
        using (var file = new FileStream(_rawPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            foreach (byte[] encoded in chain.Encoded)
            {
                file.Write(encoded);
                file.Flush(flushToDisk: true);
            }
        }

        RawFile_SequentialRead();
    }

    /// <summary>Writes the journal to a <see cref="FileLedgerStore"/> and reopens it.</summary>
    [GlobalSetup(Target = nameof(FileLedgerStore_Replay))]
    public void GlobalSetupFile() => Build(directory => new FileLedgerStore(directory));

    /// <summary>Writes the journal to a <see cref="SqliteLedgerStore"/> and reopens it.</summary>
    [GlobalSetup(Target = nameof(Sqlite_Replay))]
    public void GlobalSetupSqlite() => Build(directory => new SqliteLedgerStore(Path.Combine(directory, "ledger.db")));

    /// <summary>The baseline: read the plain file front to back in 1 MiB reads (no parsing, no checks).</summary>
    /// <returns>The events read (from the byte count).</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = EventCount)]
    public long RawFile_SequentialRead()
    {
        using var file = new FileStream(_rawPath!, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        long bytes = 0;
        int read;
        while ((read = file.Read(_readBuffer)) > 0)
        {
            bytes += read;
        }

        return Check((bytes / CommitBatch.EventSize) - BatchCount); // 128-byte records, less one header per batch
    }

    /// <summary>Replays the whole journal from <see cref="FileLedgerStore"/>.</summary>
    /// <returns>The events read.</returns>
    [Benchmark(OperationsPerInvoke = EventCount)]
    public long FileLedgerStore_Replay() => Replay(_store!);

    /// <summary>Replays the whole journal from <see cref="SqliteLedgerStore"/>.</summary>
    /// <returns>The events read.</returns>
    [Benchmark(OperationsPerInvoke = EventCount)]
    public long Sqlite_Replay() => Replay(_store!);

    /// <summary>Closes the store and deletes the journal.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        if (_store is not null)
        {
            BatchChain.Wait(_store.DisposeAsync());
            _store = null;
        }

        BatchChain.DeleteDirectory(_directory);
        _directory = null;
    }

    private void Build(Func<string, ILedgerStore> create)
    {
        BatchChain chain = BatchChain.Create(BatchCount, EventsPerBatch);
        _directory = BatchChain.NewDirectory();
        ILedgerStore store = BatchChain.OpenEmpty(create(_directory));
        foreach (CommitBatch batch in chain.Batches)
        {
            BatchChain.Wait(store.AppendAsync(batch));
        }

        BatchChain.Wait(store.DisposeAsync());

        // Reopen, as after a restart: the benchmark replays what the store recovered.
        _store = create(_directory);
        ValueTask<LedgerStoreState> open = _store.OpenAsync();
        LedgerStoreState state = open.IsCompletedSuccessfully ? open.Result : open.AsTask().GetAwaiter().GetResult();
        if (state.LastBatchNumber != BatchCount)
        {
            throw new InvalidOperationException($"The reopened store reports batch {state.LastBatchNumber}, expected {BatchCount}.");
        }

        Check(Replay(_store));
    }

    private static long Replay(ILedgerStore store)
    {
        long events = 0;
        IAsyncEnumerator<CommitBatch> enumerator = store.ReadBatchesAsync(1).GetAsyncEnumerator();
        try
        {
            while (true)
            {
                ValueTask<bool> next = enumerator.MoveNextAsync();
                if (!(next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult()))
                {
                    break;
                }

                events += enumerator.Current.Header.EventCount;
            }
        }
        finally
        {
            BatchChain.Wait(enumerator.DisposeAsync());
        }

        return Check(events);
    }

    private static long Check(long events) =>
        events == EventCount ? events : throw new InvalidOperationException($"Replay read {events} events, expected {EventCount}.");
}
