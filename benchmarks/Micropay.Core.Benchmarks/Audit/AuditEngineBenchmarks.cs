using BenchmarkDotNet.Attributes;
using Micropay.Core.Audit;
using Micropay.Core.Benchmarks.Ledger;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Audit;

/// <summary>
/// The durable engine's batch throughput with the audit log off and on, in the same run: what a Merkle leaf per event,
/// a version 2 header per batch, the tiles and leaves in the page cache and a checkpoint every 1,000 batches cost.
/// </summary>
/// <remarks>
/// Workload as in <c>EngineSubmitBenchmarks</c>: <see cref="TransferWorkload"/> (1,000,000 accounts, 122 batches of
/// 8,189 transfers), submitted by 4 concurrent batch callers into a <see cref="FileLedgerStore"/> in a new temporary
/// directory (the audit directory beside it); every iteration gives the transfers fresh ids. The target: audit on at
/// least 0.85 × audit off (a <c>Ratio</c> of at most 1.18).
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class AuditEngineBenchmarks
{
    private Account[] _accounts = [];
    private Transfer[][] _batches = [];
    private CreateTransferResult[][] _results = [];
    private LedgerEngine? _engine;
    private SigningKey? _operator;
    private string? _directory;
    private ulong _iteration;
    private int _failed;

    /// <summary>Whether the engine keeps the audit log.</summary>
    [Params(false, true)]
    public bool Audit { get; set; }

    /// <summary>Builds the workload, opens the engine and creates the accounts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(CreditDistribution.Uniform);
        _batches = TransferWorkload.CreateBatches(_accounts, debit, credit);
        _results = [.. Enumerable.Range(0, 4).Select(_ => new CreateTransferResult[TransferWorkload.BatchSize])];
        _directory = Path.Combine(Path.GetTempPath(), "micropay-audit-engine-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _operator = SigningKey.Generate();
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Durability = DurabilityMode.Durable,
            Store = new FileLedgerStore(Path.Combine(_directory, "journal")),
            OperatorKey = _operator,
            Audit = Audit ? new AuditOptions { Directory = Path.Combine(_directory, "audit") } : null,
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

    /// <summary>Gives the transfers fresh ids, so each iteration applies new transfers.</summary>
    [IterationSetup]
    public void IterationSetup()
    {
        _iteration++;
        foreach (Transfer[] batch in _batches)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i].Id = (batch[i].Id & (UInt128.MaxValue >> 8)) | ((UInt128)_iteration << 120);
            }
        }

        _failed = 0;
    }

    /// <summary>Fails the run if a measured transfer was refused.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} transfers failed; the benchmark must measure the success path.");
        }
    }

    /// <summary>Disposes the engine and deletes the directory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _operator?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>All 999,058 transfers from 4 concurrent batch callers.</summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public Task Engine_BatchSubmit4Callers()
    {
        Task[] tasks = new Task[4];
        for (int c = 0; c < 4; c++)
        {
            int caller = c;
            tasks[c] = Task.Run(async () =>
            {
                int failed = 0;
                for (int b = caller; b < _batches.Length; b += 4)
                {
                    failed += await _engine!.CreateTransfersAsync(_batches[b], _results[caller]);
                }

                Interlocked.Add(ref _failed, failed);
            });
        }

        return Task.WhenAll(tasks);
    }
}
