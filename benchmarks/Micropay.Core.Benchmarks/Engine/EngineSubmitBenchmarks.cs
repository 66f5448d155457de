using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Ledger;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Microsoft.Win32.SafeHandles;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// <see cref="LedgerEngine"/> under load, with the two references its targets are stated against in the same class:
/// the single-threaded <see cref="Core.Ledger.LedgerStateMachine"/> applying the same batches (what the engine adds on top of it),
/// and the disk's raw write + fsync of the same bytes (what durability cannot beat). Run it in the same command as
/// <c>BaselineSubmitBenchmarks</c> (<c>--filter '*SubmitBenchmarks*'</c>) for the locked-dictionary and SQLite ratios.
/// </summary>
/// <remarks>
/// <para>
/// Workload: <see cref="TransferWorkload"/> (1,000,000 accounts, 122 batches of 8,189 simple transfers between random
/// accounts, uniform credit side). Every iteration submits all 999,058 transfers; the engine keeps what it applied, so
/// each iteration gives the transfers fresh ids (rewritten in the iteration setup, not measured).
/// </para>
/// <para>
/// Callers: batch submits come from 1, 4 or 122 concurrent callers, each awaiting its batches in turn (4 callers keep
/// batches queued, so the pipeline has the next batch ready while one is made durable; 122 submit every batch at once). Single submits come from 1, 4
/// or 4,096 concurrent async callers, each awaiting one <see cref="LedgerEngine.CreateTransferAsync"/> after another
/// (1 and 4 callers submit <see cref="FewCallersTransfers"/> transfers per invocation, 4,096 callers all of them).
/// <c>P50 op</c> / <c>P99 op</c> / <c>P99.9 op</c> are the latencies of individual submit calls (a transfer, or a whole
/// batch), from <see cref="OperationLatencyConfig"/>; the mean and <c>Transfers/s</c> are per transfer.
/// </para>
/// <para>
/// Durable mode writes to a <see cref="FileLedgerStore"/> in a new temporary directory (deleted by the global cleanup);
/// it grows by about 128 MB per iteration.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(OperationLatencyConfig))]
[InvocationCount(1, 1)]
public class EngineSubmitBenchmarks
{
    /// <summary>Transfers per invocation of <see cref="Engine_SingleSubmit"/>.</summary>
    public const int FewCallersTransfers = 4_096;

    private readonly LatencyHistogram _latency = new();
    private Account[] _accounts = [];
    private Transfer[][] _batches = [];
    private Transfer[] _transfers = [];
    private CreateTransferResult[][] _results = [];
    private LedgerEngine? _engine;
    private Core.Ledger.LedgerStateMachine? _ledger;
    private string? _directory;
    private SafeFileHandle? _raw;
    private long _rawOffset;
    private byte[] _rawBatch = [];
    private ulong _iteration;
    private int _failed;
    private string _method = "";
    private object?[] _arguments = [];

    /// <summary>
    /// How the engine runs: <see cref="DurabilityMode.InMemory"/>; <see cref="DurabilityMode.Durable"/> over a
    /// <see cref="FileLedgerStore"/> with default options; or durable with
    /// <see cref="FileLedgerStoreOptions.DropJournalFromPageCache"/> set (the store drops durable journal pages from
    /// the page cache, which on this VM spares every batch the host faults of fresh page-cache memory).
    /// </summary>
    public enum EngineMode
    {
        /// <summary>No store.</summary>
        InMemory,

        /// <summary>A file store with default options.</summary>
        Durable,

        /// <summary>A file store that drops durable journal pages from the page cache.</summary>
        DurableDropJournal,
    }

    /// <summary>The engine's mode and store options.</summary>
    [Params(EngineMode.InMemory, EngineMode.Durable, EngineMode.DurableDropJournal)]
    public EngineMode Mode { get; set; }

