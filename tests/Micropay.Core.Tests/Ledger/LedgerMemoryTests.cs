using Micropay.Core.Ledger;
using Xunit.Abstractions;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// The ledger's memory budget: at most 256 managed bytes per account and 176 per committed transfer, rows
/// (128 bytes) and index included, with and without capacity hints.
/// </summary>
/// <remarks>
/// Measured as <see cref="GC.GetTotalMemory(bool)"/> deltas, which see the whole process: the class is its own
/// collection with parallelization disabled, so no other test allocates while it measures.
/// </remarks>
[CollectionDefinition(nameof(LedgerMemoryTests), DisableParallelization = true)]
[Collection(nameof(LedgerMemoryTests))]
public sealed class LedgerMemoryTests(ITestOutputHelper output)
{
    private const int Count = 1_000_000;
    private const int BatchSize = 8_190;
    private const long MaxBytesPerAccount = 256;
    private const long MaxBytesPerTransfer = 176;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ledger_MillionAccountsAndTransfers_StaysWithinTheMemoryBudget(bool capacityHints)
    {
        // The batches are allocated before the baseline so that only the ledger is measured.
        var accounts = new Account[BatchSize];
        var accountResults = new CreateAccountResult[BatchSize];
        var transfers = new Transfer[BatchSize];
        var transferResults = new CreateTransferResult[BatchSize];

        // With hints the constructor reserves the transfers' rows and index up front; that reservation is measured
        // on its own so it can be charged to the transfers rather than to the accounts loaded first.
        long transferReservation = capacityHints ? ReservationOf(transferCapacity: Count) - ReservationOf(transferCapacity: 0) : 0;

        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        LedgerStateMachine ledger = capacityHints ? new LedgerStateMachine(Count, Count) : new LedgerStateMachine();

        for (int start = 0; start < Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, Count - start);
            for (int i = 0; i < n; i++)
            {
                accounts[i] = new Account { Id = (UInt128)(start + i + 1), LedgerId = 1, Code = 1 };
            }

            Assert.Equal(0, ledger.CreateAccounts(0, accounts.AsSpan(0, n), accountResults));
        }

        long afterAccounts = GC.GetTotalMemory(forceFullCollection: true);

        for (int start = 0; start < Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, Count - start);
            for (int i = 0; i < n; i++)
            {
                int k = start + i;
                transfers[i] = new Transfer
                {
                    Id = (UInt128)(k + 1),
                    DebitAccountId = (UInt128)((k % Count) + 1),
                    CreditAccountId = (UInt128)(((k + 1) % Count) + 1),
                    Amount = 1,
                    LedgerId = 1,
                    Code = 1,
                };
            }

            Assert.Equal(0, ledger.CreateTransfers(0, transfers.AsSpan(0, n), transferResults));
        }

        long afterTransfers = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(ledger);

        Assert.Equal(Count, ledger.AccountCount);
        Assert.Equal(Count, ledger.TransferCount);

        double perAccount = (double)(afterAccounts - baseline - transferReservation) / Count;
        double perTransfer = (double)(afterTransfers - afterAccounts + transferReservation) / Count;
        output.WriteLine($"capacity hints: {capacityHints} (transfer reservation made by the constructor: {transferReservation:N0} bytes)");
        output.WriteLine($"accounts:  {afterAccounts - baseline - transferReservation:N0} bytes for {Count:N0} = {perAccount:F1} bytes/account (budget {MaxBytesPerAccount})");
        output.WriteLine($"transfers: {afterTransfers - afterAccounts + transferReservation:N0} bytes for {Count:N0} = {perTransfer:F1} bytes/transfer (budget {MaxBytesPerTransfer})");
        output.WriteLine($"ledger's own count (MemoryBytes): {ledger.MemoryBytes:N0} bytes");

        Assert.True(perAccount <= MaxBytesPerAccount, $"{perAccount:F1} bytes per account exceeds the budget of {MaxBytesPerAccount}");
        Assert.True(perTransfer <= MaxBytesPerTransfer, $"{perTransfer:F1} bytes per transfer exceeds the budget of {MaxBytesPerTransfer}");

        // Sanity check of the measurement itself: the rows alone take 128 bytes each, so a smaller delta would mean
        // the GC figure missed the ledger's (pinned) arrays.
        Assert.True(perAccount >= Account.Size && perTransfer >= Transfer.Size, "the measurement missed the ledger's rows");
    }

    /// <summary>The managed bytes an empty ledger with no account hint and the given transfer hint holds.</summary>
    private static long ReservationOf(int transferCapacity)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var ledger = new LedgerStateMachine(0, transferCapacity);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(ledger);
        return after - before;
    }
}
