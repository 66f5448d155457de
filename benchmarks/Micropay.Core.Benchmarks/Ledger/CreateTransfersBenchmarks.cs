using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Baselines;
using Micropay.Core.Ledger;
using CoreLedger = Micropay.Core.Ledger.LedgerStateMachine;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// Throughput of <see cref="CoreLedger.CreateTransfers"/> on the success path: about one million simple
/// single-phase transfers, in batches of 8189, between one million accounts, against
/// <see cref="DictionaryLedger"/> (the baseline, so BDN prints the ratio). Figures are per transfer.
/// </summary>
/// <remarks>
/// <para>
/// Each iteration is one invocation on a fresh ledger built in <see cref="IterationSetupLedger"/>: the same transfer
/// ids cannot be applied twice (the second time they are idempotent no-ops, a different and faster path), and
/// a ledger that kept every iteration's transfers would grow without bound. Rebuilding also means the measured
/// invocation starts from the capacity hints, as in production. The dictionary baseline is reset instead
/// (<see cref="IterationSetupDictionary"/>).
/// </para>
/// <para>
/// The workload is generated once per case in the global setup and checked there: every transfer of a
/// first full pass must return <see cref="CreateTransferResult.Ok"/>, and <see cref="IterationCleanup"/> checks
/// that the measured passes failed none either, so the figures are never those of a fast failure path.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class CreateTransfersBenchmarks
{
    private Account[] _accounts = [];
    private Transfer[][] _batches = [];
    private readonly CreateTransferResult[] _results = new CreateTransferResult[TransferWorkload.BatchSize];
    private CoreLedger? _ledger;
    private DictionaryLedger? _dictionary;
    private int _failed;

    /// <summary>How credit accounts are chosen; debit accounts are always uniform.</summary>
    [Params(CreditDistribution.Uniform, CreditDistribution.Zipf)]
    public CreditDistribution Credit { get; set; }

    /// <summary>Generates the workload and proves the ledger applies all of it.</summary>
    [GlobalSetup(Target = nameof(Ledger_CreateTransfers))]
    public void GlobalSetupLedger()
    {
        Generate();
        CoreLedger ledger = NewLedger();
        Validate(b => ledger.CreateTransfers(0, _batches[b], _results));
        if (ledger.TransferCount != TransferWorkload.TransferCount)
        {
            throw new InvalidOperationException($"The ledger holds {ledger.TransferCount} transfers, expected {TransferWorkload.TransferCount}.");
        }
    }

    /// <summary>Generates the workload, builds the dictionary baseline and proves it applies all of it.</summary>
    [GlobalSetup(Target = nameof(Dictionary_CreateTransfers))]
    public void GlobalSetupDictionary()
    {
        Generate();
        DictionaryLedger dictionary = NewDictionary();
        Validate(b => dictionary.CreateTransfers(0, _batches[b], _results));
        _dictionary = dictionary;
    }

    /// <summary>A fresh ledger holding only the accounts, so each iteration applies new transfers to bounded memory.</summary>
    [IterationSetup(Target = nameof(Ledger_CreateTransfers))]
    public void IterationSetupLedger()
    {
        _ledger = null; // Let the previous ledger be collected before the next one is built: never two at once.
        _ledger = NewLedger();
        _failed = 0;
    }

    /// <summary>
    /// The dictionary baseline forgets its transfers but keeps its (already touched) storage: a freshly allocated
    /// dictionary would pay a page fault on the first write of each page, which a long-running service does not.
    /// </summary>
    [IterationSetup(Target = nameof(Dictionary_CreateTransfers))]
    public void IterationSetupDictionary()
    {
        _dictionary!.ClearTransfers();
        _failed = 0;
    }

    /// <summary>Fails the run if a measured pass refused any transfer.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} transfers failed during a measured iteration; the benchmark must measure the success path.");
        }
    }

    /// <summary>What a user would write instead: dictionaries and the obvious checks.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TransferWorkload.TransferCount)]
    public int Dictionary_CreateTransfers()
    {
        DictionaryLedger dictionary = _dictionary!;
        int failed = 0;
        foreach (Transfer[] batch in _batches)
        {
            failed += dictionary.CreateTransfers(0, batch, _results);
        }

        _failed += failed;
        return failed;
    }

    /// <summary>The real ledger, with its transfer-id index (idempotency) and the look-ahead pipeline.</summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public int Ledger_CreateTransfers()
    {
        CoreLedger ledger = _ledger!;
        int failed = 0;
        foreach (Transfer[] batch in _batches)
        {
            // Timestamp 0: the ledger's clock advances by itself (start = LastTimestamp + 1).
            failed += ledger.CreateTransfers(0, batch, _results);
        }

        _failed += failed;
        return failed;
    }

    private void Generate()
    {
        _accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(Credit);
        _batches = TransferWorkload.CreateBatches(_accounts, debit, credit);
    }

    private CoreLedger NewLedger()
    {
        CoreLedger ledger = new(TransferWorkload.AccountCount, TransferWorkload.TransferCount);
        CreateAccountResult[] results = new CreateAccountResult[_accounts.Length];
        if (ledger.CreateAccounts(0, _accounts, results) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the benchmark's accounts.");
        }

        return ledger;
    }

    private DictionaryLedger NewDictionary()
    {
        DictionaryLedger dictionary = new(TransferWorkload.AccountCount, TransferWorkload.TransferCount);
        CreateAccountResult[] results = new CreateAccountResult[_accounts.Length];
        if (dictionary.CreateAccounts(0, _accounts, results) != 0)
        {
            throw new InvalidOperationException("The dictionary ledger refused some of the benchmark's accounts.");
        }

        return dictionary;
    }

    /// <summary>Applies every batch once, checking each result (not just the count) is Ok.</summary>
    private void Validate(Func<int, int> applyBatch)
    {
        for (int b = 0; b < _batches.Length; b++)
        {
            applyBatch(b);
            for (int i = 0; i < _batches[b].Length; i++)
            {
                if (_results[i] != CreateTransferResult.Ok)
                {
                    throw new InvalidOperationException($"Transfer {i} of batch {b} returned {_results[i]}; the benchmark must measure the success path.");
                }
            }
        }
    }
}
