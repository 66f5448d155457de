using BenchmarkDotNet.Attributes;
using CustomStorageAdapter;
using Microsoft.Win32.SafeHandles;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// The latency of one durable append (and so the throughput of a single appender) at 1, 100 and 8,189 events per
/// batch: <see cref="FileLedgerStore"/>, the sample's <see cref="SqliteLedgerStore"/>, and the disk's limit (the same
/// bytes written to a plain file and fsync'd, with no framing, checksum, hash check or bookkeeping).
/// </summary>
/// <remarks>
/// <para>One invocation per iteration, so each iteration time is one append's latency and the P50/P95/P99 columns
/// (<see cref="StorageLatencyConfig"/>) are percentiles of individual appends.</para>
/// <para>The batches are a pre-built chain (<see cref="BatchChain"/>) of <see cref="ChainLength"/> batches, so the
/// measured call does only what the store does. When the chain is used up, the iteration setup (not measured) rotates
/// to a fresh store in a new temporary directory, deletes the old one (disk use stays under
/// <see cref="ChainLength"/> batches, 64 MiB at 8,189 events) and appends batch 1 there, so no measured append is the
/// first one into a new file.</para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(StorageLatencyConfig))]
[InvocationCount(1, 1)]
public class AppendBenchmarks
{
    /// <summary>How many batches one store receives before the benchmark rotates to a fresh one.</summary>
    public const int ChainLength = 64;

    private BatchChain? _chain;
    private string? _directory;
    private ILedgerStore? _store;
    private SafeFileHandle? _rawFile;
    private long _rawOffset;
    private int _next; // index in the chain of the next batch to append

    /// <summary>Events per batch: a lone payment, a small batch, and the engine's largest batch.</summary>
    [Params(1, 100, 8189)]
    public int EventsPerBatch { get; set; }

    /// <summary>Builds the chain of batches.</summary>
    [GlobalSetup]
    public void GlobalSetup() => _chain = BatchChain.Create(ChainLength, EventsPerBatch);

    /// <summary>Rotates the raw file when the chain is used up.</summary>
    [IterationSetup(Target = nameof(RawFile_WriteAndFsync))]
    public void IterationSetupRaw()
    {
        if (_rawFile is not null && _next < ChainLength)
        {
            return;
        }

        CloseAll();
        _directory = BatchChain.NewDirectory();
        _rawFile = File.OpenHandle(Path.Combine(_directory, "raw.journal"), FileMode.CreateNew, FileAccess.Write, FileShare.None);
        _rawOffset = 0;
        _next = 0;
        RawFile_WriteAndFsync();
    }

    /// <summary>Rotates the <see cref="FileLedgerStore"/> when the chain is used up.</summary>
    [IterationSetup(Target = nameof(FileLedgerStore_Append))]
    public void IterationSetupFile() => RotateStoreIfNeeded(directory => new FileLedgerStore(directory));

    /// <summary>Rotates the <see cref="SqliteLedgerStore"/> when the chain is used up.</summary>
    [IterationSetup(Target = nameof(Sqlite_Append))]
    public void IterationSetupSqlite() => RotateStoreIfNeeded(directory => new SqliteLedgerStore(Path.Combine(directory, "ledger.db")));

    /// <summary>
    /// The disk's limit: write the encoded batch at the end of a plain file and fsync it (the same two calls a file
    /// store makes per append, <see cref="RandomAccess.Write(SafeFileHandle, ReadOnlySpan{byte}, long)"/> and
    /// <see cref="RandomAccess.FlushToDisk"/>, with nothing else).
    /// </summary>
    [Benchmark(Baseline = true)]
    public void RawFile_WriteAndFsync()
    {
        byte[] bytes = _chain!.Encoded[_next++];
        RandomAccess.Write(_rawFile!, bytes, _rawOffset);
        _rawOffset += bytes.Length;
        RandomAccess.FlushToDisk(_rawFile!);
    }

    /// <summary>A durable append to <see cref="FileLedgerStore"/> (framing, CRC-32C, hash chain check, fsync).</summary>
    [Benchmark]
    public void FileLedgerStore_Append() => BatchChain.Wait(_store!.AppendAsync(_chain!.Batches[_next++]));

    /// <summary>A durable append to the sample's <see cref="SqliteLedgerStore"/> (one transaction, WAL, synchronous=FULL).</summary>
    [Benchmark]
    public void Sqlite_Append() => BatchChain.Wait(_store!.AppendAsync(_chain!.Batches[_next++]));

    /// <summary>Closes the last store or file and deletes its directory.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => CloseAll();

    private void RotateStoreIfNeeded(Func<string, ILedgerStore> create)
    {
        if (_store is not null && _next < ChainLength)
        {
            return;
        }

        CloseAll();
        _directory = BatchChain.NewDirectory();
        _store = BatchChain.OpenEmpty(create(_directory));
        _next = 0;
        BatchChain.Wait(_store.AppendAsync(_chain!.Batches[_next++]));
    }

    private void CloseAll()
    {
        if (_store is not null)
        {
            BatchChain.Wait(_store.DisposeAsync());
            _store = null;
        }

        _rawFile?.Dispose();
        _rawFile = null;
        BatchChain.DeleteDirectory(_directory);
        _directory = null;
    }
}
