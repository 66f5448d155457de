namespace Micropay.Core.Channels;

/// <summary>
/// The outcome of one channel operation (open, top-up, voucher or tick redemption, close). Every event gets exactly one
/// result; business outcomes are results, never exceptions.
/// </summary>
/// <remarks>
/// <para>
/// Final and retryable refusals. A channel's state only moves forward (sequences and amounts grow, a channel closes
/// once), so most refusals are final: the same event will be refused again. The exceptions, which may succeed later
/// and which therefore burn nothing, are <see cref="ExceedsDeposit"/> (until a top-up), <see cref="InsufficientFunds"/>
/// (until the payer is credited), <see cref="ChannelNotFound"/> (an open still in flight), and the account
/// not-found and closed results. No channel refusal ever burns an id: the ids the ledger derives for deposits,
/// redemptions and refunds are only taken by the operation that succeeds.
/// </para>
/// <para>The checks of each operation and their order are listed on the engine's methods
/// (<c>LedgerEngine.OpenChannelAsync</c>, <c>RedeemVoucherAsync</c>, <c>RedeemTickAsync</c>, <c>TopUpChannelAsync</c>,
/// <c>CloseChannelAsync</c>) and in docs/ARCHITECTURE.md.</para>
/// </remarks>
public enum ChannelResult : uint
{
    /// <summary>Applied.</summary>
    Ok = 0,

    /// <summary>The signature over the event does not verify with the channel's payer key and this ledger's instance id (checked before the event is queued; never journaled).</summary>
    BadSignature = 1,

    /// <summary>The channel config names another ledger instance.</summary>
    InstanceMismatch = 2,

    /// <summary>No channel has this id (or its open is not applied yet). Retryable.</summary>
    ChannelNotFound = 3,

    /// <summary>Open: a channel with this config exists, opened with the same deposit (an idempotent retry). Top-up: a transfer with this id exists with the same fields.</summary>
    Exists = 4,

    /// <summary>Open: a channel with this config exists, opened with another deposit.</summary>
    ExistsWithDifferentDeposit = 5,

    /// <summary>Top-up: a transfer with this id exists with other fields.</summary>
    ExistsWithDifferentFields = 6,

    /// <summary>The deposit or top-up amount is 0.</summary>
    AmountMustNotBeZero = 7,

    /// <summary>Top-up: the transfer id is 0, <see cref="UInt128.MaxValue"/>, or in the ledger's reserved range.</summary>
    InvalidTransferId = 8,

    /// <summary>Open: the channel's expiry is not after the open's timestamp.</summary>
    ExpiryNotInFuture = 9,

    /// <summary>The payer account does not exist. Retryable.</summary>
    PayerAccountNotFound = 10,

    /// <summary>The payee account does not exist. Retryable.</summary>
    PayeeAccountNotFound = 11,

    /// <summary>The payer or payee account is on another ledger (currency) than the channel's config names.</summary>
    AccountLedgerMismatch = 12,

    /// <summary>The payer account is closed. Retryable (if it reopens).</summary>
    PayerAccountClosed = 13,

    /// <summary>The payee account is closed. Retryable (if it reopens).</summary>
    PayeeAccountClosed = 14,

    /// <summary>The payer lacks the funds for the deposit or top-up (its balance flags refuse the debit). Retryable.</summary>
    InsufficientFunds = 15,

    /// <summary>A balance would overflow.</summary>
    Overflow = 16,

    /// <summary>The channel was closed (cooperatively, or at the end of the payer's settle delay). Final.</summary>
    ChannelClosed = 17,

    /// <summary>The channel reached its expiry (at or after <see cref="ChannelConfig.ExpiresAt"/>). Final.</summary>
    ChannelExpired = 18,

    /// <summary>Top-up or unilateral close: the payer already started closing the channel.</summary>
    ChannelClosing = 19,

    /// <summary>The event does not suit the channel's mode (a voucher for a hash-chain channel, or a tick for a cumulative one). Final.</summary>
    WrongChannelMode = 20,

