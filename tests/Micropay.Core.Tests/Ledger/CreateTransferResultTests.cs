using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// One or more scenarios per <see cref="CreateTransferResult"/> value, and precedence tests for the order of checks
/// listed in that enum's remarks (the first failing check decides the result).
/// </summary>
public sealed class CreateTransferResultTests
{
    // Accounts of every scenario's ledger. A, B, C, E, F, G, H are on ledger 1; D is on ledger 2.
    private static readonly UInt128 A = 1;
    private static readonly UInt128 B = 2;
    private static readonly UInt128 C = 3;
    private static readonly UInt128 D = 4;
    private static readonly UInt128 E = 5; // DebitsMustNotExceedCredits
    private static readonly UInt128 F = 6; // CreditsMustNotExceedDebits
    private static readonly UInt128 G = 7; // closed
    private static readonly UInt128 H = 8; // closed
    private static readonly UInt128 Missing = 99;
    private static readonly UInt128 Max = UInt128.MaxValue;

    // The id every scenario's act uses; arrangements use smaller ids. Pending transfer 50 is the usual hold.
    private static readonly UInt128 Id = 500;
    private static readonly UInt128 Hold = 50;

    // Five seconds of logical clock: later than every arrangement, so a hold with a one-second timeout made while
    // arranging has expired when the act runs, and one with a minute's timeout has not.
    private const ulong ActTimestamp = 5_000_000_000;

    // A batch timestamp so close to the end of the clock that a pending transfer's maximal timeout overflows it.
    private const ulong EndOfClock = ulong.MaxValue - 10;

    // The transient results listed in CreateTransferResult's remarks: each burns the transfer id.
    private static readonly HashSet<CreateTransferResult> Transient =
    [
        CreateTransferResult.DebitAccountNotFound,
        CreateTransferResult.CreditAccountNotFound,
        CreateTransferResult.PendingTransferNotFound,
        CreateTransferResult.DebitAccountAlreadyClosed,
        CreateTransferResult.CreditAccountAlreadyClosed,
        CreateTransferResult.OverflowsDebitsPending,
        CreateTransferResult.OverflowsCreditsPending,
        CreateTransferResult.OverflowsDebitsPosted,
        CreateTransferResult.OverflowsCreditsPosted,
        CreateTransferResult.OverflowsDebits,
        CreateTransferResult.OverflowsCredits,
        CreateTransferResult.OverflowsTimeout,
        CreateTransferResult.ExceedsCredits,
        CreateTransferResult.ExceedsDebits,
    ];

    /// <summary>
    /// A scenario: <see cref="Arrange"/> runs on a fresh ledger holding the accounts above, then <see cref="Batch"/>
    /// is submitted at <see cref="Timestamp"/> and result <see cref="ResultIndex"/> must be <see cref="Expected"/>.
    /// </summary>
    private sealed record Scenario(
        string Name, CreateTransferResult Expected, Action<LedgerStateMachine>? Arrange, Transfer[] Batch, int ResultIndex, ulong Timestamp);

