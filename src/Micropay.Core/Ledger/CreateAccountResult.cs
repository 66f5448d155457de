namespace Micropay.Core.Ledger;

/// <summary>
/// The outcome of creating one account. Every event gets exactly one result.
/// </summary>
/// <remarks>
/// <para>Checks run in this order; the first that fails decides the result:</para>
/// <list type="number">
/// <item>chain: <see cref="LinkedEventFailed"/> (another event of its linked chain failed) and
/// <see cref="LinkedEventChainOpen"/> (the last event of the batch has <see cref="AccountFlags.Linked"/>);</item>
/// <item><see cref="TimestampMustBeZero"/>, <see cref="ReservedField"/>, <see cref="ReservedFlag"/>;</item>
/// <item><see cref="IdMustNotBeZero"/>, <see cref="IdMustNotBeIntMax"/>, <see cref="IdReserved"/>;</item>
/// <item>an account with this id exists: <see cref="ExistsWithDifferentFlags"/>,
/// <see cref="ExistsWithDifferentUserData128"/>, <see cref="ExistsWithDifferentUserData64"/>,
/// <see cref="ExistsWithDifferentUserData32"/>, <see cref="ExistsWithDifferentLedger"/>,
/// <see cref="ExistsWithDifferentCode"/>, else <see cref="Exists"/>;</item>
/// <item><see cref="FlagsAreMutuallyExclusive"/>;</item>
/// <item><see cref="DebitsPendingMustBeZero"/>, <see cref="DebitsPostedMustBeZero"/>,
/// <see cref="CreditsPendingMustBeZero"/>, <see cref="CreditsPostedMustBeZero"/>;</item>
/// <item><see cref="LedgerMustNotBeZero"/>, <see cref="CodeMustNotBeZero"/>.</item>
/// </list>
/// <para>Account failures are never transient: a failed account id is not burnt and may be created later.</para>
/// </remarks>
public enum CreateAccountResult : uint
{
    /// <summary>The account was created.</summary>
    Ok = 0,

    /// <summary>Another event of this event's linked chain failed, so the whole chain was rolled back.</summary>
    LinkedEventFailed = 1,

    /// <summary>The batch ended with <see cref="AccountFlags.Linked"/> set: the chain was never closed and fails.</summary>
    LinkedEventChainOpen = 2,

    /// <summary><see cref="Account.Timestamp"/> was not 0; the ledger assigns timestamps.</summary>
    TimestampMustBeZero = 3,

    /// <summary><see cref="Account.Reserved"/> was not 0.</summary>
    ReservedField = 4,

    /// <summary>A reserved bit of <see cref="Account.Flags"/> was set.</summary>
    ReservedFlag = 5,

    /// <summary><see cref="Account.Id"/> was 0.</summary>
    IdMustNotBeZero = 6,

    /// <summary><see cref="Account.Id"/> was <see cref="UInt128.MaxValue"/>.</summary>
    IdMustNotBeIntMax = 7,

    /// <summary>An account with this id exists with different flags.</summary>
    ExistsWithDifferentFlags = 8,

    /// <summary>An account with this id exists with a different <see cref="Account.UserData128"/>.</summary>
    ExistsWithDifferentUserData128 = 9,

    /// <summary>An account with this id exists with a different <see cref="Account.UserData64"/>.</summary>
    ExistsWithDifferentUserData64 = 10,

    /// <summary>An account with this id exists with a different <see cref="Account.UserData32"/>.</summary>
    ExistsWithDifferentUserData32 = 11,

    /// <summary>An account with this id exists with a different <see cref="Account.LedgerId"/>.</summary>
    ExistsWithDifferentLedger = 12,

    /// <summary>An account with this id exists with a different <see cref="Account.Code"/>.</summary>
    ExistsWithDifferentCode = 13,

    /// <summary>An identical account already exists (an idempotent retry); nothing changed.</summary>
    Exists = 14,

    /// <summary>Both <see cref="AccountFlags.DebitsMustNotExceedCredits"/> and <see cref="AccountFlags.CreditsMustNotExceedDebits"/> were set.</summary>
    FlagsAreMutuallyExclusive = 15,

    /// <summary><see cref="Account.DebitsPending"/> was not 0.</summary>
    DebitsPendingMustBeZero = 16,

    /// <summary><see cref="Account.DebitsPosted"/> was not 0.</summary>
    DebitsPostedMustBeZero = 17,

    /// <summary><see cref="Account.CreditsPending"/> was not 0.</summary>
    CreditsPendingMustBeZero = 18,

    /// <summary><see cref="Account.CreditsPosted"/> was not 0.</summary>
    CreditsPostedMustBeZero = 19,

    /// <summary><see cref="Account.LedgerId"/> was 0.</summary>
    LedgerMustNotBeZero = 20,

    /// <summary><see cref="Account.Code"/> was 0.</summary>
    CodeMustNotBeZero = 21,

    /// <summary>
    /// <see cref="Account.Id"/> lies in the range the ledger keeps for the accounts it derives, such as channel escrows
    /// (see <see cref="ReservedIds"/>); checked after <see cref="IdMustNotBeIntMax"/>.
    /// </summary>
    IdReserved = 22,
}
