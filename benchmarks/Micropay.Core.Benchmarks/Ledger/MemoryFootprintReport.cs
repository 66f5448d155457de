using System.Globalization;
using Micropay.Core.Benchmarks.Baselines;
using Micropay.Core.Ledger;
using CoreLedger = Micropay.Core.Ledger.LedgerStateMachine;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// The console report behind <c>--memory-footprint</c>: managed bytes per account and per committed transfer
/// with one million of each, for the ledger (with and without capacity hints) and the dictionary baseline.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's memory diagnoser counts bytes allocated during an operation, not bytes retained by a data
/// structure, so the footprint is measured here instead: the difference in <see cref="GC.GetTotalMemory(bool)"/>
/// (after a full collection) between before a structure is built and after, while it is still alive.
/// Per account = footprint of a ledger with the accounts only (no transfer capacity reserved) / accounts.
/// Per transfer = (footprint with the accounts and the transfers − footprint with the accounts only) / transfers,
/// so the account table is not charged to the transfers. The ledger's own <c>MemoryBytes</c> (what its tables
/// hold) is printed next to it; the two differ by the ledger's small fixed state and by rounding.
/// </remarks>
internal static class MemoryFootprintReport
{
    public static void Run(TextWriter output)
    {
        Account[] accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(CreditDistribution.Uniform);
        Transfer[][] batches = TransferWorkload.CreateBatches(accounts, debit, credit);
        const int Accounts = TransferWorkload.AccountCount;
        const int Transfers = TransferWorkload.TransferCount;

        output.WriteLine($"Managed memory with {Accounts:N0} accounts and {Transfers:N0} committed transfers");
        output.WriteLine("(GC.GetTotalMemory(true) deltas; LedgerStateMachine.MemoryBytes in brackets)");
        output.WriteLine();
        output.WriteLine($"{"Structure",-36} {"Total MB",10} {"Bytes/account",22} {"Bytes/transfer",22}");

        Row(output, "Ledger, capacity hints",
            () => BuildLedger(accounts, [], Accounts, 0),
            () => BuildLedger(accounts, batches, Accounts, Transfers));
        Row(output, "Ledger, no hints (grown)",
            () => BuildLedger(accounts, [], 0, 0),
            () => BuildLedger(accounts, batches, 0, 0));
        Row(output, "DictionaryLedger, capacity hints",
            () => (BuildDictionary(accounts, [], Accounts, 0), 0L),
            () => (BuildDictionary(accounts, batches, Accounts, Transfers), 0L));
        Row(output, "DictionaryLedger, no hints (grown)",
            () => (BuildDictionary(accounts, [], 0, 0), 0L),
            () => (BuildDictionary(accounts, batches, 0, 0), 0L));

        output.WriteLine();
        output.WriteLine($"Raw record sizes: Account {Account.Size} B, Transfer {Transfer.Size} B.");
        GC.KeepAlive(batches);
    }

    private static void Row(TextWriter output, string name, Func<(object Owner, long MemoryBytes)> accountsOnly, Func<(object Owner, long MemoryBytes)> full)
    {
        (long accountBytes, long accountMemoryBytes) = Footprint(accountsOnly);
        (long fullBytes, long fullMemoryBytes) = Footprint(full);
        double perAccount = (double)accountBytes / TransferWorkload.AccountCount;
        double perTransfer = (double)(fullBytes - accountBytes) / TransferWorkload.TransferCount;
        string account = Format(perAccount, accountMemoryBytes, (double)accountMemoryBytes / TransferWorkload.AccountCount);
        string transfer = Format(perTransfer, fullMemoryBytes, (double)(fullMemoryBytes - accountMemoryBytes) / TransferWorkload.TransferCount);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-36} {fullBytes / 1e6,10:F1} {account,22} {transfer,22}"));
    }

    private static string Format(double bytes, long memoryBytes, double perItemMemoryBytes) =>
        memoryBytes == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:F1}")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:F1} [{perItemMemoryBytes:F1}]");

    /// <summary>Builds a structure and returns the managed bytes it retains, with its own MemoryBytes figure.</summary>
    private static (long Bytes, long MemoryBytes) Footprint(Func<(object Owner, long MemoryBytes)> build)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        (object owner, long memoryBytes) = build();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(owner);
        return (after - before, memoryBytes);
    }

    private static (object Owner, long MemoryBytes) BuildLedger(Account[] accounts, Transfer[][] batches, int accountCapacity, int transferCapacity)
    {
        CoreLedger ledger = new(accountCapacity, transferCapacity);
        Check(ledger.CreateAccounts(0, accounts, new CreateAccountResult[accounts.Length]));
        CreateTransferResult[] results = new CreateTransferResult[TransferWorkload.BatchSize];
        foreach (Transfer[] batch in batches)
        {
            Check(ledger.CreateTransfers(0, batch, results));
        }

        return (ledger, ledger.MemoryBytes);
    }

    private static DictionaryLedger BuildDictionary(Account[] accounts, Transfer[][] batches, int accountCapacity, int transferCapacity)
    {
        DictionaryLedger dictionary = new(accountCapacity, transferCapacity);
        Check(dictionary.CreateAccounts(0, accounts, new CreateAccountResult[accounts.Length]));
        CreateTransferResult[] results = new CreateTransferResult[TransferWorkload.BatchSize];
        foreach (Transfer[] batch in batches)
        {
            Check(dictionary.CreateTransfers(0, batch, results));
        }

        return dictionary;
    }

    private static void Check(int failed)
    {
        if (failed != 0)
        {
            throw new InvalidOperationException($"{failed} events failed; the footprint must be that of committed accounts and transfers.");
        }
    }
}
