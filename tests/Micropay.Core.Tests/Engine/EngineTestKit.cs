using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Engine;

/// <summary>A temporary store directory per test, and record builders for engine tests.</summary>
public abstract class EngineTestKit : IDisposable
{
    protected EngineTestKit()
    {
        Directory = Path.Combine(Path.GetTempPath(), "micropay-engine-" + Guid.NewGuid().ToString("N"));
    }

    protected string Directory { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        GC.SuppressFinalize(this);
    }

    protected ValueTask<LedgerEngine> OpenFileEngineAsync(DurabilityMode mode = DurabilityMode.Durable, int snapshotInterval = 0, int maxBatchSize = LedgerEngineOptions.DefaultMaxBatchSize) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory),
            Durability = mode,
            SnapshotIntervalBatches = snapshotInterval,
            MaxBatchSize = maxBatchSize,
        });

    protected static ValueTask<LedgerEngine> OpenInMemoryEngineAsync(int ingressCapacity = LedgerEngineOptions.DefaultIngressCapacity) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, IngressCapacity = ingressCapacity });

    protected static Account Acct(UInt128 id, AccountFlags flags = AccountFlags.None) => new() { Id = id, LedgerId = 1, Code = 1, Flags = flags };

    protected static Transfer Tr(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount, TransferFlags flags = TransferFlags.None) =>
        new() { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1, Flags = flags };

    /// <summary>Asserts debits equal credits (posted and pending) over the given accounts.</summary>
    protected static void AssertConserved(ReadOnlySpan<Account> accounts)
    {
        UInt128 debitsPosted = 0, creditsPosted = 0, debitsPending = 0, creditsPending = 0;
        foreach (Account account in accounts)
        {
            debitsPosted += account.DebitsPosted;
            creditsPosted += account.CreditsPosted;
            debitsPending += account.DebitsPending;
            creditsPending += account.CreditsPending;
        }

        Assert.Equal(debitsPosted, creditsPosted);
        Assert.Equal(debitsPending, creditsPending);
    }
}
