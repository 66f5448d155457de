namespace Micropay.Core.Ledger;

/// <summary>
/// The outcome of creating one transfer. Every event gets exactly one result.
/// </summary>
/// <remarks>
/// <para>Checks run in this order; the first that fails decides the result (<c>t</c> is the submitted
/// transfer, <c>p</c> the pending transfer a post or void names, <c>dr</c>/<c>cr</c> the debit and credit
/// accounts):</para>
/// <list type="number">
/// <item>chain: <see cref="LinkedEventFailed"/>, <see cref="LinkedEventChainOpen"/>;</item>
/// <item><see cref="TimestampMustBeZero"/>, <see cref="ReservedFlag"/>, <see cref="IdMustNotBeZero"/>,
/// <see cref="IdMustNotBeIntMax"/>, <see cref="IdReserved"/>;</item>
/// <item>a transfer with this id exists: <see cref="ExistsWithDifferentFlags"/>,
/// <see cref="ExistsWithDifferentPendingId"/>, <see cref="ExistsWithDifferentTimeout"/>,
/// <see cref="ExistsWithDifferentDebitAccountId"/>, <see cref="ExistsWithDifferentCreditAccountId"/>,
/// <see cref="ExistsWithDifferentAmount"/>, <see cref="ExistsWithDifferentUserData128"/>,
/// <see cref="ExistsWithDifferentUserData64"/>, <see cref="ExistsWithDifferentUserData32"/>,
/// <see cref="ExistsWithDifferentLedger"/>, <see cref="ExistsWithDifferentCode"/>, else <see cref="Exists"/>
/// (for a post or void, zero account ids, ledger and code in <c>t</c> match anything, and a zero user data field
/// stands for <c>p</c>'s; see those members);</item>
/// <item><see cref="IdAlreadyFailed"/>;</item>
/// <item><see cref="FlagsAreMutuallyExclusive"/>;</item>
/// <item>post or void: <see cref="PendingIdMustNotBeZero"/>, <see cref="PendingIdMustNotBeIntMax"/>,
/// <see cref="PendingIdMustBeDifferent"/>, <see cref="TimeoutReservedForPendingTransfer"/>,
/// <see cref="PendingTransferNotFound"/>, <see cref="PendingTransferNotPending"/>,
/// <see cref="PendingTransferHasDifferentDebitAccountId"/>, <see cref="PendingTransferHasDifferentCreditAccountId"/>,
/// <see cref="PendingTransferHasDifferentLedger"/>, <see cref="PendingTransferHasDifferentCode"/>,
/// <see cref="ExceedsPendingTransferAmount"/>, <see cref="PendingTransferHasDifferentAmount"/> (void),
/// <see cref="PendingTransferAlreadyPosted"/>, <see cref="PendingTransferAlreadyVoided"/>,
/// <see cref="PendingTransferExpired"/>, then for a post only <see cref="DebitAccountAlreadyClosed"/> and
/// <see cref="CreditAccountAlreadyClosed"/> (unless <c>p</c> itself closed that account);</item>
/// <item>otherwise: <see cref="DebitAccountIdMustNotBeZero"/>, <see cref="DebitAccountIdMustNotBeIntMax"/>,
/// <see cref="DebitAccountIdReserved"/>, <see cref="CreditAccountIdMustNotBeZero"/>,
/// <see cref="CreditAccountIdMustNotBeIntMax"/>, <see cref="CreditAccountIdReserved"/>,
/// <see cref="AccountsMustBeDifferent"/>, <see cref="PendingIdMustBeZero"/>, then if not pending
/// <see cref="TimeoutReservedForPendingTransfer"/> and <see cref="ClosingTransferMustBePending"/>, then
/// <see cref="LedgerMustNotBeZero"/>, <see cref="CodeMustNotBeZero"/>, <see cref="DebitAccountNotFound"/>,
/// <see cref="CreditAccountNotFound"/>, <see cref="AccountsMustHaveTheSameLedger"/>,
/// <see cref="TransferMustHaveTheSameLedgerAsAccounts"/>, <see cref="DebitAccountAlreadyClosed"/>,
/// <see cref="CreditAccountAlreadyClosed"/>; the amount is then capped for balancing transfers; then
/// <see cref="OverflowsDebitsPending"/> and <see cref="OverflowsCreditsPending"/> (pending only),
/// <see cref="OverflowsDebitsPosted"/> and <see cref="OverflowsCreditsPosted"/> (every mode: a pending transfer
/// that would overflow a posted balance reports that, as in TigerBeetle, not the sum),
/// <see cref="OverflowsDebits"/>, <see cref="OverflowsCredits"/>, <see cref="OverflowsTimeout"/> (pending),
/// <see cref="ExceedsCredits"/>, <see cref="ExceedsDebits"/>.</item>
/// </list>
/// <para>
/// The order is TigerBeetle's documented precedence (its <c>create_transfers</c> reference). Where this ledger
/// departs from it (which result a broken chain left open reports) is listed with its reason in
/// docs/ARCHITECTURE.md, section 5.
/// </para>
/// <para>
/// Transient results depend on the ledger's state rather than on the transfer alone: the account and pending
/// transfer not-found results, the closed-account results, every overflow and both exceeds results. A transfer
/// id that failed with a transient result is burnt: any later transfer with that id returns
/// <see cref="IdAlreadyFailed"/>, so a retry can never turn a failed payment into a successful one later.
/// TigerBeetle does not burn ids on overflows; this ledger does, for the reason given in docs/ARCHITECTURE.md,
/// section 4.11.
/// </para>
/// </remarks>
public enum CreateTransferResult : uint
{
    /// <summary>The transfer was applied.</summary>
    Ok = 0,

