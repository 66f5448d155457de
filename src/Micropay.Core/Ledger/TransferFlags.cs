namespace Micropay.Core.Ledger;

/// <summary>
/// Flags of a <see cref="Transfer"/>. At most one of <see cref="Pending"/>, <see cref="PostPendingTransfer"/>
/// and <see cref="VoidPendingTransfer"/> may be set; a post or void may not also be balancing or closing.
/// Bits not named here are reserved and must be zero.
/// </summary>
[Flags]
public enum TransferFlags : ushort
{
    /// <summary>A single-phase transfer: the amount is posted at once.</summary>
    None = 0,

    /// <summary>
    /// Links this transfer with the next event of the batch: the chain (ended by the first event without this
    /// flag) succeeds or fails as one. A chain left open at the end of a batch fails.
    /// </summary>
    Linked = 1 << 0,

    /// <summary>
    /// A hold: the amount is added to the debit account's <c>DebitsPending</c> and the credit account's
    /// <c>CreditsPending</c> until a later transfer posts or voids it, or its <see cref="Transfer.Timeout"/> expires.
    /// </summary>
    Pending = 1 << 1,

    /// <summary>
    /// Posts the pending transfer named by <see cref="Transfer.PendingId"/>: all of it (amount
    /// <see cref="UInt128.MaxValue"/>) or part of it (the remainder is released).
    /// </summary>
    PostPendingTransfer = 1 << 2,

    /// <summary>Voids the pending transfer named by <see cref="Transfer.PendingId"/>, releasing its whole amount.</summary>
    VoidPendingTransfer = 1 << 3,

    /// <summary>
    /// Moves at most <see cref="Transfer.Amount"/>, capped so that the debit account's
    /// <c>DebitsPending + DebitsPosted</c> does not exceed its <c>CreditsPosted</c>. Used to sweep a balance.
    /// </summary>
    BalancingDebit = 1 << 4,

    /// <summary>
    /// Moves at most <see cref="Transfer.Amount"/>, capped so that the credit account's
    /// <c>CreditsPending + CreditsPosted</c> does not exceed its <c>DebitsPosted</c>.
    /// </summary>
    BalancingCredit = 1 << 5,

    /// <summary>
    /// Closes the debit account when this pending transfer is created; voiding it (or its expiry) reopens the
    /// account. Requires <see cref="Pending"/>.
    /// </summary>
    ClosingDebit = 1 << 6,

    /// <summary>
    /// Closes the credit account when this pending transfer is created; voiding it (or its expiry) reopens the
    /// account. Requires <see cref="Pending"/>.
    /// </summary>
    ClosingCredit = 1 << 7,
}
