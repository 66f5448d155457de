using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// The hardware ceiling for <see cref="CreateTransfersBenchmarks"/>: the cost per transfer of updating two
/// 128-byte account rows whose indices are already known, in a table of one million rows, with the same access
/// pattern (uniform debits; uniform or Zipf credits). No hashing, no lookup, no checks: what is left is the
/// memory traffic that any implementation must pay. Figures are per transfer.
/// </summary>
/// <remarks>
/// The rows are 128-byte aligned native memory, exactly like the ledger's account table, so each row is two
/// cache lines (a managed <c>Account[]</c> starts 16 bytes into its object and would straddle three).
/// State is not reset between invocations: balances only grow and an invocation writes the same rows again,
/// so memory stays bounded.
/// </remarks>
[MemoryDiagnoser]
public unsafe class KnownIndexCeilingBenchmarks
{
    private Account* _rows;
    private int[] _debit = [];
    private int[] _credit = [];
    private Transfer[][] _batches = [];
    private Transfer[] _stored = [];

    /// <summary>How credit accounts are chosen; debit accounts are always uniform.</summary>
    [Params(CreditDistribution.Uniform, CreditDistribution.Zipf)]
    public CreditDistribution Credit { get; set; }

    /// <summary>Allocates the rows and generates the same account pairs as <see cref="CreateTransfersBenchmarks"/>.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        Account[] accounts = TransferWorkload.CreateAccounts();
        nuint bytes = (nuint)accounts.Length * Account.Size;
        _rows = (Account*)NativeMemory.AlignedAlloc(bytes, Account.Size);
        accounts.AsSpan().CopyTo(new Span<Account>(_rows, accounts.Length));
        (_debit, _credit) = TransferWorkload.CreateAccountPairs(Credit);
        _batches = TransferWorkload.CreateBatches(accounts, _debit, _credit);
        _stored = new Transfer[TransferWorkload.TransferCount];

        // Write every page of the log now: a fresh large array is backed by pages the OS maps on first write,
        // and those faults belong to allocation, not to the ceiling being measured.
        _stored.AsSpan().Fill(default);
    }

    /// <summary>Frees the native rows.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        NativeMemory.AlignedFree(_rows);
        _rows = null;
    }

    /// <summary>Only the two row updates: debit one account, credit another.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = TransferWorkload.TransferCount)]
    public void UpdateTwoRows()
    {
        Account* rows = _rows;
        int[] debit = _debit;
        int[] credit = _credit;
        UInt128 amount = 1;
        for (int i = 0; i < debit.Length; i++)
        {
            rows[debit[i]].DebitsPosted += amount;
            rows[credit[i]].CreditsPosted += amount;
        }
    }

    /// <summary>
    /// The two row updates plus the unavoidable rest of the data flow: read each 128-byte transfer from its batch
    /// and append it, timestamped, to a transfer log (what the ledger stores for idempotency, minus the index).
    /// </summary>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public void UpdateTwoRowsAndAppendTransfer()
    {
        Account* rows = _rows;
        int[] debit = _debit;
        int[] credit = _credit;
        Transfer[] stored = _stored;
        int k = 0;
        ulong timestamp = 1;
        foreach (Transfer[] batch in _batches)
        {
            foreach (ref readonly Transfer t in batch.AsSpan())
            {
                rows[debit[k]].DebitsPosted += t.Amount;
                rows[credit[k]].CreditsPosted += t.Amount;
                ref Transfer s = ref stored[k];
                s = t;
                s.Timestamp = timestamp++;
                k++;
            }
        }
    }
}
