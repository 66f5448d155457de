using System.Globalization;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Ledger;
using CoreLedger = Micropay.Core.Ledger.LedgerStateMachine;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// <see cref="CoreLedger.WriteSnapshot"/> and <see cref="CoreLedger.ReadSnapshot"/> of a ledger with one million
/// accounts and <see cref="Transfers"/> transfers: one whole snapshot per operation.
/// </summary>
/// <remarks>
/// <para>
/// The ledger holds the shared workload's 1M accounts and transfers in batches of 8,189 between them: 98.9% simple, 1%
/// holds with a one-hour timeout (so the reader rebuilds an expiry queue of 1% of the rows), and 0.1% naming a missing
/// account, which fail and burn their ids. Every result is checked in the global setup.
/// </para>
/// <para>
/// Sizes: CI's dry run sees only 1M transfers (its global setup takes a few seconds; 10M takes about 10 s per
/// benchmark and needs about 5 GB of RAM). Set <c>MICROPAY_SNAPSHOT_BENCH_TRANSFERS</c> to a comma-separated list to
/// choose, e.g. <c>MICROPAY_SNAPSHOT_BENCH_TRANSFERS=1000000,10000000</c> for the figures in benchmarks/README.md.
/// </para>
/// <para>
/// Both benchmarks run on memory the process has already touched: the destination buffer is written once in the
/// setup, and each read's ledger replaces the previous one, which is collected before the next iteration
/// (<see cref="IterationSetupRead"/>), so the GC hands its pages back. A process reading its first snapshot also pays
/// the operating system for committing ~1.3 GB of fresh pages; see the README for that figure on the VM.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
public class LedgerSnapshotBenchmarks
{
    private const string SizesVariable = "MICROPAY_SNAPSHOT_BENCH_TRANSFERS";

    private byte[] _snapshot = [];
    private CoreLedger? _ledger;
    private CoreLedger? _restored;

    /// <summary>Transfers applied to the ledger (rows plus burnt ids).</summary>
    [ParamsSource(nameof(Sizes))]
    public int Transfers { get; set; }

    /// <summary>The sizes to run: <c>MICROPAY_SNAPSHOT_BENCH_TRANSFERS</c>, or 1M (what CI's dry run sees).</summary>
    public static IEnumerable<int> Sizes =>
        Environment.GetEnvironmentVariable(SizesVariable) is { Length: > 0 } sizes
            ? sizes.Split(',').Select(s => int.Parse(s.Trim(), CultureInfo.InvariantCulture))
            : [1_000_000];

    /// <summary>Builds the ledger and a destination already written once (so its pages are committed).</summary>
    [GlobalSetup(Target = nameof(WriteSnapshot))]
    public void GlobalSetupWrite()
    {
        _ledger = BuildLedger(Transfers);
        _snapshot = new byte[_ledger.SnapshotSize];
        _ledger.WriteSnapshot(_snapshot);
    }

    /// <summary>Builds the ledger, writes its snapshot, proves it reads back, and keeps only the snapshot.</summary>
    [GlobalSetup(Target = nameof(ReadSnapshot))]
    public void GlobalSetupRead()
    {
        CoreLedger ledger = BuildLedger(Transfers);
        _snapshot = new byte[ledger.SnapshotSize];
        ledger.WriteSnapshot(_snapshot);
        CoreLedger restored = CoreLedger.ReadSnapshot(_snapshot);
        if (restored.AccountCount != ledger.AccountCount || restored.TransferCount != ledger.TransferCount ||
            restored.LastTimestamp != ledger.LastTimestamp || !restored.Accounts.SequenceEqual(ledger.Accounts))
        {
            throw new InvalidOperationException("The restored ledger differs from the one snapshotted.");
        }
    }

    /// <summary>Drops the previous iteration's ledger and collects it, outside the measurement: never two at once.</summary>
    [IterationSetup(Target = nameof(ReadSnapshot))]
    public void IterationSetupRead()
    {
        _restored = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The whole state, field by field, into a buffer of <see cref="CoreLedger.SnapshotSize"/> bytes.</summary>
    [Benchmark]
    public void WriteSnapshot() => _ledger!.WriteSnapshot(_snapshot);

    /// <summary>A ledger rebuilt and validated from the snapshot: tables, both id indexes, burnt ids, expiry queue.</summary>
    [Benchmark]
    public int ReadSnapshot()
    {
        _restored = CoreLedger.ReadSnapshot(_snapshot);
        return _restored.TransferCount;
    }

    /// <summary>1M accounts, then <paramref name="transfers"/> transfers as described in the class remarks, every result checked.</summary>
    private static CoreLedger BuildLedger(int transfers)
    {
        Account[] accounts = TransferWorkload.CreateAccounts();
        var ledger = new CoreLedger(accounts.Length, transfers);
        if (ledger.CreateAccounts(0, accounts, new CreateAccountResult[accounts.Length]) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the benchmark's accounts.");
        }

        Random random = new(20_260_101);
        Transfer[] batch = new Transfer[TransferWorkload.BatchSize];
        CreateTransferResult[] results = new CreateTransferResult[batch.Length];
        UInt128 missing = new(ulong.MaxValue, 1); // Not an account id: TransferWorkload's ids have a random high half.
        ulong nextId = 1;
        for (int done = 0; done < transfers;)
        {
            int n = Math.Min(batch.Length, transfers - done);
            int expectedFailures = 0;
            for (int i = 0; i < n; i++)
            {
                int debit = random.Next(accounts.Length);
                int credit = (debit + 1 + random.Next(accounts.Length - 1)) % accounts.Length;
                int kind = random.Next(1000);
                bool hold = kind < 10;
                bool burn = kind == 999;
                expectedFailures += burn ? 1 : 0;
                batch[i] = new Transfer
                {
                    // Sequential ids in the high half, as time-ordered ids would be; the index hashes them anyway.
                    Id = new UInt128(nextId++, (ulong)random.NextInt64()),
                    DebitAccountId = accounts[debit].Id,
                    CreditAccountId = burn ? missing : accounts[credit].Id,
                    Amount = (ulong)random.Next(1, 101),
                    LedgerId = TransferWorkload.LedgerId,
                    Code = 1,
                    Flags = hold ? TransferFlags.Pending : TransferFlags.None,
                    Timeout = hold ? 3600u : 0u,
                };
            }

            // Timestamp 0: the ledger's clock advances by itself, so no hold expires while the ledger is built.
            int failed = ledger.CreateTransfers(0, batch.AsSpan(0, n), results);
            if (failed != expectedFailures)
            {
                throw new InvalidOperationException($"{failed} transfers failed, expected {expectedFailures} (the burnt ids).");
            }

            done += n;
        }

        return ledger;
    }
}
