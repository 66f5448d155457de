using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// The shared, deterministic workload of the ledger benchmarks: <see cref="AccountCount"/> accounts with random
/// ids, and batches of simple single-phase transfers between them. Every benchmark that compares against another
/// uses the same seed, so the ledger, the dictionary baseline and the known-index ceiling see the same access pattern.
/// </summary>
internal static class TransferWorkload
{
    /// <summary>Accounts in the ledger: large enough that the account rows (128 MB) do not fit in any cache.</summary>
    public const int AccountCount = 1_000_000;

    /// <summary>Transfers per batch: TigerBeetle's largest batch (8189 transfers of 128 bytes fill a 1 MiB message).</summary>
    public const int BatchSize = 8_189;

    /// <summary>Batches per benchmark invocation: 122 batches are 999,058 transfers, about one million.</summary>
    public const int BatchCount = 122;

    /// <summary>Transfers per benchmark invocation; the benchmarks divide by it so that figures are per transfer.</summary>
    public const int TransferCount = BatchSize * BatchCount;

    /// <summary>The only currency of the workload; one ledger id keeps every transfer valid.</summary>
    public const uint LedgerId = 1;

    // A fixed seed: runs and benchmarks are comparable, and a failure reproduces.
    private const int Seed = 20_250_101;

    /// <summary>Creates the accounts: random nonzero ids, ledger 1, code 1, no flags (so no transfer can be refused for a balance).</summary>
    public static Account[] CreateAccounts()
    {
        Random random = new(Seed);
        Account[] accounts = new Account[AccountCount];
        for (int i = 0; i < accounts.Length; i++)
        {
            accounts[i] = new Account { Id = RandomId(random), LedgerId = LedgerId, Code = 1 };
        }

        return accounts;
    }

    /// <summary>
    /// Picks the debit and credit account (row numbers) of each transfer: the debit uniformly, the credit by
    /// <paramref name="distribution"/>, never the same account twice.
    /// </summary>
    public static (int[] Debit, int[] Credit) CreateAccountPairs(CreditDistribution distribution)
    {
        Random random = new(Seed + 1 + (int)distribution);
        ZipfSampler? zipf = distribution == CreditDistribution.Zipf ? new ZipfSampler(AccountCount, 1.0, random) : null;
        int[] debit = new int[TransferCount];
        int[] credit = new int[TransferCount];
        for (int i = 0; i < TransferCount; i++)
        {
            int d = random.Next(AccountCount);
            int c;
            do
            {
                c = zipf?.Next(random) ?? random.Next(AccountCount);
            }
            while (c == d);

            debit[i] = d;
            credit[i] = c;
        }

        return (debit, credit);
    }

    /// <summary>Creates the batches of transfers for the given account pairs: random ids, amount 1..100, ledger 1, code 1, no flags.</summary>
    public static Transfer[][] CreateBatches(Account[] accounts, int[] debit, int[] credit)
    {
        Random random = new(Seed + 10);
        Transfer[][] batches = new Transfer[BatchCount][];
        for (int b = 0; b < BatchCount; b++)
        {
            Transfer[] batch = new Transfer[BatchSize];
            for (int i = 0; i < BatchSize; i++)
            {
                int k = (b * BatchSize) + i;
                batch[i] = new Transfer
                {
                    Id = RandomId(random),
                    DebitAccountId = accounts[debit[k]].Id,
                    CreditAccountId = accounts[credit[k]].Id,
                    Amount = (UInt128)(ulong)random.Next(1, 101),
                    LedgerId = LedgerId,
                    Code = 1,
                };
            }

            batches[b] = batch;
        }

        return batches;
    }

    /// <summary>A uniformly random id other than the reserved 0 and <see cref="UInt128.MaxValue"/>; 128 random bits make collisions negligible.</summary>
    private static UInt128 RandomId(Random random)
    {
        UInt128 id;
        do
        {
            id = new UInt128((ulong)random.NextInt64() ^ ((ulong)random.Next() << 63), (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63));
        }
        while (id == UInt128.Zero || id == UInt128.MaxValue);

        return id;
    }
}
