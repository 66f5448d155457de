using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// Behaviour beyond single results: what posts, voids, expiry, closing, balancing and linked chains do to
/// balances and stored transfers, the batch clock, burnt ids, lookups and argument validation.
/// </summary>
public sealed class LedgerSemanticsTests
{
    private const ulong Second = 1_000_000_000;

    private static readonly UInt128 A = 1;
    private static readonly UInt128 B = 2;
    private static readonly UInt128 C = 3;

    [Fact]
    public void CreateTransfer_PartialPost_PostsTheAmountAndReleasesTheRemainder()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, 30)));

        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 30, creditsPending: 0, creditsPosted: 0);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 30);
        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.Posted, status);

        // The post is stored with the pending transfer's accounts, ledger and code filled in, and the amount posted.
        Assert.True(ledger.TryGetTransfer(11, out Transfer post));
        Assert.Equal(A, post.DebitAccountId);
        Assert.Equal(B, post.CreditAccountId);
        Assert.Equal(1U, post.LedgerId);
        Assert.Equal((ushort)1, post.Code);
        Assert.Equal((UInt128)30, post.Amount);
        Assert.Equal((UInt128)10, post.PendingId);
        Assert.Equal(TransferFlags.PostPendingTransfer, post.Flags);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfer_PostOfUInt128MaxValue_PostsTheWholePendingAmount()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue)));

        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 100, creditsPending: 0, creditsPosted: 0);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 100);
        Assert.True(ledger.TryGetTransfer(11, out Transfer post));
        Assert.Equal((UInt128)100, post.Amount);
    }

    [Fact]
    public void CreateTransfer_PostOfZero_ReleasesEverythingAndPostsNothing()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, 0)));

        AssertBalances(ledger, A, 0, 0, 0, 0);
        AssertBalances(ledger, B, 0, 0, 0, 0);
        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.Posted, status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void CreateTransfer_Void_ReleasesTheHoldAndStoresTheReleasedAmount(int amount)
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 500), Pend(10, A, B, 100));
        AssertBalances(ledger, A, debitsPending: 100, debitsPosted: 0, creditsPending: 0, creditsPosted: 500);

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, VoidOf(11, 10, (UInt128)amount)));

        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 500);
        AssertBalances(ledger, B, 0, 0, 0, 0);
        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.Voided, status);
        Assert.True(ledger.TryGetTransfer(11, out Transfer voided));
        Assert.Equal((UInt128)100, voided.Amount);
        Assert.Equal(A, voided.DebitAccountId);
        Assert.Equal(B, voided.CreditAccountId);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfer_PostLeavingUserDataZero_StoresThePendingTransfersUserData()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100) with { UserData128 = 7, UserData64 = 8, UserData32 = 9 });

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, 30)));

        Assert.True(ledger.TryGetTransfer(11, out Transfer post));
        Assert.Equal(((UInt128)7, 8UL, 9U), (post.UserData128, post.UserData64, post.UserData32));
    }

    [Fact]
    public void CreateTransfer_VoidLeavingUserDataZero_StoresThePendingTransfersUserData()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100) with { UserData128 = 7, UserData64 = 8, UserData32 = 9 });

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, VoidOf(11, 10, 0)));

        Assert.True(ledger.TryGetTransfer(11, out Transfer voided));
        Assert.Equal(((UInt128)7, 8UL, 9U), (voided.UserData128, voided.UserData64, voided.UserData32));
    }

    [Fact]
    public void CreateTransfer_PostSettingSomeUserData_KeepsItsOwnAndTakesTheRestFromThePendingTransfer()
    {
        // Each field on its own: a non-zero field is the post's, a zero field is the pending transfer's.
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100) with { UserData128 = 7, UserData64 = 8, UserData32 = 9 });

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue) with { UserData64 = 5 }));

        Assert.True(ledger.TryGetTransfer(11, out Transfer post));
        Assert.Equal(((UInt128)7, 5UL, 9U), (post.UserData128, post.UserData64, post.UserData32));

        // The pending transfer itself is never changed.
        Assert.True(ledger.TryGetTransfer(10, out Transfer hold));
        Assert.Equal(((UInt128)7, 8UL, 9U), (hold.UserData128, hold.UserData64, hold.UserData32));
    }

    [Fact]
    public void CreateTransfer_RetryOfAPostThatInheritedUserData_IsExistsWhetherItLeavesItZeroOrNamesIt()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 100) with { UserData128 = 7, UserData64 = 8, UserData32 = 9 }, Post(11, 10, UInt128.MaxValue));

        Assert.Equal(CreateTransferResult.Exists, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue)));
        Assert.Equal(CreateTransferResult.Exists, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue) with { UserData128 = 7, UserData64 = 8, UserData32 = 9 }));
        Assert.Equal(CreateTransferResult.ExistsWithDifferentUserData64, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue) with { UserData64 = 5 }));
    }

    [Fact]
    public void CreateTransfer_PendingTransferOverflowingAPostedBalance_ReturnsThePostedOverflowAndBurnsTheId()
    {
        // TigerBeetle's precedence: after the pending balances, a pending transfer checks the posted ones too, so the
        // result names the posted balance rather than the pending + posted sum. An overflow still burns the id here.
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, A, B, UInt128.MaxValue));

        Assert.Equal(CreateTransferResult.OverflowsDebitsPosted, ledger.CreateTransfer(0, Pend(10, A, C, 1)));
        Assert.Equal(CreateTransferResult.OverflowsCreditsPosted, ledger.CreateTransfer(0, Pend(11, C, B, 1)));

        Assert.Equal(2, ledger.BurntIdCount);
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, ledger.CreateTransfer(0, Pend(10, C, A, 1)));
        AssertBalances(ledger, C, 0, 0, 0, 0);
    }

    [Fact]
    public void CreateTransfers_HoldTimeout_ExpiresAtTheFirstBatchStartingAtOrAfterTimestampPlusTimeout()
    {
        LedgerStateMachine ledger = NewLedger();
        const ulong created = 1_000 * Second;
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(created, Pend(10, A, B, 100, timeout: 2)));
        Assert.True(ledger.TryGetTransfer(10, out Transfer hold));
        Assert.Equal(created, hold.Timestamp);
        const ulong expiresAt = created + (2 * Second);

        // One nanosecond early: an empty batch is a clock pulse, but the hold is not due yet.
        Pulse(ledger, expiresAt - 1);
        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.Pending, status);
        AssertBalances(ledger, A, debitsPending: 100, debitsPosted: 0, creditsPending: 0, creditsPosted: 0);

        Pulse(ledger, expiresAt);
        Assert.True(ledger.TryGetPendingStatus(10, out status));
        Assert.Equal(PendingStatus.Expired, status);
        AssertBalances(ledger, A, 0, 0, 0, 0);
        AssertBalances(ledger, B, 0, 0, 0, 0);

        // Expired holds can be neither posted nor voided, and the failure is not transient.
        Assert.Equal(CreateTransferResult.PendingTransferExpired, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue)));
        Assert.Equal(CreateTransferResult.PendingTransferExpired, ledger.CreateTransfer(0, VoidOf(12, 10, 0)));
        Assert.Equal(0, ledger.BurntIdCount);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfers_BatchStartingAtExpiry_ExpiresTheHoldBeforeItsFirstEvent()
    {
        LedgerStateMachine ledger = NewLedger();
        const ulong created = 1_000 * Second;
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(created, Pend(10, A, B, 100, timeout: 1)));

        Assert.Equal(CreateTransferResult.PendingTransferExpired, ledger.CreateTransfer(created + Second, Post(11, 10, UInt128.MaxValue)));
        AssertBalances(ledger, A, 0, 0, 0, 0);
    }

    [Fact]
    public void CreateTransfers_HoldDueDuringABatch_StaysPostableUntilTheNextBatchStarts()
    {
        // Expiry runs only at the start of a batch: event 1 of a batch starting one nanosecond before the expiry has
        // a timestamp equal to the expiry, yet the hold is still pending for it.
        LedgerStateMachine ledger = NewLedger();
        const ulong created = 1_000 * Second;
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(created, Pend(10, A, B, 100, timeout: 1)));
        var results = new CreateTransferResult[2];

        ledger.CreateTransfers(created + Second - 1, [Tr(20, C, A, 1), Post(11, 10, UInt128.MaxValue)], results);

        Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.Ok], results);
        Assert.True(ledger.TryGetTransfer(11, out Transfer post));
        Assert.Equal(created + Second, post.Timestamp);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 100);
    }

    [Fact]
    public void CreateTransfers_PostedHold_IsNotReleasedAgainWhenItsTimeoutPasses()
    {
        LedgerStateMachine ledger = NewLedger();
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(Second, Pend(10, A, B, 100, timeout: 1)));
        Apply(ledger, Post(11, 10, 40));

        Pulse(ledger, 10 * Second);

        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.Posted, status);
        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 40, creditsPending: 0, creditsPosted: 0);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfers_HoldsWithDifferentTimeouts_ExpireEachAtItsOwnTime()
    {
        LedgerStateMachine ledger = NewLedger();
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(Second, Pend(10, A, B, 1, timeout: 3)));
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(Second + 1, Pend(11, A, B, 2, timeout: 1)));
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(Second + 2, Pend(12, A, B, 4, timeout: 0)));

        Pulse(ledger, (2 * Second) + 1);
        AssertBalances(ledger, A, debitsPending: 5, debitsPosted: 0, creditsPending: 0, creditsPosted: 0);

        Pulse(ledger, 4 * Second);
        AssertBalances(ledger, A, debitsPending: 4, debitsPosted: 0, creditsPending: 0, creditsPosted: 0);

        // A hold with timeout 0 never expires.
        Pulse(ledger, 1_000_000 * Second);
        AssertBalances(ledger, A, debitsPending: 4, debitsPosted: 0, creditsPending: 0, creditsPosted: 0);
        Assert.True(ledger.TryGetPendingStatus(12, out PendingStatus status));
        Assert.Equal(PendingStatus.Pending, status);
    }

    [Fact]
    public void CreateTransfer_ClosingTransfer_ClosesTheAccountAndAVoidReopensIt()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 50));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Pend(10, A, B, 50) with { Flags = TransferFlags.Pending | TransferFlags.ClosingDebit }));

        Assert.True(ledger.TryGetAccount(A, out Account a));
        Assert.True((a.Flags & AccountFlags.Closed) != 0);
        Assert.True(ledger.TryGetAccount(B, out Account b));
        Assert.False((b.Flags & AccountFlags.Closed) != 0);
        Assert.Equal(CreateTransferResult.DebitAccountAlreadyClosed, ledger.CreateTransfer(0, Tr(20, A, B, 1)));
        Assert.Equal(CreateTransferResult.CreditAccountAlreadyClosed, ledger.CreateTransfer(0, Tr(21, C, A, 1)));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, VoidOf(11, 10, 0)));

        Assert.True(ledger.TryGetAccount(A, out a));
        Assert.Equal(AccountFlags.None, a.Flags);
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(22, A, B, 1)));
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfer_PostOfClosingTransfer_SucceedsAndKeepsTheAccountClosed()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Pend(10, A, B, 50) with { Flags = TransferFlags.Pending | TransferFlags.ClosingCredit });

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue)));

        Assert.True(ledger.TryGetAccount(B, out Account b));
        Assert.Equal(AccountFlags.Closed, b.Flags);
        Assert.Equal((UInt128)50, b.CreditsPosted);
        Assert.Equal(CreateTransferResult.CreditAccountAlreadyClosed, ledger.CreateTransfer(0, Tr(20, A, B, 1)));
    }

    [Fact]
    public void CreateTransfers_ExpiryOfClosingTransfer_ReopensTheAccount()
    {
        LedgerStateMachine ledger = NewLedger();
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(
            Second, Pend(10, A, B, 5, timeout: 1) with { Flags = TransferFlags.Pending | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit }));
        Assert.True(ledger.TryGetAccount(A, out Account a));
        Assert.Equal(AccountFlags.Closed, a.Flags);

        Pulse(ledger, 2 * Second);

        Assert.True(ledger.TryGetAccount(A, out a));
        Assert.Equal(AccountFlags.None, a.Flags);
        Assert.True(ledger.TryGetAccount(B, out Account b));
        Assert.Equal(AccountFlags.None, b.Flags);
        AssertBalances(ledger, A, 0, 0, 0, 0);
    }

    [Fact]
    public void CreateTransfer_BalancingDebit_MovesAtMostTheAvailableBalanceAndStoresIt()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 100), Pend(2, A, C, 30));

        // A has 100 credits posted and 30 debits pending: 70 can still move.
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(10, A, B, 1_000) with { Flags = TransferFlags.BalancingDebit }));

        Assert.True(ledger.TryGetTransfer(10, out Transfer stored));
        Assert.Equal((UInt128)70, stored.Amount);
        AssertBalances(ledger, A, debitsPending: 30, debitsPosted: 70, creditsPending: 0, creditsPosted: 100);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 70);

        // A smaller request than the available balance moves exactly what was asked.
        Apply(ledger, VoidOf(3, 2, 0));
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(11, A, B, 20) with { Flags = TransferFlags.BalancingDebit }));
        Assert.True(ledger.TryGetTransfer(11, out stored));
        Assert.Equal((UInt128)20, stored.Amount);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfer_BalancingCredit_MovesAtMostTheAvailableBalanceAndStoresIt()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, B, C, 40));

        // B has 40 debits posted and no credits: at most 40 may be credited to it.
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(10, A, B, 1_000) with { Flags = TransferFlags.BalancingCredit }));

        Assert.True(ledger.TryGetTransfer(10, out Transfer stored));
        Assert.Equal((UInt128)40, stored.Amount);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 40, creditsPending: 0, creditsPosted: 40);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfer_PendingBalancingDebit_HoldsTheCappedAmount()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 25));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(
            0, Tr(10, A, B, 100) with { Flags = TransferFlags.Pending | TransferFlags.BalancingDebit }));

        Assert.True(ledger.TryGetTransfer(10, out Transfer stored));
        Assert.Equal((UInt128)25, stored.Amount);
        AssertBalances(ledger, A, debitsPending: 25, debitsPosted: 0, creditsPending: 0, creditsPosted: 25);

        // Posting it all posts the capped amount.
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Post(11, 10, UInt128.MaxValue)));
        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 25, creditsPending: 0, creditsPosted: 25);
    }

    [Fact]
    public void CreateTransfer_BalancingDebitAndCredit_MovesTheSmallerOfBothCaps()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 100), Tr(2, B, C, 30));

        // A may give 100 (its credits), B may receive 30 (its debits): 30 moves.
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(
            0, Tr(10, A, B, 1_000) with { Flags = TransferFlags.BalancingDebit | TransferFlags.BalancingCredit }));

        Assert.True(ledger.TryGetTransfer(10, out Transfer stored));
        Assert.Equal((UInt128)30, stored.Amount);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfers_ChainBrokenBeforeItsOpenEnd_ReportsLinkedEventFailedForTheLastEvent()
    {
        // The chain checks run in the documented order: a broken chain's later events are LinkedEventFailed, even the
        // last one that leaves the chain open.
        LedgerStateMachine ledger = NewLedger();
        var results = new CreateTransferResult[3];

        ledger.CreateTransfers(
            0,
            [
                Tr(10, A, B, 1) with { Flags = TransferFlags.Linked },
                Tr(11, A, A, 1) with { Flags = TransferFlags.Linked },
                Tr(12, A, B, 1) with { Flags = TransferFlags.Linked },
            ],
            results);

        Assert.Equal([CreateTransferResult.LinkedEventFailed, CreateTransferResult.AccountsMustBeDifferent, CreateTransferResult.LinkedEventFailed], results);
        Assert.Equal(0, ledger.TransferCount);
    }

    [Fact]
    public void CreateTransfers_FailingLinkedChain_RestoresBalancesAndRemovesCreatedTransfers()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(1, C, A, 1_000), Pend(2, A, B, 100), Pend(3, B, C, 7) with { Timeout = 60 });
        Account[] before = ledger.Accounts.ToArray();
        int transfersBefore = ledger.TransferCount;
        Transfer[] chain =
        [
            Tr(10, A, B, 10) with { Flags = TransferFlags.Linked },
            Pend(11, A, C, 20) with { Flags = TransferFlags.Linked | TransferFlags.Pending | TransferFlags.ClosingCredit },
            Post(12, 2, 60) with { Flags = TransferFlags.Linked | TransferFlags.PostPendingTransfer },
            Post(13, 11, UInt128.MaxValue) with { Flags = TransferFlags.Linked | TransferFlags.PostPendingTransfer },
            VoidOf(14, 3, 0) with { Flags = TransferFlags.Linked | TransferFlags.VoidPendingTransfer },
            Tr(15, A, A, 1),
        ];
        var results = new CreateTransferResult[chain.Length];

        int failed = ledger.CreateTransfers(0, chain, results);

        Assert.Equal(chain.Length, failed);
        Assert.Equal(
            [
                CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed,
                CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed, CreateTransferResult.AccountsMustBeDifferent,
            ],
            results);
        Assert.Equal(before, ledger.Accounts.ToArray());
        Assert.Equal(transfersBefore, ledger.TransferCount);
        foreach (Transfer transfer in chain)
        {
            Assert.False(ledger.TryGetTransfer(transfer.Id, out _));
        }

        Assert.True(ledger.TryGetPendingStatus(2, out PendingStatus status));
        Assert.Equal(PendingStatus.Pending, status);
        Assert.True(ledger.TryGetPendingStatus(3, out status));
        Assert.Equal(PendingStatus.Pending, status);

        // The rolled-back ids are not burnt: the fixed chain applies.
        chain[^1] = Tr(15, A, B, 1);
        Assert.Equal(0, ledger.CreateTransfers(0, chain, results));
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfers_ChainFailingTransiently_BurnsOnlyTheFailingEventsId()
    {
        LedgerStateMachine ledger = NewLedger();
        Account[] before = ledger.Accounts.ToArray();
        Transfer[] chain = [Tr(10, A, B, 10) with { Flags = TransferFlags.Linked }, Tr(11, A, 99, 10)];
        var results = new CreateTransferResult[2];

        ledger.CreateTransfers(0, chain, results);

        Assert.Equal([CreateTransferResult.LinkedEventFailed, CreateTransferResult.CreditAccountNotFound], results);
        Assert.Equal(before, ledger.Accounts.ToArray());
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(10, A, B, 10)));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, ledger.CreateTransfer(0, Tr(11, A, B, 10)));
    }

    [Fact]
    public void CreateAccounts_FailingLinkedChain_RemovesCreatedAccounts()
    {
        LedgerStateMachine ledger = NewLedger();
        Account[] before = ledger.Accounts.ToArray();
        Account[] chain =
        [
            Acct(10) with { Flags = AccountFlags.Linked },
            Acct(11) with { Flags = AccountFlags.Linked },
            Acct(12) with { Code = 0 },
        ];
        var results = new CreateAccountResult[3];

        Assert.Equal(3, ledger.CreateAccounts(0, chain, results));

        Assert.Equal([CreateAccountResult.LinkedEventFailed, CreateAccountResult.LinkedEventFailed, CreateAccountResult.CodeMustNotBeZero], results);
        Assert.Equal(before, ledger.Accounts.ToArray());
        Assert.False(ledger.TryGetAccount(10, out _));
        Assert.False(ledger.TryGetAccount(11, out _));
        Assert.Equal(CreateTransferResult.CreditAccountNotFound, ledger.CreateTransfer(0, Tr(20, A, 10, 1)));

        chain[2] = Acct(12);
        Assert.Equal(0, ledger.CreateAccounts(0, chain, results));
        Assert.True(ledger.TryGetAccount(11, out _));
    }

    [Fact]
    public void CreateTransfers_RolledBackHoldWithTimeout_DoesNotExpireTheHoldThatReusesItsRow()
    {
        // The rolled-back hold leaves a stale entry in the expiry queue; a later hold stored in the same row (with
        // no timeout) must not be expired by it.
        LedgerStateMachine ledger = NewLedger();
        var results = new CreateTransferResult[2];
        ledger.CreateTransfers(Second, [Pend(10, A, B, 5, timeout: 1) with { Flags = TransferFlags.Linked | TransferFlags.Pending }, Tr(11, A, A, 1)], results);
        Assert.Equal(CreateTransferResult.AccountsMustBeDifferent, results[1]);
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(Second + 10, Pend(12, A, B, 7)));

        Pulse(ledger, 100 * Second);

        Assert.True(ledger.TryGetPendingStatus(12, out PendingStatus status));
        Assert.Equal(PendingStatus.Pending, status);
        AssertBalances(ledger, A, debitsPending: 7, debitsPosted: 0, creditsPending: 0, creditsPosted: 0);
    }

    [Fact]
    public void CreateTransfers_ChainOpenAtEndOfBatch_FailsTheWholeChainOnly()
    {
        LedgerStateMachine ledger = NewLedger();
        Transfer[] batch =
        [
            Tr(10, A, B, 1),
            Tr(11, A, B, 2) with { Flags = TransferFlags.Linked },
            Tr(12, A, B, 4) with { Flags = TransferFlags.Linked },
        ];
        var results = new CreateTransferResult[3];

        Assert.Equal(2, ledger.CreateTransfers(0, batch, results));

        Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventChainOpen], results);
        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 1, creditsPending: 0, creditsPosted: 0);
        Assert.False(ledger.TryGetTransfer(11, out _));
        Assert.False(ledger.TryGetTransfer(12, out _));
        Assert.Equal(0, ledger.BurntIdCount);
    }

    [Fact]
    public void CreateTransfers_SeveralChainsInOneBatch_SucceedOrFailIndependently()
    {
        LedgerStateMachine ledger = NewLedger();
        Transfer[] batch =
        [
            Tr(10, A, B, 1) with { Flags = TransferFlags.Linked }, // chain 1: succeeds
            Tr(11, A, B, 2),
            Tr(12, A, B, 4) with { Flags = TransferFlags.Linked }, // chain 2: fails on its last event
            Tr(13, A, B, 8) with { Flags = TransferFlags.Linked },
            Tr(14, B, B, 16),
            Tr(15, A, C, 32), // not linked
            Tr(16, A, C, 64) with { Flags = TransferFlags.Linked }, // chain 3: fails on its first event, then continues failed
            Tr(17, C, C, 128) with { Flags = TransferFlags.Linked },
            Tr(18, A, C, 256),
            Tr(19, A, B, 512) with { Flags = TransferFlags.Linked }, // chain 4: succeeds
            Tr(20, B, C, 1_024),
        ];
        var results = new CreateTransferResult[batch.Length];

        int failed = ledger.CreateTransfers(0, batch, results);

        Assert.Equal(
            [
                CreateTransferResult.Ok, CreateTransferResult.Ok,
                CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed, CreateTransferResult.AccountsMustBeDifferent,
                CreateTransferResult.Ok,
                CreateTransferResult.LinkedEventFailed, CreateTransferResult.AccountsMustBeDifferent, CreateTransferResult.LinkedEventFailed,
                CreateTransferResult.Ok, CreateTransferResult.Ok,
            ],
            results);
        Assert.Equal(6, failed);
        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: 1 + 2 + 32 + 512, creditsPending: 0, creditsPosted: 0);
        AssertBalances(ledger, B, debitsPending: 0, debitsPosted: 1_024, creditsPending: 0, creditsPosted: 1 + 2 + 512);
        AssertBalances(ledger, C, debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 32 + 1_024);
        Assert.Equal(5, ledger.TransferCount);
        AssertInvariants(ledger);
    }

    [Fact]
    public void CreateTransfers_LargeBatchWithManyFailedChains_KeepsEveryOtherTransferFindable()
    {
        // Many rollbacks interleaved with successes exercise removal from the id index (backward-shift deletion).
        LedgerStateMachine ledger = NewLedger();
        var batch = new Transfer[3_000];
        for (int i = 0; i < batch.Length; i += 3)
        {
            bool failChain = i % 2 == 0;
            batch[i] = Tr((UInt128)(1_000 + i), A, B, 1);
            batch[i + 1] = Tr((UInt128)(1_000 + i + 1), A, B, 1) with { Flags = TransferFlags.Linked };
            batch[i + 2] = failChain ? Tr((UInt128)(1_000 + i + 2), A, A, 1) : Tr((UInt128)(1_000 + i + 2), A, B, 1);
        }

        var results = new CreateTransferResult[batch.Length];
        ledger.CreateTransfers(0, batch, results);

        int applied = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            bool shouldExist = i % 3 == 0 || (i / 3 * 3) % 2 != 0;
            Assert.Equal(shouldExist, ledger.TryGetTransfer(batch[i].Id, out Transfer stored));
            if (shouldExist)
            {
                Assert.Equal(batch[i].Id, stored.Id);
                applied++;
            }
        }

        Assert.Equal(applied, ledger.TransferCount);
        AssertBalances(ledger, A, debitsPending: 0, debitsPosted: (UInt128)applied, creditsPending: 0, creditsPosted: 0);
    }

    [Fact]
    public void CreateTransfers_BatchTimestampGoingBackwards_StillAssignsStrictlyIncreasingTimestamps()
    {
        LedgerStateMachine ledger = new();
        var accountResults = new CreateAccountResult[2];
        ledger.CreateAccounts(1_000, [Acct(A), Acct(B)], accountResults);
        Assert.True(ledger.TryGetAccount(A, out Account a));
        Assert.True(ledger.TryGetAccount(B, out Account b));
        Assert.Equal(1_000UL, a.Timestamp);
        Assert.Equal(1_001UL, b.Timestamp);

        var results = new CreateTransferResult[3];
        ledger.CreateTransfers(500, [Tr(10, A, B, 1), Tr(11, A, B, 1), Tr(12, A, B, 1)], results);
        Assert.Equal(1_004UL, ledger.LastTimestamp);
        ledger.CreateTransfers(0, [], []); // an empty batch takes one tick
        Assert.Equal(1_005UL, ledger.LastTimestamp);
        ledger.CreateTransfers(1_003, [Tr(13, A, B, 1)], results);
        ledger.CreateTransfers(5_000, [Tr(14, A, B, 1), Tr(15, A, B, 1)], results);
        ledger.CreateTransfers(4_000, [Tr(16, A, B, 1)], results);

        ulong[] expected = [1_002, 1_003, 1_004, 1_006, 5_000, 5_001, 5_002];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(ledger.TryGetTransfer((UInt128)(10 + i), out Transfer t));
            Assert.Equal(expected[i], t.Timestamp);
        }

        Assert.Equal(5_002UL, ledger.LastTimestamp);
    }

    [Fact]
    public void CreateTransfers_FailedEvents_StillConsumeTheirTimestamps()
    {
        // Event i of a batch gets start + i whatever the outcome of the others.
        LedgerStateMachine ledger = NewLedger();
        var results = new CreateTransferResult[3];

        ledger.CreateTransfers(10_000, [Tr(10, A, A, 1), Tr(11, A, 99, 1), Tr(12, A, B, 1)], results);

        Assert.True(ledger.TryGetTransfer(12, out Transfer t));
        Assert.Equal(10_002UL, t.Timestamp);
        Assert.Equal(10_002UL, ledger.LastTimestamp);
    }

    [Fact]
    public void CreateTransfer_BurntIdRetriedAfterTheCauseIsFixed_StillReturnsIdAlreadyFailed()
    {
        LedgerStateMachine ledger = NewLedger();
        Assert.Equal(CreateTransferResult.CreditAccountNotFound, ledger.CreateTransfer(0, Tr(10, A, 99, 5)));
        Assert.Equal(CreateAccountResult.Ok, ledger.CreateAccount(0, Acct(99)));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, ledger.CreateTransfer(0, Tr(10, A, 99, 5)));
        Assert.False(ledger.TryGetTransfer(10, out _));
        Assert.False(ledger.TryGetPendingStatus(10, out _));

        Assert.Equal(CreateAccountResult.Ok, ledger.CreateAccount(0, Acct(50) with { Flags = AccountFlags.DebitsMustNotExceedCredits }));
        Assert.Equal(CreateTransferResult.ExceedsCredits, ledger.CreateTransfer(0, Tr(11, 50, B, 5)));
        Apply(ledger, Tr(12, A, 50, 5));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, ledger.CreateTransfer(0, Tr(11, 50, B, 5)));

        Assert.Equal(CreateTransferResult.PendingTransferNotFound, ledger.CreateTransfer(0, Post(13, 14, UInt128.MaxValue)));
        Apply(ledger, Pend(14, A, B, 5));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, ledger.CreateTransfer(0, Post(13, 14, UInt128.MaxValue)));

        // A burnt id cannot be used for a pending transfer that others then name either.
        Assert.Equal(CreateTransferResult.PendingTransferNotFound, ledger.CreateTransfer(0, Post(15, 10, UInt128.MaxValue)));
        Assert.Equal(3 + 1, ledger.BurntIdCount);
    }

    [Fact]
    public void LookupAccounts_SomeIdsMissing_WritesFoundAccountsCompactedInOrder()
    {
        LedgerStateMachine ledger = NewLedger();
        var results = new Account[5];

        int found = ledger.LookupAccounts([C, 98, A, 0, B], results);

        Assert.Equal(3, found);
        Assert.Equal(new[] { C, A, B }, results.Take(3).Select(r => r.Id));
        Assert.All(results.Skip(3), r => Assert.Equal(default, r));
    }

    [Fact]
    public void LookupTransfers_SomeIdsMissingOrBurnt_WritesFoundTransfersCompactedInOrder()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(10, A, B, 1), Tr(11, A, B, 2), Tr(12, A, B, 3));
        Assert.Equal(CreateTransferResult.DebitAccountNotFound, ledger.CreateTransfer(0, Tr(13, 99, B, 1)));
        var results = new Transfer[6];

        int found = ledger.LookupTransfers([12, 13, 99, 10, UInt128.MaxValue, 11], results);

        Assert.Equal(3, found);
        Assert.Equal(new UInt128[] { 12, 10, 11 }, results.Take(3).Select(r => r.Id));
        Assert.Equal((UInt128)3, results[0].Amount);
        Assert.All(results.Skip(3), r => Assert.Equal(default, r));
    }

    [Fact]
    public void Lookups_ResultsLongerThanIds_AreAccepted()
    {
        LedgerStateMachine ledger = NewLedger();

        Assert.Equal(1, ledger.LookupAccounts([A], new Account[4]));
        Assert.Equal(0, ledger.LookupTransfers([], new Transfer[4]));
    }

    [Fact]
    public void CreateTransfers_ResultsTooShort_ThrowsArgumentExceptionForResultsAndChangesNothing()
    {
        LedgerStateMachine ledger = NewLedger();
        ulong last = ledger.LastTimestamp;

        ArgumentException e = Assert.Throws<ArgumentException>(
            () => ledger.CreateTransfers(0, [Tr(10, A, B, 1), Tr(11, A, B, 1)], new CreateTransferResult[1]));

        Assert.Equal("results", e.ParamName);
        Assert.Equal(0, ledger.TransferCount);
        Assert.Equal(last, ledger.LastTimestamp);
    }

    [Fact]
    public void CreateAccounts_ResultsTooShort_ThrowsArgumentExceptionForResultsAndChangesNothing()
    {
        LedgerStateMachine ledger = NewLedger();
        int count = ledger.AccountCount;

        ArgumentException e = Assert.Throws<ArgumentException>(() => ledger.CreateAccounts(0, [Acct(10)], []));

        Assert.Equal("results", e.ParamName);
        Assert.Equal(count, ledger.AccountCount);
    }

    [Fact]
    public void LookupAccounts_ResultsTooShort_ThrowsArgumentExceptionForResults()
    {
        LedgerStateMachine ledger = NewLedger();

        ArgumentException e = Assert.Throws<ArgumentException>(() => ledger.LookupAccounts([A, B], new Account[1]));

        Assert.Equal("results", e.ParamName);
    }

    [Fact]
    public void LookupTransfers_ResultsTooShort_ThrowsArgumentExceptionForResults()
    {
        LedgerStateMachine ledger = NewLedger();

        ArgumentException e = Assert.Throws<ArgumentException>(() => ledger.LookupTransfers([1, 2, 3], new Transfer[2]));

        Assert.Equal("results", e.ParamName);
    }

    [Fact]
    public void CreateTransfers_BatchTimestampsOverflowingTheClock_ThrowsAndChangesNothing()
    {
        // A caller bug, not a business outcome: the batch cannot be given strictly increasing timestamps.
        LedgerStateMachine ledger = NewLedger();

        Assert.ThrowsAny<ArgumentException>(
            () => ledger.CreateTransfers(ulong.MaxValue, [Tr(10, A, B, 1), Tr(11, A, B, 1)], new CreateTransferResult[2]));

        Assert.Equal(0, ledger.TransferCount);
        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(ulong.MaxValue, Tr(10, A, B, 1)));
        Assert.Equal(ulong.MaxValue, ledger.LastTimestamp);
        Assert.ThrowsAny<ArgumentException>(() => ledger.CreateTransfers(0, [], []));
    }

    [Fact]
    public void TryGetPendingStatus_TransferThatIsNotPending_ReturnsTrueWithNone()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(10, A, B, 1));

        Assert.True(ledger.TryGetPendingStatus(10, out PendingStatus status));
        Assert.Equal(PendingStatus.None, status);
        Assert.False(ledger.TryGetPendingStatus(11, out status));
        Assert.Equal(PendingStatus.None, status);
    }

    [Fact]
    public void CreateTransfers_ReturnValue_CountsEventsThatWereNotApplied()
    {
        LedgerStateMachine ledger = NewLedger();
        Apply(ledger, Tr(10, A, B, 1));
        var results = new CreateTransferResult[4];

        int failed = ledger.CreateTransfers(0, [Tr(10, A, B, 1), Tr(11, A, B, 1), Tr(12, A, A, 1), Tr(13, 99, B, 1)], results);

        // An idempotent Exists is not Ok, so it counts.
        Assert.Equal([CreateTransferResult.Exists, CreateTransferResult.Ok, CreateTransferResult.AccountsMustBeDifferent, CreateTransferResult.DebitAccountNotFound], results);
        Assert.Equal(3, failed);
    }

    /// <summary>A ledger with accounts A, B and C on ledger 1 (no balance flags), created at timestamp 1.</summary>
    private static Ledger NewLedger()
    {
        var ledger = new LedgerStateMachine();
        var results = new CreateAccountResult[3];
        Assert.Equal(0, ledger.CreateAccounts(1, [Acct(A), Acct(B), Acct(C)], results));
        return ledger;
    }

    private static void Pulse(LedgerStateMachine ledger, ulong timestamp)
    {
        ledger.CreateTransfers(timestamp, [], []);
        Assert.Equal(timestamp, ledger.LastTimestamp);
    }

    private static void Apply(LedgerStateMachine ledger, params Transfer[] transfers)
    {
        foreach (Transfer transfer in transfers)
        {
            CreateTransferResult result = ledger.CreateTransfer(0, transfer);
            Assert.True(result == CreateTransferResult.Ok, $"arranging {transfer}: {result}");
        }
    }

    private static void AssertBalances(LedgerStateMachine ledger, UInt128 id, UInt128 debitsPending, UInt128 debitsPosted, UInt128 creditsPending, UInt128 creditsPosted)
    {
        Assert.True(ledger.TryGetAccount(id, out Account account));
        Assert.Equal(
            (debitsPending, debitsPosted, creditsPending, creditsPosted),
            (account.DebitsPending, account.DebitsPosted, account.CreditsPending, account.CreditsPosted));
    }

    /// <summary>The invariants the ledger's class remarks promise after every call.</summary>
    private static void AssertInvariants(LedgerStateMachine ledger)
    {
        foreach (Account account in ledger.Accounts)
        {
            if ((account.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0)
            {
                Assert.True(account.DebitsPending + account.DebitsPosted <= account.CreditsPosted);
            }

            if ((account.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0)
            {
                Assert.True(account.CreditsPending + account.CreditsPosted <= account.DebitsPosted);
            }
        }

        AssertConserved(ledger.Accounts);
    }
}