    /// <summary>Another event of this event's linked chain failed, so the whole chain was rolled back.</summary>
    LinkedEventFailed = 1,

    /// <summary>The batch ended with <see cref="TransferFlags.Linked"/> set: the chain was never closed and fails.</summary>
    LinkedEventChainOpen = 2,

    /// <summary><see cref="Transfer.Timestamp"/> was not 0; the ledger assigns timestamps.</summary>
    TimestampMustBeZero = 3,

    /// <summary>A reserved bit of <see cref="Transfer.Flags"/> was set.</summary>
    ReservedFlag = 4,

    /// <summary><see cref="Transfer.Id"/> was 0.</summary>
    IdMustNotBeZero = 5,

    /// <summary><see cref="Transfer.Id"/> was <see cref="UInt128.MaxValue"/>.</summary>
    IdMustNotBeIntMax = 6,

    /// <summary>A transfer with this id exists with different flags.</summary>
    ExistsWithDifferentFlags = 7,

    /// <summary>A transfer with this id exists with a different <see cref="Transfer.PendingId"/>.</summary>
    ExistsWithDifferentPendingId = 8,

    /// <summary>A transfer with this id exists with a different <see cref="Transfer.Timeout"/>.</summary>
    ExistsWithDifferentTimeout = 9,

    /// <summary>A transfer with this id exists with a different debit account (a post or void with debit account 0 matches any).</summary>
    ExistsWithDifferentDebitAccountId = 10,

    /// <summary>A transfer with this id exists with a different credit account (a post or void with credit account 0 matches any).</summary>
    ExistsWithDifferentCreditAccountId = 11,

    /// <summary>
    /// A transfer with this id exists with a different amount. A balancing retry matches when it asks for at least
    /// the amount that moved; a retry of a full post matches with any amount of at least the pending amount
    /// (<see cref="UInt128.MaxValue"/> included), one of a partial post only with the amount posted; a void of 0
    /// matches any void.
    /// </summary>
    ExistsWithDifferentAmount = 12,

    /// <summary>
    /// A transfer with this id exists with a different <see cref="Transfer.UserData128"/>. For a post or void, 0 stands
    /// for the pending transfer's value (what a post or void that left it 0 was stored with).
    /// </summary>
    ExistsWithDifferentUserData128 = 13,

