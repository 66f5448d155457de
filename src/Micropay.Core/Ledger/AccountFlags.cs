namespace Micropay.Core.Ledger;

/// <summary>Flags of an <see cref="Account"/>. Bits not named here are reserved and must be zero.</summary>
[Flags]
public enum AccountFlags : ushort
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>
    /// Links this account with the next event of the batch: the chain (ended by the first event without this
    /// flag) succeeds or fails as one. A chain left open at the end of a batch fails.
    /// </summary>
    Linked = 1 << 0,

    /// <summary>
    /// The account's <c>DebitsPending + DebitsPosted</c> may never exceed its <c>CreditsPosted</c>:
    /// a transfer that would break this fails with <see cref="CreateTransferResult.ExceedsCredits"/>.
    /// Use it for accounts that must not go overdrawn (a user's wallet).
    /// </summary>
    DebitsMustNotExceedCredits = 1 << 1,

    /// <summary>
    /// The account's <c>CreditsPending + CreditsPosted</c> may never exceed its <c>DebitsPosted</c>:
    /// a transfer that would break this fails with <see cref="CreateTransferResult.ExceedsDebits"/>.
    /// </summary>
    CreditsMustNotExceedDebits = 1 << 2,

    /// <summary>
    /// The account is closed: new transfers that debit or credit it fail, except voiding (or expiry) of
    /// pending transfers. May be set on create, and is set by a pending transfer flagged
    /// <see cref="TransferFlags.ClosingDebit"/> or <see cref="TransferFlags.ClosingCredit"/>; voiding or
    /// expiry of that transfer reopens the account.
    /// </summary>
    Closed = 1 << 3,
}