    private static readonly Scenario[] BaseScenarios =
    [
        // Ok, one per mode.
        S("single-phase transfer", CreateTransferResult.Ok, null, Tr(Id, A, B, 10)),
        S("zero-amount transfer", CreateTransferResult.Ok, null, Tr(Id, A, B, 0)),
        S("pending transfer with a timeout", CreateTransferResult.Ok, null, Pend(Id, A, B, 10, timeout: 60)),
        S("full post", CreateTransferResult.Ok, l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max)),
        S("partial post", CreateTransferResult.Ok, l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, 4)),
        S("void of amount 0", CreateTransferResult.Ok, l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 0)),
        S("void of the pending amount", CreateTransferResult.Ok, l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 10)),
        S("balancing debit", CreateTransferResult.Ok, null, Tr(Id, A, B, 10) with { Flags = TransferFlags.BalancingDebit }),
        S("balancing credit", CreateTransferResult.Ok, null, Tr(Id, A, B, 10) with { Flags = TransferFlags.BalancingCredit }),
        S("closing pending transfer", CreateTransferResult.Ok, null,
            Pend(Id, A, B, 10) with { Flags = TransferFlags.Pending | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit }),

        // Chains.
        new("chain whose second event fails", CreateTransferResult.LinkedEventFailed, null,
            [Tr(Id, A, B, 10) with { Flags = TransferFlags.Linked }, Tr(501, A, A, 10)], ResultIndex: 0, ActTimestamp),
        new("chain whose first event fails", CreateTransferResult.LinkedEventFailed, null,
            [Tr(Id, A, A, 10) with { Flags = TransferFlags.Linked }, Tr(501, A, B, 10)], ResultIndex: 1, ActTimestamp),
        S("batch of one linked event", CreateTransferResult.LinkedEventChainOpen, null, Tr(Id, A, B, 10) with { Flags = TransferFlags.Linked }),
        new("batch ending with an open chain", CreateTransferResult.LinkedEventChainOpen, null,
            [Tr(Id, A, B, 10) with { Flags = TransferFlags.Linked }, Tr(501, A, B, 10) with { Flags = TransferFlags.Linked }],
            ResultIndex: 1, ActTimestamp),

        // Validation of the transfer alone.
        S("non-zero timestamp", CreateTransferResult.TimestampMustBeZero, null, Tr(Id, A, B, 10) with { Timestamp = 1 }),
        S("reserved flag bit", CreateTransferResult.ReservedFlag, null, Tr(Id, A, B, 10) with { Flags = (TransferFlags)(1 << 8) }),
        S("highest reserved flag bit", CreateTransferResult.ReservedFlag, null, Tr(Id, A, B, 10) with { Flags = (TransferFlags)(1 << 15) }),
        S("id zero", CreateTransferResult.IdMustNotBeZero, null, Tr(0, A, B, 10)),
        S("id UInt128.MaxValue", CreateTransferResult.IdMustNotBeIntMax, null, Tr(Max, A, B, 10)),
        S("id the first reserved", CreateTransferResult.IdReserved, null, Tr(new UInt128(0xFFFF_FFFF_0000_0000, 0), A, B, 10)),
        S("id reserved, before debit account zero", CreateTransferResult.IdReserved, null, Tr(Max - 1, 0, B, 10)),

        // Idempotency: a transfer with this id exists.
        S("existing id, different flags", CreateTransferResult.ExistsWithDifferentFlags,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { Flags = TransferFlags.BalancingDebit }),
        S("existing post, different pending id", CreateTransferResult.ExistsWithDifferentPendingId,
            l => Apply(l, Pend(Hold, A, B, 10), Pend(51, A, B, 10), Post(Id, Hold, Max)), Post(Id, 51, Max)),
        S("existing pending, different timeout", CreateTransferResult.ExistsWithDifferentTimeout,
            l => Apply(l, Pend(Id, A, B, 10, timeout: 60)), Pend(Id, A, B, 10, timeout: 120)),
        S("existing id, different debit account", CreateTransferResult.ExistsWithDifferentDebitAccountId,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, C, B, 10)),
        S("existing post, different debit account", CreateTransferResult.ExistsWithDifferentDebitAccountId,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, Max) with { DebitAccountId = C }),
        S("existing id, different credit account", CreateTransferResult.ExistsWithDifferentCreditAccountId,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, C, 10)),
        S("existing void, different credit account", CreateTransferResult.ExistsWithDifferentCreditAccountId,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(Id, Hold, 0)), VoidOf(Id, Hold, 0) with { CreditAccountId = C }),
        S("existing id, different amount", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 11)),
        S("existing balancing transfer, retry asking for less than moved", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Tr(1, B, A, 50), Balancing(Id, A, C, 80)), Balancing(Id, A, C, 49)),
        S("existing partial post, retry posting everything", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, 4)), Post(Id, Hold, Max)),
        S("existing void, retry with another non-zero amount", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(Id, Hold, 0)), VoidOf(Id, Hold, 3)),
        S("existing id, different user data 128", CreateTransferResult.ExistsWithDifferentUserData128,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData128 = 9 }),
        S("existing id, different user data 64", CreateTransferResult.ExistsWithDifferentUserData64,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData64 = 9 }),
        S("existing id, different user data 32", CreateTransferResult.ExistsWithDifferentUserData32,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData32 = 9 }),
        S("existing id, different ledger", CreateTransferResult.ExistsWithDifferentLedger,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { LedgerId = 2 }),
        S("existing post, different ledger", CreateTransferResult.ExistsWithDifferentLedger,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, Max) with { LedgerId = 2 }),
        S("existing id, different code", CreateTransferResult.ExistsWithDifferentCode,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { Code = 2 }),
        S("existing post, different code", CreateTransferResult.ExistsWithDifferentCode,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, Max) with { Code = 2 }),
        S("identical retry", CreateTransferResult.Exists, l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10)),
        S("identical retry of a pending transfer", CreateTransferResult.Exists,
            l => Apply(l, Pend(Id, A, B, 10, timeout: 60)), Pend(Id, A, B, 10, timeout: 60)),
        S("retry of a post leaving accounts, ledger and code zero", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, Max)),
        S("retry of a post naming the pending transfer's accounts, ledger and code", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)),
            Post(Id, Hold, Max) with { DebitAccountId = A, CreditAccountId = B, LedgerId = 1, Code = 1 }),
        S("retry of a full post with the explicit amount", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, 10)),
        S("retry of a full post with more than the pending amount", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, 11)),
        S("existing partial post, retry with more than it posted", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, 4)), Post(Id, Hold, 5)),
        S("existing full post, retry with less than the pending amount", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, Max)), Post(Id, Hold, 9)),
        S("retry of an explicit full post with UInt128.MaxValue", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), Post(Id, Hold, 10)), Post(Id, Hold, Max)),
        S("retry of a void of 0 with the pending amount", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(Id, Hold, 0)), VoidOf(Id, Hold, 10)),
        S("retry of a void of the pending amount with 0", CreateTransferResult.Exists,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(Id, Hold, 10)), VoidOf(Id, Hold, 0)),
        S("retry of a post that took the pending transfer's user data, leaving it zero", CreateTransferResult.Exists,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), Post(Id, Hold, Max)), Post(Id, Hold, Max)),
        S("retry of a post that took the pending transfer's user data, naming it", CreateTransferResult.Exists,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), Post(Id, Hold, Max)), WithUserData(Post(Id, Hold, Max))),
        S("retry of a void that set its own user data", CreateTransferResult.Exists,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 0) with { UserData64 = 5 }),
            VoidOf(Id, Hold, 0) with { UserData64 = 5 }),
        S("retry leaving zero the user data 128 a post set itself", CreateTransferResult.ExistsWithDifferentUserData128,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { UserData128 = 5 }), Post(Id, Hold, Max)),
        S("retry leaving zero the user data 64 a void set itself", CreateTransferResult.ExistsWithDifferentUserData64,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 0) with { UserData64 = 5 }), VoidOf(Id, Hold, 0)),
        S("retry of a post naming other user data 32", CreateTransferResult.ExistsWithDifferentUserData32,
            l => Apply(l, WithUserData(Pend(Hold, A, B, 10)), Post(Id, Hold, Max)), Post(Id, Hold, Max) with { UserData32 = 5 }),
        S("retry of a balancing transfer asking for exactly what moved", CreateTransferResult.Exists,
            l => Apply(l, Tr(1, B, A, 50), Balancing(Id, A, C, 80)), Balancing(Id, A, C, 50)),
        S("retry of a balancing transfer asking for more than moved", CreateTransferResult.Exists,
            l => Apply(l, Tr(1, B, A, 50), Balancing(Id, A, C, 80)), Balancing(Id, A, C, Max)),

        // Mode flags.
        S("pending and post", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            Post(Id, Hold, 1) with { Flags = TransferFlags.Pending | TransferFlags.PostPendingTransfer }),
        S("pending and void", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            VoidOf(Id, Hold, 0) with { Flags = TransferFlags.Pending | TransferFlags.VoidPendingTransfer }),
        S("post and void", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            Post(Id, Hold, 1) with { Flags = TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer }),
        S("post and balancing debit", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            Post(Id, Hold, 1) with { Flags = TransferFlags.PostPendingTransfer | TransferFlags.BalancingDebit }),
        S("void and balancing credit", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            VoidOf(Id, Hold, 0) with { Flags = TransferFlags.VoidPendingTransfer | TransferFlags.BalancingCredit }),
        S("post and closing credit", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            Post(Id, Hold, 1) with { Flags = TransferFlags.PostPendingTransfer | TransferFlags.ClosingCredit }),
        S("void and closing debit", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            VoidOf(Id, Hold, 0) with { Flags = TransferFlags.VoidPendingTransfer | TransferFlags.ClosingDebit }),

        // Accounts and ids of a transfer that is not a post or void.
        S("debit account zero", CreateTransferResult.DebitAccountIdMustNotBeZero, null, Tr(Id, 0, B, 10)),
        S("debit account UInt128.MaxValue", CreateTransferResult.DebitAccountIdMustNotBeIntMax, null, Tr(Id, Max, B, 10)),
        S("credit account zero", CreateTransferResult.CreditAccountIdMustNotBeZero, null, Tr(Id, A, 0, 10)),
        S("credit account UInt128.MaxValue", CreateTransferResult.CreditAccountIdMustNotBeIntMax, null, Tr(Id, A, Max, 10)),
        S("debit account reserved (an escrow)", CreateTransferResult.DebitAccountIdReserved, null, Tr(Id, Max - 1, B, 10)),
        S("debit account reserved, before credit account zero", CreateTransferResult.DebitAccountIdReserved, null, Tr(Id, Max - 1, 0, 10)),
        S("credit account reserved (an escrow)", CreateTransferResult.CreditAccountIdReserved, null, Tr(Id, A, new UInt128(0xFFFF_FFFF_0000_0000, 7), 10)),
        S("reserved accounts, before same accounts", CreateTransferResult.DebitAccountIdReserved, null, Tr(Id, Max - 1, Max - 1, 10)),
        S("same debit and credit account", CreateTransferResult.AccountsMustBeDifferent, null, Tr(Id, A, A, 10)),
        S("single-phase transfer with a pending id", CreateTransferResult.PendingIdMustBeZero,
            l => Apply(l, Pend(Hold, A, B, 10)), Tr(Id, A, B, 10) with { PendingId = Hold }),
        S("pending transfer with a pending id", CreateTransferResult.PendingIdMustBeZero,
            l => Apply(l, Pend(Hold, A, B, 10)), Pend(Id, A, B, 10) with { PendingId = Hold }),

        // Post and void.
        S("post with pending id zero", CreateTransferResult.PendingIdMustNotBeZero, null, Post(Id, 0, Max)),
        S("void with pending id zero", CreateTransferResult.PendingIdMustNotBeZero, null, VoidOf(Id, 0, 0)),
        S("post with pending id UInt128.MaxValue", CreateTransferResult.PendingIdMustNotBeIntMax, null, Post(Id, Max, Max)),
        S("post naming itself", CreateTransferResult.PendingIdMustBeDifferent, null, Post(Id, Id, Max)),
        S("single-phase transfer with a timeout", CreateTransferResult.TimeoutReservedForPendingTransfer, null,
            Tr(Id, A, B, 10) with { Timeout = 1 }),
        S("post with a timeout", CreateTransferResult.TimeoutReservedForPendingTransfer,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { Timeout = 1 }),
        S("void with a timeout", CreateTransferResult.TimeoutReservedForPendingTransfer,
            l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 0) with { Timeout = 1 }),
        S("single-phase closing debit", CreateTransferResult.ClosingTransferMustBePending, null,
            Tr(Id, A, B, 10) with { Flags = TransferFlags.ClosingDebit }),
        S("single-phase closing credit", CreateTransferResult.ClosingTransferMustBePending, null,
            Tr(Id, A, B, 10) with { Flags = TransferFlags.ClosingCredit }),
        S("ledger zero", CreateTransferResult.LedgerMustNotBeZero, null, Tr(Id, A, B, 10) with { LedgerId = 0 }),
        S("code zero", CreateTransferResult.CodeMustNotBeZero, null, Tr(Id, A, B, 10) with { Code = 0 }),
        S("unknown debit account", CreateTransferResult.DebitAccountNotFound, null, Tr(Id, Missing, B, 10)),
        S("unknown credit account", CreateTransferResult.CreditAccountNotFound, null, Tr(Id, A, Missing, 10)),
        S("accounts on different ledgers", CreateTransferResult.AccountsMustHaveTheSameLedger, null, Tr(Id, A, D, 10)),
        S("transfer ledger differs from the accounts'", CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts, null,
            Tr(Id, A, B, 10) with { LedgerId = 2 }),
        S("post of an unknown pending transfer", CreateTransferResult.PendingTransferNotFound, null, Post(Id, 77, Max)),
        S("void of an unknown pending transfer", CreateTransferResult.PendingTransferNotFound, null, VoidOf(Id, 77, 0)),
        S("post of a single-phase transfer", CreateTransferResult.PendingTransferNotPending,
            l => Apply(l, Tr(40, A, B, 10)), Post(Id, 40, Max)),
        S("post of a post", CreateTransferResult.PendingTransferNotPending,
            l => Apply(l, Pend(Hold, A, B, 10), Post(60, Hold, 4)), Post(Id, 60, Max)),
        S("post naming another debit account", CreateTransferResult.PendingTransferHasDifferentDebitAccountId,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { DebitAccountId = C }),
        S("post naming another credit account", CreateTransferResult.PendingTransferHasDifferentCreditAccountId,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { CreditAccountId = C }),
        S("void naming another ledger", CreateTransferResult.PendingTransferHasDifferentLedger,
            l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 0) with { LedgerId = 2 }),
        S("post naming another code", CreateTransferResult.PendingTransferHasDifferentCode,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { Code = 2 }),
        S("post of more than the pending amount", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, 11)),
        S("void of part of the pending amount", CreateTransferResult.PendingTransferHasDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 9)),
        S("void of more than the pending amount", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, 11)),
        S("void of UInt128.MaxValue", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10)), VoidOf(Id, Hold, Max)),
        S("post of a posted transfer", CreateTransferResult.PendingTransferAlreadyPosted,
            l => Apply(l, Pend(Hold, A, B, 10), Post(60, Hold, 4)), Post(Id, Hold, 4)),
        S("void of a posted transfer", CreateTransferResult.PendingTransferAlreadyPosted,
            l => Apply(l, Pend(Hold, A, B, 10), Post(60, Hold, Max)), VoidOf(Id, Hold, 0)),
        S("post of a voided transfer", CreateTransferResult.PendingTransferAlreadyVoided,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(60, Hold, 0)), Post(Id, Hold, Max)),
        S("void of a voided transfer", CreateTransferResult.PendingTransferAlreadyVoided,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(60, Hold, 0)), VoidOf(Id, Hold, 0)),
        S("post of an expired transfer", CreateTransferResult.PendingTransferExpired,
            l => Apply(l, Pend(Hold, A, B, 10, timeout: 1)), Post(Id, Hold, Max)),
        S("void of an expired transfer", CreateTransferResult.PendingTransferExpired,
            l => Apply(l, Pend(Hold, A, B, 10, timeout: 1)), VoidOf(Id, Hold, 0)),

        // Closed accounts.
        S("debit from a closed account", CreateTransferResult.DebitAccountAlreadyClosed, null, Tr(Id, G, B, 10)),
        S("hold on a closed debit account", CreateTransferResult.DebitAccountAlreadyClosed, null, Pend(Id, G, B, 10)),
        S("post after another transfer closed the debit account", CreateTransferResult.DebitAccountAlreadyClosed,
            l => Apply(l, Pend(Hold, A, B, 10), Closing(60, A, C, TransferFlags.ClosingDebit)), Post(Id, Hold, Max)),
        S("credit to a closed account", CreateTransferResult.CreditAccountAlreadyClosed, null, Tr(Id, A, G, 10)),
        S("post after another transfer closed the credit account", CreateTransferResult.CreditAccountAlreadyClosed,
            l => Apply(l, Pend(Hold, A, B, 10), Closing(60, C, B, TransferFlags.ClosingCredit)), Post(Id, Hold, Max)),

        // Overflows: balances brought to UInt128.MaxValue while arranging.
        S("hold overflowing debits pending", CreateTransferResult.OverflowsDebitsPending,
            l => Apply(l, Pend(1, A, B, Max)), Pend(Id, A, C, 1)),
        S("hold overflowing credits pending", CreateTransferResult.OverflowsCreditsPending,
            l => Apply(l, Pend(1, A, B, Max)), Pend(Id, C, B, 1)),
        S("transfer overflowing debits posted", CreateTransferResult.OverflowsDebitsPosted,
            l => Apply(l, Tr(1, A, B, Max)), Tr(Id, A, C, 1)),
        S("transfer overflowing credits posted", CreateTransferResult.OverflowsCreditsPosted,
            l => Apply(l, Tr(1, A, B, Max)), Tr(Id, C, B, 1)),
        S("transfer overflowing debits pending + posted", CreateTransferResult.OverflowsDebits,
            l => Apply(l, Pend(1, A, B, Max)), Tr(Id, A, C, 1)),
        S("hold overflowing debits posted", CreateTransferResult.OverflowsDebitsPosted,
            l => Apply(l, Tr(1, A, B, Max)), Pend(Id, A, C, 1)),
        S("hold overflowing debits pending + posted", CreateTransferResult.OverflowsDebits,
            l => Apply(l, Tr(1, A, B, Max - 5), Pend(2, A, B, 5)), Pend(Id, A, C, 1)),
        S("transfer overflowing credits pending + posted", CreateTransferResult.OverflowsCredits,
            l => Apply(l, Pend(1, A, B, Max)), Tr(Id, C, B, 1)),
        S("hold overflowing credits posted", CreateTransferResult.OverflowsCreditsPosted,
            l => Apply(l, Tr(1, A, B, Max)), Pend(Id, C, B, 1)),
        S("hold overflowing credits pending + posted", CreateTransferResult.OverflowsCredits,
            l => Apply(l, Tr(1, A, B, Max - 5), Pend(2, A, B, 5)), Pend(Id, C, B, 1)),
        new("hold whose expiry overflows the clock", CreateTransferResult.OverflowsTimeout, null,
            [Pend(Id, A, B, 1, timeout: uint.MaxValue)], ResultIndex: 0, EndOfClock),
        new("hold with a one-second timeout at the end of the clock", CreateTransferResult.OverflowsTimeout, null,
            [Pend(Id, A, B, 1, timeout: 1)], ResultIndex: 0, EndOfClock),

        // Balance flags.
        S("debit beyond the credits of a debits-must-not-exceed-credits account", CreateTransferResult.ExceedsCredits,
            l => Apply(l, Tr(1, B, E, 5)), Tr(Id, E, A, 6)),
        S("hold beyond the credits of a debits-must-not-exceed-credits account", CreateTransferResult.ExceedsCredits,
            l => Apply(l, Tr(1, B, E, 5), Pend(2, E, A, 5)), Pend(Id, E, A, 1)),
        S("credit beyond the debits of a credits-must-not-exceed-debits account", CreateTransferResult.ExceedsDebits,
            l => Apply(l, Tr(1, F, B, 5)), Tr(Id, A, F, 6)),
        S("hold beyond the debits of a credits-must-not-exceed-debits account", CreateTransferResult.ExceedsDebits,
            l => Apply(l, Tr(1, F, B, 5), Pend(2, A, F, 5)), Pend(Id, A, F, 1)),
    ];

    // Every transient scenario, repeated: the retry of the burnt id fails with IdAlreadyFailed.
    private static readonly Scenario[] Scenarios =
    [
        .. BaseScenarios,
        .. BaseScenarios.Where(s => Transient.Contains(s.Expected)).Select(s => s with
        {
            Name = "retry after " + s.Name,
            Expected = CreateTransferResult.IdAlreadyFailed,
            Arrange = l =>
            {
                s.Arrange?.Invoke(l);
                var first = new CreateTransferResult[s.Batch.Length];
                l.CreateTransfers(s.Timestamp, s.Batch, first);
                Assert.Equal(s.Expected, first[s.ResultIndex]);
            },
        }),
    ];

    public static TheoryData<string> ScenarioNames() => Names(Scenarios);

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public void CreateTransfers_Scenario_ReturnsDocumentedResult(string name) =>
        Run(Array.Find(Scenarios, s => s.Name == name)!);

    [Fact]
    public void Scenarios_CoverEveryCreateTransferResult()
    {
        // Adding a result to the enum must come with a scenario for it.
        Assert.Equal(63, Enum.GetValues<CreateTransferResult>().Length);
        Assert.Equal(
            Enum.GetValues<CreateTransferResult>().Order().ToArray(),
            Scenarios.Select(s => s.Expected).Distinct().Order().ToArray());
        Assert.Equal(Scenarios.Length, Scenarios.Select(s => s.Name).Distinct().Count());
    }

    [Fact]
    public void Scenarios_CoverIdAlreadyFailedAfterEveryTransientResult()
    {
        Assert.Equal(
            Transient.Order().ToArray(),
            BaseScenarios.Select(s => s.Expected).Where(Transient.Contains).Distinct().Order().ToArray());
    }

    // Each act fails (or succeeds) two ways at once; the check earlier in the documented order must win.
    private static readonly Scenario[] PrecedenceScenarios =
    [
        S("chain open before timestamp", CreateTransferResult.LinkedEventChainOpen, null,
            Tr(Id, A, B, 10) with { Flags = TransferFlags.Linked, Timestamp = 1 }),
        new("chain failure before timestamp", CreateTransferResult.LinkedEventFailed, null,
            [Tr(Id, A, A, 10) with { Flags = TransferFlags.Linked }, Tr(501, A, B, 10) with { Timestamp = 1 }], ResultIndex: 1, ActTimestamp),
        S("timestamp before reserved flag", CreateTransferResult.TimestampMustBeZero, null,
            Tr(Id, A, B, 10) with { Timestamp = 1, Flags = (TransferFlags)(1 << 8) }),
        S("reserved flag before id zero", CreateTransferResult.ReservedFlag, null, Tr(0, A, B, 10) with { Flags = (TransferFlags)(1 << 8) }),
        S("id zero before mutually exclusive flags", CreateTransferResult.IdMustNotBeZero, null,
            Tr(0, A, B, 10) with { Flags = TransferFlags.Pending | TransferFlags.PostPendingTransfer }),
        S("id max before debit account zero", CreateTransferResult.IdMustNotBeIntMax, null, Tr(Max, 0, B, 10)),
        S("timestamp before existing id", CreateTransferResult.TimestampMustBeZero,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { Timestamp = 1 }),
        S("existing id before mutually exclusive flags", CreateTransferResult.ExistsWithDifferentFlags,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { Flags = TransferFlags.Pending | TransferFlags.PostPendingTransfer }),
        S("different flags before different amount", CreateTransferResult.ExistsWithDifferentFlags,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 11) with { Flags = TransferFlags.BalancingCredit }),
        S("different pending id before different debit account", CreateTransferResult.ExistsWithDifferentPendingId,
            l => Apply(l, Pend(Hold, A, B, 10), Pend(51, A, B, 10), Post(Id, Hold, Max)), Post(Id, 51, Max) with { DebitAccountId = C }),
        S("different timeout before different debit account", CreateTransferResult.ExistsWithDifferentTimeout,
            l => Apply(l, Pend(Id, A, B, 10, timeout: 60)), Pend(Id, C, B, 10, timeout: 120)),
        S("different debit account before different credit account", CreateTransferResult.ExistsWithDifferentDebitAccountId,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, C, A, 10)),
        S("different credit account before different amount", CreateTransferResult.ExistsWithDifferentCreditAccountId,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, C, 11)),
        S("different amount before different user data 128", CreateTransferResult.ExistsWithDifferentAmount,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 11) with { UserData128 = 9 }),
        S("different user data 128 before 64", CreateTransferResult.ExistsWithDifferentUserData128,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData128 = 9, UserData64 = 9 }),
        S("different user data 64 before 32", CreateTransferResult.ExistsWithDifferentUserData64,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData64 = 9, UserData32 = 9 }),
        S("different user data 32 before ledger", CreateTransferResult.ExistsWithDifferentUserData32,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { UserData32 = 9, LedgerId = 2 }),
        S("different ledger before code", CreateTransferResult.ExistsWithDifferentLedger,
            l => Apply(l, Tr(Id, A, B, 10)), Tr(Id, A, B, 10) with { LedgerId = 2, Code = 2 }),
        S("exists before the debit account's closing", CreateTransferResult.Exists,
            l => Apply(l, Tr(Id, A, B, 10), Closing(60, A, C, TransferFlags.ClosingDebit)), Tr(Id, A, B, 10)),
        S("exists before a failing balance flag", CreateTransferResult.Exists,
            l => Apply(l, Tr(1, B, E, 10), Tr(Id, E, A, 10)), Tr(Id, E, A, 10)),
        S("id already failed before mutually exclusive flags", CreateTransferResult.IdAlreadyFailed,
            l => Expect(l, CreateTransferResult.DebitAccountNotFound, Tr(Id, Missing, B, 10)),
            Tr(Id, A, B, 10) with { Flags = TransferFlags.Pending | TransferFlags.PostPendingTransfer }),
        S("id already failed before account checks", CreateTransferResult.IdAlreadyFailed,
            l => Expect(l, CreateTransferResult.ExceedsCredits, Tr(Id, E, A, 10)), Tr(Id, A, A, 10)),
        S("timestamp before id already failed", CreateTransferResult.TimestampMustBeZero,
            l => Expect(l, CreateTransferResult.DebitAccountNotFound, Tr(Id, Missing, B, 10)), Tr(Id, A, B, 10) with { Timestamp = 1 }),
        S("mutually exclusive flags before pending id zero", CreateTransferResult.FlagsAreMutuallyExclusive, null,
            Post(Id, 0, 1) with { Flags = TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer }),
        S("pending id zero before timeout", CreateTransferResult.PendingIdMustNotBeZero, null, Post(Id, 0, Max) with { Timeout = 1 }),
        S("pending id max before timeout", CreateTransferResult.PendingIdMustNotBeIntMax, null, Post(Id, Max, Max) with { Timeout = 1 }),
        S("pending id naming itself before timeout", CreateTransferResult.PendingIdMustBeDifferent, null, Post(Id, Id, Max) with { Timeout = 1 }),
        S("timeout before pending transfer not found", CreateTransferResult.TimeoutReservedForPendingTransfer, null,
            Post(Id, 77, Max) with { Timeout = 1 }),
        S("pending transfer not found before different debit account", CreateTransferResult.PendingTransferNotFound, null,
            Post(Id, 77, Max) with { DebitAccountId = C }),
        S("post leaving its accounts zero skips the account id checks", CreateTransferResult.PendingTransferNotFound, null,
            Post(Id, 77, Max) with { DebitAccountId = 0, CreditAccountId = 0 }),
        S("not pending before different debit account", CreateTransferResult.PendingTransferNotPending,
            l => Apply(l, Tr(40, A, B, 10)), Post(Id, 40, Max) with { DebitAccountId = C }),
        S("different debit account before different credit account (post)", CreateTransferResult.PendingTransferHasDifferentDebitAccountId,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { DebitAccountId = C, CreditAccountId = C }),
        S("different credit account before different ledger (post)", CreateTransferResult.PendingTransferHasDifferentCreditAccountId,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { CreditAccountId = C, LedgerId = 2 }),
        S("different ledger before different code (post)", CreateTransferResult.PendingTransferHasDifferentLedger,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, Max) with { LedgerId = 2, Code = 2 }),
        S("different code before exceeding the pending amount", CreateTransferResult.PendingTransferHasDifferentCode,
            l => Apply(l, Pend(Hold, A, B, 10)), Post(Id, Hold, 11) with { Code = 2 }),
        S("exceeding the pending amount before already posted", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10), Post(60, Hold, Max)), Post(Id, Hold, 11)),
        S("different void amount before already voided", CreateTransferResult.PendingTransferHasDifferentAmount,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(60, Hold, 0)), VoidOf(Id, Hold, 3)),
        S("void exceeding the pending amount before already voided", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10), VoidOf(60, Hold, 0)), VoidOf(Id, Hold, 11)),
        S("exceeding the pending amount before expired", CreateTransferResult.ExceedsPendingTransferAmount,
            l => Apply(l, Pend(Hold, A, B, 10, timeout: 1)), Post(Id, Hold, 11)),
        S("already posted before closed debit account", CreateTransferResult.PendingTransferAlreadyPosted,
            l => Apply(l, Pend(Hold, A, B, 10), Post(60, Hold, Max), Closing(61, A, C, TransferFlags.ClosingDebit)), Post(Id, Hold, Max)),
        S("expired before closed debit account", CreateTransferResult.PendingTransferExpired,
            l => Apply(l, Pend(Hold, A, B, 10, timeout: 1), Closing(61, A, C, TransferFlags.ClosingDebit)), Post(Id, Hold, Max)),
        S("closed debit account before closed credit account (post)", CreateTransferResult.DebitAccountAlreadyClosed,
            l => Apply(l, Pend(Hold, A, B, 10), Closing(61, A, C, TransferFlags.ClosingDebit), Closing(62, C, B, TransferFlags.ClosingCredit)),
            Post(Id, Hold, Max)),
        S("void ignores closed accounts", CreateTransferResult.Ok,
            l => Apply(l, Pend(Hold, A, B, 10), Closing(61, A, C, TransferFlags.ClosingDebit), Closing(62, C, B, TransferFlags.ClosingCredit)),
            VoidOf(Id, Hold, 0)),
        S("post of the transfer that closed both accounts", CreateTransferResult.Ok,
            l => Apply(l, Pend(Hold, A, B, 10) with { Flags = TransferFlags.Pending | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit }),
            Post(Id, Hold, Max)),
        S("debit account zero before credit account zero", CreateTransferResult.DebitAccountIdMustNotBeZero, null, Tr(Id, 0, 0, 10)),
        S("debit account max before credit account zero", CreateTransferResult.DebitAccountIdMustNotBeIntMax, null, Tr(Id, Max, 0, 10)),
        S("credit account zero before pending id", CreateTransferResult.CreditAccountIdMustNotBeZero, null, Tr(Id, A, 0, 10) with { PendingId = 5 }),
        S("credit account max before pending id", CreateTransferResult.CreditAccountIdMustNotBeIntMax, null, Tr(Id, A, Max, 10) with { PendingId = 5 }),
        S("same accounts before pending id", CreateTransferResult.AccountsMustBeDifferent, null, Tr(Id, A, A, 10) with { PendingId = 5 }),
        S("pending id before timeout", CreateTransferResult.PendingIdMustBeZero, null, Tr(Id, A, B, 10) with { PendingId = 5, Timeout = 1 }),
        S("timeout before closing without pending", CreateTransferResult.TimeoutReservedForPendingTransfer, null,
            Tr(Id, A, B, 10) with { Timeout = 1, Flags = TransferFlags.ClosingDebit }),
        S("closing without pending before ledger zero", CreateTransferResult.ClosingTransferMustBePending, null,
            Tr(Id, A, B, 10) with { Flags = TransferFlags.ClosingCredit, LedgerId = 0 }),
        S("ledger zero before code zero", CreateTransferResult.LedgerMustNotBeZero, null, Tr(Id, A, B, 10) with { LedgerId = 0, Code = 0 }),
        S("code zero before unknown debit account", CreateTransferResult.CodeMustNotBeZero, null, Tr(Id, Missing, B, 10) with { Code = 0 }),
        S("unknown debit account before unknown credit account", CreateTransferResult.DebitAccountNotFound, null, Tr(Id, Missing, 98, 10)),
        S("unknown credit account before ledger mismatch", CreateTransferResult.CreditAccountNotFound, null,
            Tr(Id, A, Missing, 10) with { LedgerId = 2 }),
        S("accounts on different ledgers before transfer ledger mismatch", CreateTransferResult.AccountsMustHaveTheSameLedger, null,
            Tr(Id, A, D, 10) with { LedgerId = 3 }),
        S("transfer ledger mismatch before closed debit account", CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts, null,
            Tr(Id, G, B, 10) with { LedgerId = 2 }),
        S("closed debit account before closed credit account", CreateTransferResult.DebitAccountAlreadyClosed, null, Tr(Id, G, H, 10)),
        S("closed credit account before overflow", CreateTransferResult.CreditAccountAlreadyClosed,
            l => Apply(l, Tr(1, A, B, Max)), Tr(Id, A, G, 1)),
        S("closed debit account before exceeds credits", CreateTransferResult.DebitAccountAlreadyClosed,
            l => Apply(l, Closing(1, E, A, TransferFlags.ClosingDebit, amount: 0)), Tr(Id, E, B, 1)),
        S("debits pending overflow before credits pending overflow", CreateTransferResult.OverflowsDebitsPending,
            l => Apply(l, Pend(1, A, B, Max), Pend(2, B, C, Max)), Pend(Id, A, C, 1)),
        S("debits posted overflow before credits posted overflow", CreateTransferResult.OverflowsDebitsPosted,
            l => Apply(l, Tr(1, A, B, Max), Tr(2, B, C, Max)), Tr(Id, A, C, 1)),
        S("credits posted overflow before debits overflow", CreateTransferResult.OverflowsCreditsPosted,
            l => Apply(l, Tr(1, B, C, Max), Pend(2, A, B, Max)), Tr(Id, A, C, 1)),
        S("credits pending overflow before debits overflow", CreateTransferResult.OverflowsCreditsPending,
            l => Apply(l, Pend(1, B, C, Max), Tr(2, A, B, Max)), Pend(Id, A, C, 1)),
        S("debits overflow before credits overflow", CreateTransferResult.OverflowsDebits,
            l => Apply(l, Pend(1, A, B, Max), Pend(2, B, C, Max)), Tr(Id, A, C, 1)),
        S("hold: credits pending overflow before debits posted overflow", CreateTransferResult.OverflowsCreditsPending,
            l => Apply(l, Tr(1, A, B, Max), Pend(2, B, C, Max)), Pend(Id, A, C, 1)),
        S("hold: debits posted overflow before credits posted overflow", CreateTransferResult.OverflowsDebitsPosted,
            l => Apply(l, Tr(1, A, B, Max), Tr(2, B, C, Max)), Pend(Id, A, C, 1)),
        S("hold: credits posted overflow before debits overflow", CreateTransferResult.OverflowsCreditsPosted,
            l => Apply(l, Tr(1, B, C, Max), Tr(2, A, B, Max - 5), Pend(3, A, B, 5)), Pend(Id, A, C, 1)),
        S("hold: debits overflow before credits overflow", CreateTransferResult.OverflowsDebits,
            l => Apply(l, Tr(1, A, B, Max - 5), Pend(2, A, B, 5), Tr(3, B, C, Max - 5), Pend(4, B, C, 5)), Pend(Id, A, C, 1)),
        new("credits overflow before timeout overflow", CreateTransferResult.OverflowsCredits,
            l => Apply(l, Tr(1, B, C, Max - 5), Pend(2, B, C, 5)), [Pend(Id, A, C, 1, timeout: uint.MaxValue)], ResultIndex: 0, EndOfClock),
        new("credits posted overflow before timeout overflow", CreateTransferResult.OverflowsCreditsPosted,
            l => Apply(l, Tr(1, B, C, Max)), [Pend(Id, A, C, 1, timeout: uint.MaxValue)], ResultIndex: 0, EndOfClock),
        new("timeout overflow before exceeds credits", CreateTransferResult.OverflowsTimeout,
            null, [Pend(Id, E, A, 1, timeout: uint.MaxValue)], ResultIndex: 0, EndOfClock),
        S("exceeds credits before exceeds debits", CreateTransferResult.ExceedsCredits, null, Tr(Id, E, F, 1)),
        S("balancing cap before overflow", CreateTransferResult.Ok,
            l => Apply(l, Tr(1, A, B, Max)), Balancing(Id, A, C, 5)),
        S("balancing cap before exceeds credits", CreateTransferResult.Ok,
            l => Apply(l, Tr(1, B, E, 30)), Balancing(Id, E, A, 100)),
        S("balancing credit cap before exceeds debits", CreateTransferResult.Ok,
            l => Apply(l, Tr(1, F, B, 30)), Tr(Id, A, F, 100) with { Flags = TransferFlags.BalancingCredit }),
    ];

    public static TheoryData<string> PrecedenceNames() => Names(PrecedenceScenarios);

    [Theory]
    [MemberData(nameof(PrecedenceNames))]
    public void CreateTransfers_TwoChecksFail_EarlierCheckWins(string name) =>
        Run(Array.Find(PrecedenceScenarios, s => s.Name == name)!);

    [Fact]
    public void CreateTransfer_HoldExpiringExactlyAtTheEndOfTheClock_IsOk()
    {
        // The overflow check is strict: an expiry of exactly ulong.MaxValue is representable.
        LedgerStateMachine ledger = NewLedger();
        ulong timeout = (ulong)uint.MaxValue * 1_000_000_000UL;

        CreateTransferResult result = ledger.CreateTransfer(ulong.MaxValue - timeout, Pend(Id, A, B, 1, timeout: uint.MaxValue));

        Assert.Equal(CreateTransferResult.Ok, result);
    }

    [Fact]
    public void CreateTransfer_IdOfNonTransientFailure_CanBeReusedOnceFixed()
    {
        // Only transient results burn the id; a transfer rejected for its own content may be corrected and resent.
        LedgerStateMachine ledger = NewLedger();
        Assert.Equal(CreateTransferResult.AccountsMustBeDifferent, ledger.CreateTransfer(0, Tr(Id, A, A, 10)));
        Apply(ledger, Pend(Hold, A, B, 10));
        Assert.Equal(CreateTransferResult.PendingTransferHasDifferentAmount, ledger.CreateTransfer(0, VoidOf(Id, Hold, 3)));

        Assert.Equal(CreateTransferResult.Ok, ledger.CreateTransfer(0, Tr(Id, A, B, 10)));
    }

    private static void Run(Scenario scenario)
    {
        LedgerStateMachine ledger = NewLedger();
        scenario.Arrange?.Invoke(ledger);

        // A clock pulse at the act's timestamp expires what is due, so the snapshot is the state the act sees.
        ledger.CreateTransfers(scenario.Timestamp, [], []);
        ulong start = ledger.LastTimestamp + 1;
        Account[] accountsBefore = ledger.Accounts.ToArray();
        int transfersBefore = ledger.TransferCount;
        int burntBefore = ledger.BurntIdCount;
        bool existedBefore = ledger.TryGetTransfer(scenario.Batch[scenario.ResultIndex].Id, out Transfer storedBefore);
        var results = new CreateTransferResult[scenario.Batch.Length];

        int failed = ledger.CreateTransfers(scenario.Timestamp, scenario.Batch, results);

        CreateTransferResult actual = results[scenario.ResultIndex];
        Assert.True(scenario.Expected == actual, $"{scenario.Name}: expected {scenario.Expected}, got {actual}");
        Assert.Equal(results.Count(r => r != CreateTransferResult.Ok), failed);
        Assert.Equal(burntBefore + results.Count(Transient.Contains), ledger.BurntIdCount);
        if (scenario.Expected == CreateTransferResult.Ok)
        {
            Assert.True(ledger.TryGetTransfer(scenario.Batch[scenario.ResultIndex].Id, out Transfer stored));
            Assert.Equal(start + (ulong)scenario.ResultIndex, stored.Timestamp);
        }
        else
        {
            // A failed event (and every event of a failed chain) and an idempotent retry change nothing.
            Assert.Equal(accountsBefore, ledger.Accounts.ToArray());
            Assert.Equal(transfersBefore, ledger.TransferCount);
            Assert.Equal(existedBefore, ledger.TryGetTransfer(scenario.Batch[scenario.ResultIndex].Id, out Transfer storedAfter));
            Assert.Equal(storedBefore, storedAfter);
        }
    }

    /// <summary>A ledger holding accounts A to H (see the fields), created at timestamp 1.</summary>
    private static Ledger NewLedger()
    {
        var ledger = new LedgerStateMachine();
        Account[] accounts =
        [
            Acct(A), Acct(B), Acct(C), Acct(D) with { LedgerId = 2 },
            Acct(E, AccountFlags.DebitsMustNotExceedCredits),
            Acct(F, AccountFlags.CreditsMustNotExceedDebits),
            Acct(G, AccountFlags.Closed),
            Acct(H, AccountFlags.Closed),
        ];
        var results = new CreateAccountResult[accounts.Length];
        Assert.Equal(0, ledger.CreateAccounts(1, accounts, results));
        return ledger;
    }

    /// <summary>Applies transfers one batch each (at the next timestamps), asserting that every one succeeds.</summary>
    private static void Apply(LedgerStateMachine ledger, params Transfer[] transfers)
    {
        foreach (Transfer transfer in transfers)
        {
            Expect(ledger, CreateTransferResult.Ok, transfer);
        }
    }

    private static void Expect(LedgerStateMachine ledger, CreateTransferResult expected, Transfer transfer)
    {
        CreateTransferResult result = ledger.CreateTransfer(0, transfer);
        Assert.True(expected == result, $"arranging {transfer}: expected {expected}, got {result}");
    }

    private static Scenario S(string name, CreateTransferResult expected, Action<LedgerStateMachine>? arrange, Transfer transfer) =>
        new(name, expected, arrange, [transfer], ResultIndex: 0, ActTimestamp);

    private static TheoryData<string> Names(Scenario[] scenarios)
    {
        var data = new TheoryData<string>();
        foreach (Scenario scenario in scenarios)
        {
            data.Add(scenario.Name);
        }

        return data;
    }

    private static Transfer Closing(UInt128 id, UInt128 debit, UInt128 credit, TransferFlags closing, uint amount = 1) =>
        Tr(id, debit, credit, amount) with { Flags = TransferFlags.Pending | closing };

    private static Transfer Balancing(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount) =>
        Tr(id, debit, credit, amount) with { Flags = TransferFlags.BalancingDebit };

    /// <summary>The transfer with user data 7, 8 and 9 in its three user data fields.</summary>
    private static Transfer WithUserData(Transfer transfer) => transfer with { UserData128 = 7, UserData64 = 8, UserData32 = 9 };
}