    /// <summary>A transfer with this id exists with a different <see cref="Transfer.UserData64"/> (for a post or void, 0 stands for the pending transfer's).</summary>
    ExistsWithDifferentUserData64 = 14,

    /// <summary>A transfer with this id exists with a different <see cref="Transfer.UserData32"/> (for a post or void, 0 stands for the pending transfer's).</summary>
    ExistsWithDifferentUserData32 = 15,

    /// <summary>A transfer with this id exists with a different ledger (a post or void with ledger 0 matches any).</summary>
    ExistsWithDifferentLedger = 16,

    /// <summary>A transfer with this id exists with a different code (a post or void with code 0 matches any).</summary>
    ExistsWithDifferentCode = 17,

    /// <summary>An identical transfer already exists (an idempotent retry); nothing changed.</summary>
    Exists = 18,

    /// <summary>A transfer with this id failed earlier for a transient reason; the id is burnt and cannot be reused.</summary>
    IdAlreadyFailed = 19,

    /// <summary>
    /// More than one of <see cref="TransferFlags.Pending"/>, <see cref="TransferFlags.PostPendingTransfer"/> and
    /// <see cref="TransferFlags.VoidPendingTransfer"/> was set, or a post or void was also balancing or closing.
    /// </summary>
    FlagsAreMutuallyExclusive = 20,

    /// <summary><see cref="Transfer.DebitAccountId"/> was 0.</summary>
    DebitAccountIdMustNotBeZero = 21,

    /// <summary><see cref="Transfer.DebitAccountId"/> was <see cref="UInt128.MaxValue"/>.</summary>
    DebitAccountIdMustNotBeIntMax = 22,

    /// <summary><see cref="Transfer.CreditAccountId"/> was 0.</summary>
    CreditAccountIdMustNotBeZero = 23,

    /// <summary><see cref="Transfer.CreditAccountId"/> was <see cref="UInt128.MaxValue"/>.</summary>
    CreditAccountIdMustNotBeIntMax = 24,

    /// <summary>The debit and credit accounts were the same.</summary>
    AccountsMustBeDifferent = 25,

    /// <summary><see cref="Transfer.PendingId"/> was set on a transfer that is not a post or void.</summary>
    PendingIdMustBeZero = 26,

    /// <summary>A post or void had <see cref="Transfer.PendingId"/> 0.</summary>
    PendingIdMustNotBeZero = 27,

    /// <summary>A post or void had <see cref="Transfer.PendingId"/> <see cref="UInt128.MaxValue"/>.</summary>
    PendingIdMustNotBeIntMax = 28,

    /// <summary>A post or void named itself as its pending transfer.</summary>
    PendingIdMustBeDifferent = 29,

    /// <summary><see cref="Transfer.Timeout"/> was set on a transfer that is not pending.</summary>
    TimeoutReservedForPendingTransfer = 30,

    /// <summary><see cref="TransferFlags.ClosingDebit"/> or <see cref="TransferFlags.ClosingCredit"/> was set without <see cref="TransferFlags.Pending"/>.</summary>
    ClosingTransferMustBePending = 31,

    /// <summary><see cref="Transfer.LedgerId"/> was 0.</summary>
    LedgerMustNotBeZero = 32,

    /// <summary><see cref="Transfer.Code"/> was 0.</summary>
    CodeMustNotBeZero = 33,

    /// <summary>No account has the debit account id. Transient: the id is burnt.</summary>
    DebitAccountNotFound = 34,

    /// <summary>No account has the credit account id. Transient: the id is burnt.</summary>
    CreditAccountNotFound = 35,

    /// <summary>The debit and credit accounts belong to different ledgers.</summary>
    AccountsMustHaveTheSameLedger = 36,

    /// <summary>The transfer's ledger differs from its accounts' ledger.</summary>
    TransferMustHaveTheSameLedgerAsAccounts = 37,

    /// <summary>No transfer has the pending id. Transient: the id is burnt.</summary>
    PendingTransferNotFound = 38,

    /// <summary>The transfer named by the pending id is not a pending transfer.</summary>
    PendingTransferNotPending = 39,