    /// <summary>
    /// A voucher with this (channel, lane, sequence), or a tick with this (channel, index), was already redeemed: an
    /// idempotent retry, nothing paid. Redemptions are deduplicated on those fields, never on signature bytes, so a
    /// second voucher a payer signed with the same sequence is the same payment.
    /// </summary>
    AlreadyRedeemed = 21,

    /// <summary>The voucher's valid-until is before the redemption's timestamp. Final for this voucher.</summary>
    VoucherExpired = 22,

    /// <summary>A voucher with this sequence or a higher one was already redeemed on this lane. Final for this voucher.</summary>
    SequenceNotIncreasing = 23,

    /// <summary>The voucher's cumulative amount is not above what its lane already redeemed. Final for this voucher.</summary>
    AmountNotIncreasing = 24,

    /// <summary>Paying this voucher or tick would take the channel's redemptions past its deposit. Retryable after a top-up.</summary>
    ExceedsDeposit = 25,

    /// <summary>A tick at this index or a higher one was already redeemed. Final for this tick.</summary>
    TickIndexNotIncreasing = 26,

    /// <summary>The tick's index is beyond the chain's length, or its word does not hash to the channel's root (checked before the event is queued).</summary>
    BadTick = 27,

    /// <summary>Top-up: the transfer id was burnt by an earlier transfer that failed for a transient reason (as <c>IdAlreadyFailed</c> for transfers).</summary>
    TransferIdAlreadyFailed = 28,

    /// <summary>The payee account's balance flags (<c>CreditsMustNotExceedDebits</c>) refuse the redemption's credit. Retryable.</summary>
    PayeeCreditRefused = 29,

    /// <summary>Open or top-up: the payer account has registered keys (Identity) and the channel's payer key is not one of them.</summary>
    KeyNotFound = 30,

    /// <summary>Open or top-up: the channel's payer key was revoked.</summary>
    KeyRevoked = 31,

    /// <summary>Open or top-up: the channel's payer key is registered to another account than the payer.</summary>
    KeyNotOwner = 32,

    /// <summary>Open or top-up: the ledger's time is before the payer key policy's valid-from time.</summary>
    KeyNotYetValid = 33,

    /// <summary>Open or top-up: the ledger's time is past the payer key policy's valid-until time.</summary>
    KeyExpired = 34,

    /// <summary>Open or top-up: the payer key's policy does not allow the channel's ledger.</summary>
    LedgerNotAllowed = 35,

    /// <summary>Open or top-up: the payer key's policy does not allow the channel's payee.</summary>
    PayeeNotAllowed = 36,

    /// <summary>Open or top-up: the amount is above the payer key policy's maximum per payment.</summary>
    OverPaymentLimit = 37,

    /// <summary>Open or top-up: the amount would pass the payer key's rolling window limit. Retryable later.</summary>
    OverWindowLimit = 38,

    /// <summary>Open or top-up: the channel's deposits would pass the payer key policy's maximum channel deposit.</summary>
    OverChannelDepositLimit = 39,

    /// <summary>Open or top-up: the amount is above the payer key policy's step-up threshold and there is no co-signature (top-ups never carry one).</summary>
    StepUpRequired = 40,

    /// <summary>Open, checked at the edge: the co-signature does not verify over the open.</summary>
    BadCoSignature = 41,

    /// <summary>Open: the co-signature's key is not registered.</summary>
    CoSignerNotFound = 42,

    /// <summary>Open: the co-signing key was revoked.</summary>
    CoSignerRevoked = 43,

    /// <summary>Open: the co-signing key is registered to another account than the payer.</summary>
    CoSignerNotOwner = 44,

    /// <summary>Open: the co-signature is by the channel's own payer key.</summary>
    CoSignerIsSigner = 45,

    /// <summary>Open: the ledger's time is outside the co-signing key's policy validity.</summary>
    CoSignerNotValid = 46,

    /// <summary>Open: the co-signing passkey's signature counter did not increase past the last one the ledger saw.</summary>
    SignCountNotIncreasing = 47,
}
