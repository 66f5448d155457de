using BenchmarkDotNet.Attributes;
using Micropay.Core.Ledger;
using CoreLedger = Micropay.Core.Ledger.LedgerStateMachine;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// What the account history index costs the writer: <see cref="CoreLedger.CreateTransfers"/> of the
/// <see cref="CreateTransfersBenchmarks"/> workload (about one million single-phase transfers, batches of 8,189, one million
/// accounts, uniform), without the index (the baseline) and with it (<see cref="CoreLedger.EnableAccountHistory"/>).
/// Figures are per transfer; the allocated bytes are the index's list arrays (each account's first list and its
/// doublings; about two entries per account in this workload, the index's worst case per transfer).
/// </summary>
/// <remarks>Each iteration applies the workload to a fresh ledger holding only the accounts, as in <see cref="CreateTransfersBenchmarks"/>.</remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class AccountHistoryApplyBenchmarks
{
    private Account[] _accounts = [];
    private Transfer[][] _batches = [];
    private readonly CreateTransferResult[] _results = new CreateTransferResult[TransferWorkload.BatchSize];
    private CoreLedger? _ledger;
    private int _failed;

    /// <summary>Generates the workload.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(CreditDistribution.Uniform);
        _batches = TransferWorkload.CreateBatches(_accounts, debit, credit);
    }

    /// <summary>A fresh ledger without the index.</summary>
    [IterationSetup(Target = nameof(WithoutHistory))]
    public void SetupWithout() => Setup(history: false);

    /// <summary>A fresh ledger with the index (enabled before any transfer, so the writer keeps it).</summary>
    [IterationSetup(Target = nameof(WithHistory))]
    public void SetupWith() => Setup(history: true);

    /// <summary>Fails the run if a measured pass refused any transfer.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} transfers failed during a measured iteration; the benchmark must measure the success path.");
        }
    }

    /// <summary>The ledger as it applies without the history index.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TransferWorkload.TransferCount)]
    public int WithoutHistory() => Apply();

    /// <summary>The ledger keeping the history index.</summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public int WithHistory() => Apply();

    private int Apply()
    {
        CoreLedger ledger = _ledger!;
        int failed = 0;
        foreach (Transfer[] batch in _batches)
        {
            failed += ledger.CreateTransfers(0, batch, _results);
        }

        _failed += failed;
        return failed;
    }

    private void Setup(bool history)
    {
        _ledger = null; // Never two ledgers at once.
        CoreLedger ledger = new(TransferWorkload.AccountCount, TransferWorkload.TransferCount);
        if (ledger.CreateAccounts(0, _accounts, new CreateAccountResult[_accounts.Length]) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the benchmark's accounts.");
        }

        if (history)
        {
            ledger.EnableAccountHistory();
        }

        _ledger = ledger;
        _failed = 0;
    }
}
