using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// The stress tests' ledger just past 2 GiB of snapshot: 2,052 batches of 8,189 simple transfers (16.8M) over 1,000
/// accounts make a 2.17 GB snapshot, more than one array or span holds. Transfer ids are 1 to <see cref="Transfers"/>.
/// </summary>
internal static class TwoGiBWorkload
{
    public const int Accounts = 1_000;
    public const int Batch = 8_189;
    public const int Batches = 2_052;
    public const int Transfers = Batch * Batches;

    public static Account[] AccountsToCreate() =>
        [.. Enumerable.Range(1, Accounts).Select(i => new Account { Id = (UInt128)i, LedgerId = 1, Code = 1 })];

    /// <summary>Fills <paramref name="transfers"/> with batch <paramref name="batch"/>: every account pays every other in turn, 1 unit.</summary>
    public static void FillBatch(Transfer[] transfers, int batch)
    {
        for (int i = 0; i < Batch; i++)
        {
            int n = (batch * Batch) + i;
            int debit = n % Accounts;
            int credit = (debit + 1 + ((n / Accounts) % (Accounts - 1))) % Accounts; // never the debit account
            transfers[i] = new Transfer
            {
                Id = (UInt128)(n + 1), DebitAccountId = (UInt128)(1 + debit), CreditAccountId = (UInt128)(1 + credit), Amount = 1, LedgerId = 1, Code = 1,
            };
        }
    }
}