    /// <summary>The post or void named a debit account other than the pending transfer's.</summary>
    PendingTransferHasDifferentDebitAccountId = 40,

    /// <summary>The post or void named a credit account other than the pending transfer's.</summary>
    PendingTransferHasDifferentCreditAccountId = 41,

    /// <summary>The post or void named a ledger other than the pending transfer's.</summary>
    PendingTransferHasDifferentLedger = 42,

    /// <summary>The post or void named a code other than the pending transfer's.</summary>
    PendingTransferHasDifferentCode = 43,

    /// <summary>The post or void asked for more than the pending amount.</summary>
    ExceedsPendingTransferAmount = 44,

    /// <summary>The void named a non-zero amount less than the pending amount (a void releases all of it: 0 or the pending amount).</summary>
    PendingTransferHasDifferentAmount = 45,

    /// <summary>The pending transfer was already posted.</summary>
    PendingTransferAlreadyPosted = 46,

    /// <summary>The pending transfer was already voided.</summary>
    PendingTransferAlreadyVoided = 47,

    /// <summary>The pending transfer's timeout passed; its amount was released.</summary>
    PendingTransferExpired = 48,

    /// <summary>The debit account is closed. Transient: the id is burnt.</summary>
    DebitAccountAlreadyClosed = 49,

    /// <summary>The credit account is closed. Transient: the id is burnt.</summary>
    CreditAccountAlreadyClosed = 50,

    /// <summary>The debit account's <c>DebitsPending</c> would overflow. Transient: the id is burnt.</summary>
    OverflowsDebitsPending = 51,

    /// <summary>The credit account's <c>CreditsPending</c> would overflow. Transient: the id is burnt.</summary>
    OverflowsCreditsPending = 52,

    /// <summary>
    /// The debit account's <c>DebitsPosted</c> would overflow; checked for a pending transfer too, after the pending
    /// balances. Transient: the id is burnt.
    /// </summary>
    OverflowsDebitsPosted = 53,

    /// <summary>
    /// The credit account's <c>CreditsPosted</c> would overflow; checked for a pending transfer too, after the pending
    /// balances. Transient: the id is burnt.
    /// </summary>
    OverflowsCreditsPosted = 54,

    /// <summary>The debit account's <c>DebitsPending + DebitsPosted</c> would overflow. Transient: the id is burnt.</summary>
    OverflowsDebits = 55,

    /// <summary>The credit account's <c>CreditsPending + CreditsPosted</c> would overflow. Transient: the id is burnt.</summary>
    OverflowsCredits = 56,

    /// <summary>The pending transfer's expiry time (timestamp + timeout) would overflow the clock. Transient: the id is burnt.</summary>
    OverflowsTimeout = 57,

    /// <summary>The debit account has <see cref="AccountFlags.DebitsMustNotExceedCredits"/> and lacks the credits. Transient: the id is burnt.</summary>
    ExceedsCredits = 58,

    /// <summary>The credit account has <see cref="AccountFlags.CreditsMustNotExceedDebits"/> and lacks the debits. Transient: the id is burnt.</summary>
    ExceedsDebits = 59,

    /// <summary>
    /// <see cref="Transfer.Id"/> lies in the range the ledger keeps for the transfers it derives, such as channel
    /// redemptions (see <see cref="ReservedIds"/>); checked after <see cref="IdMustNotBeIntMax"/>.
    /// </summary>
    IdReserved = 60,

    /// <summary>
    /// The debit account's id lies in the ledger's reserved range (a channel escrow, for example): only the ledger's own
    /// operations move money out of such an account. Checked after <see cref="DebitAccountIdMustNotBeIntMax"/>.
    /// </summary>
    DebitAccountIdReserved = 61,

    /// <summary>
    /// The credit account's id lies in the ledger's reserved range: only the ledger's own operations move money into
    /// such an account. Checked after <see cref="CreditAccountIdMustNotBeIntMax"/>.
    /// </summary>
    CreditAccountIdReserved = 62,
}