    /// <summary>Builds the workload, opens the engine and creates the accounts.</summary>
    [GlobalSetup(Targets = new[] { nameof(Engine_BatchSubmit), nameof(Engine_SingleSubmit), nameof(Engine_SingleSubmit4096Callers) })]
    public void GlobalSetupEngine()
    {
        BuildWorkload();
        _directory = NewDirectory();
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Durability = Mode == EngineMode.InMemory ? DurabilityMode.InMemory : DurabilityMode.Durable,
            Store = Mode == EngineMode.InMemory
                ? null
                : new FileLedgerStore(_directory, new FileLedgerStoreOptions { DropJournalFromPageCache = Mode == EngineMode.DurableDropJournal }),
            AccountCapacity = TransferWorkload.AccountCount,
            TransferCapacity = TransferWorkload.TransferCount * 24,
        }).AsTask().GetAwaiter().GetResult();
        var results = new CreateAccountResult[TransferWorkload.BatchSize];
        for (int start = 0; start < _accounts.Length; start += TransferWorkload.BatchSize)
        {
            int count = Math.Min(TransferWorkload.BatchSize, _accounts.Length - start);
            if (_engine.CreateAccountsAsync(_accounts.AsMemory(start, count), results).AsTask().GetAwaiter().GetResult() != 0)
            {
                throw new InvalidOperationException("The engine refused some of the benchmark's accounts.");
            }
        }
    }

    /// <summary>Builds the workload and a ledger with the accounts (the single-threaded reference).</summary>
    [GlobalSetup(Target = nameof(Ledger_Apply))]
    public void GlobalSetupLedger()
    {
        BuildWorkload();
        _ledger = new Core.Ledger.LedgerStateMachine(TransferWorkload.AccountCount, TransferWorkload.TransferCount * 24);
        var results = new CreateAccountResult[_accounts.Length];
        if (_ledger.CreateAccounts(1, _accounts, results) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the benchmark's accounts.");
        }
    }

    /// <summary>Opens a plain file for the raw write + fsync reference, and encodes one batch as the engine's store would.</summary>
    [GlobalSetup(Target = nameof(RawFile_WriteAndFsync))]
    public void GlobalSetupRaw()
    {
        BuildWorkload();
        _directory = NewDirectory();
        _raw = File.OpenHandle(Path.Combine(_directory, "raw.journal"), FileMode.CreateNew, FileAccess.Write, FileShare.None);

        // The same bytes per batch as the file store writes: frame, header and 8,189 events of 128 bytes.
        _rawBatch = new byte[64 + CommitBatchHeader.Size + (TransferWorkload.BatchSize * CommitBatch.EventSize)];
        new Random(1).NextBytes(_rawBatch);
    }

    /// <summary>Gives the transfers fresh ids (so each iteration applies new transfers) and starts the latency log.</summary>
    [IterationSetup]
    public void IterationSetup()
    {
        _iteration++;
        foreach (Transfer[] batch in _batches)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                // The high bits carry the iteration: ids stay unique across iterations and random in the low bits.
                batch[i].Id = (batch[i].Id & (UInt128.MaxValue >> 8)) | ((UInt128)_iteration << 120);
            }
        }

        int k = 0;
        foreach (Transfer[] batch in _batches)
        {
            batch.CopyTo(_transfers, k);
            k += batch.Length;
        }

        _latency.Reset();
        _failed = 0;
    }

    /// <summary>Fails the run if a measured transfer was refused, and logs the iteration's latencies.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} transfers failed during {_method}; the benchmark must measure the success path.");
        }

        LatencyLog.AppendIteration(_latency, this, _method, _arguments);
    }

    /// <summary>Disposes the engine (and its store) and deletes the directory.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine = null;
        _ledger = null;
        _raw?.Dispose();
        _raw = null;
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        _directory = null;
    }

    /// <summary>The single-threaded ledger applying the same batches: the rate the engine's overhead is measured against.</summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public void Ledger_Apply()
    {
        _method = nameof(Ledger_Apply);
        _arguments = [];
        Core.Ledger.LedgerStateMachine ledger = _ledger!;
        CreateTransferResult[] results = Results(0);
        int failed = 0;
        for (int b = 0; b < _batches.Length; b++)
        {
            long began = Stopwatch.GetTimestamp();
            failed += ledger.CreateTransfers(_iteration + (ulong)b, _batches[b], results);
            _latency.RecordSince(began);
        }

        _failed += failed;
    }

    /// <summary>The disk's limit for durable batches: write one batch's bytes and fsync, 122 times (no ledger, no engine).</summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public void RawFile_WriteAndFsync()
    {
        _method = nameof(RawFile_WriteAndFsync);
        _arguments = [];
        for (int b = 0; b < _batches.Length; b++)
        {
            long began = Stopwatch.GetTimestamp();
            RandomAccess.Write(_raw!, _rawBatch, _rawOffset);
            _rawOffset += _rawBatch.Length;
            RandomAccess.FlushToDisk(_raw!);
            _latency.RecordSince(began);
        }
    }

    /// <summary>
    /// Batches of 8,189 through <see cref="LedgerEngine.CreateTransfersAsync"/>, from 1, 4 or 122 concurrent callers.
    /// 122 is every batch of the workload submitted at once (the most concurrency 122 batches allow; 4,096 batch callers
    /// would need 33 M events in flight).
    /// </summary>
    /// <param name="callers">Concurrent callers, each submitting its share of the batches one after another.</param>
    /// <returns>A task that completes when every batch has completed.</returns>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    [Arguments(1)]
    [Arguments(4)]
    [Arguments(TransferWorkload.BatchCount)]
    public Task Engine_BatchSubmit(int callers)
    {
        _method = nameof(Engine_BatchSubmit);
        _arguments = [callers];
        Task[] tasks = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            int caller = c;
            tasks[c] = Task.Run(() => BatchCaller(caller, callers));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>
    /// Single transfers through <see cref="LedgerEngine.CreateTransferAsync"/>, from 1 or 4 concurrent async callers,
    /// <see cref="FewCallersTransfers"/> transfers per invocation (a durable single caller waits for one fsync per transfer).
    /// </summary>
    /// <param name="callers">Concurrent callers, each awaiting one transfer after another over its share.</param>
    /// <returns>A task that completes when every transfer has completed.</returns>
    [Benchmark(OperationsPerInvoke = FewCallersTransfers)]
    [Arguments(1)]
    [Arguments(4)]
    public Task Engine_SingleSubmit(int callers)
    {
        _method = nameof(Engine_SingleSubmit);
        _arguments = [callers];
        return SingleSubmit(callers, FewCallersTransfers);
    }

    /// <summary>Single transfers from 4,096 concurrent async callers, all 999,058 transfers per invocation.</summary>
    /// <returns>A task that completes when every transfer has completed.</returns>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public Task Engine_SingleSubmit4096Callers()
    {
        _method = nameof(Engine_SingleSubmit4096Callers);
        _arguments = [];
        return SingleSubmit(4096, TransferWorkload.TransferCount);
    }

    private Task SingleSubmit(int callers, int count)
    {
        Task[] tasks = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            int from = (int)((long)count * c / callers);
            int to = (int)((long)count * (c + 1) / callers);
            tasks[c] = Task.Run(() => SingleCaller(from, to));
        }

        return Task.WhenAll(tasks);
    }

    private async Task BatchCaller(int caller, int callers)
    {
        LedgerEngine engine = _engine!;
        CreateTransferResult[] results = Results(caller);
        int failed = 0;
        for (int b = caller; b < _batches.Length; b += callers)
        {
            long began = Stopwatch.GetTimestamp();
            failed += await engine.CreateTransfersAsync(_batches[b], results);
            _latency.RecordSince(began);
        }

        Interlocked.Add(ref _failed, failed);
    }

    private async Task SingleCaller(int from, int to)
    {
        LedgerEngine engine = _engine!;
        Transfer[] transfers = _transfers;
        LatencyHistogram latency = _latency;
        int failed = 0;
        for (int i = from; i < to; i++)
        {
            long began = Stopwatch.GetTimestamp();
            CreateTransferResult result = await engine.CreateTransferAsync(transfers[i]);
            latency.RecordSince(began);
            failed += result == CreateTransferResult.Ok ? 0 : 1;
        }

        Interlocked.Add(ref _failed, failed);
    }

    private CreateTransferResult[] Results(int caller)
    {
        if (_results.Length <= caller)
        {
            _results = [.. Enumerable.Range(0, TransferWorkload.BatchCount).Select(_ => new CreateTransferResult[TransferWorkload.BatchSize])];
        }

        return _results[caller];
    }

    private void BuildWorkload()
    {
        _accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(CreditDistribution.Uniform);
        _batches = TransferWorkload.CreateBatches(_accounts, debit, credit);
        _transfers = new Transfer[TransferWorkload.TransferCount];
        _results = [.. Enumerable.Range(0, TransferWorkload.BatchCount).Select(_ => new CreateTransferResult[TransferWorkload.BatchSize])];
    }

    private static string NewDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "micropay-engine-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }
}
