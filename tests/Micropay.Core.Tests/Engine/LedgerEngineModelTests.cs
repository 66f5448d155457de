using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// How the engine cuts submissions into ledger batches: a submission ending inside a linked chain ends its ledger
/// batch, so the ledger fails that chain as open and no later caller's events can join (and close) it.
/// </summary>
public sealed class LedgerEngineModelTests : EngineTestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The counterexample FsCheck shrank when the engine gained automatic clock pulses: a hold with a one-second
    /// timeout, then a submission a second later. With pulses on, an idle engine applied an empty batch in between
    /// (expiring the hold one batch earlier and taking a timestamp), so submissions were no longer one batch each; the
    /// property now runs with pulses off, and this script must agree with the one-batch-per-submission model.
    /// </summary>
    [Fact]
    public async Task ShrunkScript_HoldThatExpiresBetweenSubmissions_AgreesWithTheModelWithoutPulses()
    {
        var script = new LedgerEngineProperties.Script([
            new LedgerEngineProperties.Step(1000000003000000100, [new Account { Id = 7, LedgerId = 1, Code = 1, Flags = (AccountFlags)0 }], null, Single: false),
            new LedgerEngineProperties.Step(1000000004000000200, null, [
                new Transfer { Id = 1, DebitAccountId = 9, CreditAccountId = 2, Amount = 5, PendingId = 0, Timeout = 0, LedgerId = 1, Code = 1, Flags = (TransferFlags)0 },
                new Transfer { Id = 10, DebitAccountId = 4, CreditAccountId = 7, Amount = 3, PendingId = 0, Timeout = 1, LedgerId = 1, Code = 1, Flags = (TransferFlags)2 },
            ], Single: false),
            new LedgerEngineProperties.Step(1000000005000000200, null, [
                new Transfer { Id = 8, DebitAccountId = 4, CreditAccountId = 3, Amount = 10, PendingId = 0, Timeout = 2, LedgerId = 1, Code = 1, Flags = (TransferFlags)2 },
            ], Single: true),
        ]);

        Assert.Null(await LedgerEngineProperties.FirstDisagreementAsync(script));
    }

    [Fact]
    public async Task CreateTransfersAsync_BatchEndingWithLinkedEvent_FailsThatChainAsOpenAndLeavesTheNextSubmissionsAlone()
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory)) { Delay = TimeSpan.FromMilliseconds(300) };
        await using (LedgerEngine engine = await OpenEngineAsync(store))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));

            // Fill the pipeline (one batch stalled in the store, one applied behind it) so the three submissions below
            // queue up together: the engine would gather them into one ledger batch if it did not end the batch after
            // the open chain, and then the single transfer 13 would close the chain and let 11 and 12 succeed.
            store.InjectFault(AppendFault.DelayBeforeWrite);
            ValueTask<CreateTransferResult> blocked = engine.CreateTransferAsync(Tr(1, 1, 2, 1));
            while (store.FaultsInjected == 0)
            {
                await Task.Delay(5);
            }

            ValueTask<CreateTransferResult> filler = engine.CreateTransferAsync(Tr(2, 1, 2, 1));
            await Task.Delay(100);

            Transfer[] openChain = [Tr(10, 1, 2, 5), Tr(11, 1, 2, 6, TransferFlags.Linked), Tr(12, 2, 3, 7, TransferFlags.Linked)];
            var openResults = new CreateTransferResult[3];
            ValueTask<int> open = engine.CreateTransfersAsync(openChain, openResults);
            ValueTask<CreateTransferResult> next = engine.CreateTransferAsync(Tr(13, 1, 3, 8));
            Transfer[] closedChain = [Tr(14, 1, 2, 9, TransferFlags.Linked), Tr(15, 2, 3, 10)];
            var closedResults = new CreateTransferResult[2];
            ValueTask<int> closed = engine.CreateTransfersAsync(closedChain, closedResults);

            Assert.Equal(CreateTransferResult.Ok, await blocked.AsTask().WaitAsync(Patience));
            Assert.Equal(CreateTransferResult.Ok, await filler.AsTask().WaitAsync(Patience));
            Assert.Equal(2, await open.AsTask().WaitAsync(Patience));
            Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventChainOpen], openResults);
            Assert.Equal(CreateTransferResult.Ok, await next.AsTask().WaitAsync(Patience));
            Assert.Equal(0, await closed.AsTask().WaitAsync(Patience));
            Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.Ok], closedResults);

            // Only 1, 2, 10, 13, 14 and 15 moved money.
            Assert.False(engine.TryGetTransfer(11, out _));
            Assert.False(engine.TryGetTransfer(12, out _));
            Assert.True(engine.TryGetAccount(1, out Account one));
            Assert.Equal((UInt128)(1 + 1 + 5 + 8 + 9), one.DebitsPosted);
            AssertConserved(engine.ReadAllAccounts());
        }

        // In the journal, the open chain's last event is the last event of its batch.
        JournalReplay journal = await ReplayJournalAsync(Directory);
        ReplayedBatch withChain = Assert.Single(journal.Batches, b => b.Transfers?.Any(t => t.Id == 12) == true);
        Assert.Equal((UInt128)12, withChain.Transfers![^1].Id);
        Assert.Equal(CreateTransferResult.LinkedEventChainOpen, withChain.TransferResults![^1]);
    }

    [Fact]
    public async Task CreateTransferAsync_SingleLinkedTransfer_FailsAsOpenChainAndLeavesTheNextSubmissionAlone()
    {
        await using LedgerEngine engine = await OpenInMemoryEngineAsync();
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));

        // Submitted together, not awaited in between: they may meet in one gathering of the apply loop.
        ValueTask<CreateTransferResult> linked = engine.CreateTransferAsync(Tr(10, 1, 2, 5, TransferFlags.Linked));
        ValueTask<CreateTransferResult> next = engine.CreateTransferAsync(Tr(11, 1, 2, 6));

        Assert.Equal(CreateTransferResult.LinkedEventChainOpen, await linked);
        Assert.Equal(CreateTransferResult.Ok, await next);
        Assert.False(engine.TryGetTransfer(10, out _));
        Assert.True(engine.TryGetAccount(1, out Account debited));
        Assert.Equal((UInt128)6, debited.DebitsPosted);

        // Not burnt: the chain failure is not transient, so the id can be used again, closed this time.
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
    }

    [Fact]
    public async Task CreateAccountsAsync_BatchEndingWithLinkedAccount_FailsThatChainAsOpenAndLeavesTheNextSubmissionAlone()
    {
        await using LedgerEngine engine = await OpenInMemoryEngineAsync();
        var results = new CreateAccountResult[3];
        ValueTask<int> open = engine.CreateAccountsAsync(new[] { Acct(1), Acct(2, AccountFlags.Linked), Acct(3, AccountFlags.Linked) }, results);
        ValueTask<CreateAccountResult> next = engine.CreateAccountAsync(Acct(4));

        Assert.Equal(2, await open);
        Assert.Equal([CreateAccountResult.Ok, CreateAccountResult.LinkedEventFailed, CreateAccountResult.LinkedEventChainOpen], results);
        Assert.Equal(CreateAccountResult.Ok, await next);
        Assert.Equal([(UInt128)1, (UInt128)4], engine.ReadAllAccounts().Select(a => a.Id));
    }
}
