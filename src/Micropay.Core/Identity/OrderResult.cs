namespace Micropay.Core.Identity;

/// <summary>
/// The outcome of a <see cref="PaymentOrder"/>. Values below 100 are the identity checks (at the edge: the signatures;
/// on the apply thread: the key, the order's expiry and the policy). Values from 100 are the ledger's own result for the
/// order's transfer: <c>100 + (uint)CreateTransferResult</c>, named as there (<see cref="Exists"/> is an idempotent retry).
/// </summary>
/// <remarks>
/// <para>The ledger checks in this order: the transfer id already used (then the ledger's answer, as for a retried transfer,
/// whatever happened to the key since); the key (found, an Ed25519 key, not revoked, the debit account's); the order's
/// expiry; the policy (validity, ledger, payee, per-payment limit, window limit); the step-up (co-signer found, the same
/// account's other key, not revoked, valid, its counter increased); then the ledger's transfer checks. A refusal by the
/// identity checks leaves the id unused, so the same order can succeed later (for example once the window allows it).</para>
/// </remarks>
public enum OrderResult : uint
{
    /// <summary>Applied: the transfer was created.</summary>
    Ok = 0,

    /// <summary>Checked at the edge: the order's signature does not verify with its key for this ledger instance (or the order is a default value).</summary>
    BadSignature = 1,

    /// <summary>No key with the order's key id is registered.</summary>
    KeyNotFound = 2,

    /// <summary>The order's key is a passkey: passkeys only co-sign; orders are signed by Ed25519 keys.</summary>
    WrongKeyKind = 3,

    /// <summary>The key was revoked in an earlier batch.</summary>
    KeyRevoked = 4,

    /// <summary>The key is registered to another account than the order's debit account.</summary>
    KeyNotOwner = 5,

    /// <summary>The ledger's time is past the order's valid-until time.</summary>
    OrderExpired = 6,

    /// <summary>The ledger's time is before the key policy's valid-from time.</summary>
    KeyNotYetValid = 7,

    /// <summary>The ledger's time is past the key policy's valid-until time.</summary>
    KeyExpired = 8,

    /// <summary>The policy does not allow payments on the order's ledger.</summary>
    LedgerNotAllowed = 9,

    /// <summary>The policy does not allow payments to the order's credit account.</summary>
    PayeeNotAllowed = 10,

    /// <summary>The amount is above the policy's maximum per payment.</summary>
    OverPaymentLimit = 11,

    /// <summary>With this amount the key's spending in its rolling window would pass the policy's window limit (retry once older payments leave the window).</summary>
    OverWindowLimit = 12,

    /// <summary>The amount is above the policy's step-up threshold and the order has no co-signature.</summary>
    StepUpRequired = 13,

    /// <summary>Checked at the edge: the co-signature does not verify over the order (a wrong key, another order's challenge, a passkey assertion that fails a WebAuthn check).</summary>
    BadCoSignature = 14,

    /// <summary>The co-signature's key is not registered.</summary>
    CoSignerNotFound = 15,

    /// <summary>The co-signing key was revoked.</summary>
    CoSignerRevoked = 16,

    /// <summary>The co-signing key is registered to another account than the payer's.</summary>
    CoSignerNotOwner = 17,

    /// <summary>The co-signature is by the order's own key: a step-up needs a second key.</summary>
    CoSignerIsSigner = 18,

    /// <summary>The ledger's time is outside the co-signing key's policy validity (valid-from to valid-until).</summary>
    CoSignerNotValid = 19,

    /// <summary>The passkey's signature counter did not increase past the last one the ledger saw (a possibly cloned authenticator, or a replayed assertion).</summary>
    SignCountNotIncreasing = 20,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.LinkedEventFailed"/> for the order's transfer.</summary>
    LinkedEventFailed = 101,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.LinkedEventChainOpen"/> for the order's transfer.</summary>
    LinkedEventChainOpen = 102,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.TimestampMustBeZero"/> for the order's transfer.</summary>
    TimestampMustBeZero = 103,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ReservedFlag"/> for the order's transfer.</summary>
    ReservedFlag = 104,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.IdMustNotBeZero"/> for the order's transfer.</summary>
    IdMustNotBeZero = 105,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.IdMustNotBeIntMax"/> for the order's transfer.</summary>
    IdMustNotBeIntMax = 106,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentFlags"/> for the order's transfer.</summary>
    ExistsWithDifferentFlags = 107,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentPendingId"/> for the order's transfer.</summary>
    ExistsWithDifferentPendingId = 108,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentTimeout"/> for the order's transfer.</summary>
    ExistsWithDifferentTimeout = 109,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentDebitAccountId"/> for the order's transfer.</summary>
    ExistsWithDifferentDebitAccountId = 110,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentCreditAccountId"/> for the order's transfer.</summary>
    ExistsWithDifferentCreditAccountId = 111,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentAmount"/> for the order's transfer.</summary>
    ExistsWithDifferentAmount = 112,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentLedger"/> for the order's transfer.</summary>
    ExistsWithDifferentLedger = 116,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExistsWithDifferentCode"/> for the order's transfer.</summary>
    ExistsWithDifferentCode = 117,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.Exists"/> for the order's transfer.</summary>
    Exists = 118,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.IdAlreadyFailed"/> for the order's transfer.</summary>
    IdAlreadyFailed = 119,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.FlagsAreMutuallyExclusive"/> for the order's transfer.</summary>
    FlagsAreMutuallyExclusive = 120,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.DebitAccountIdMustNotBeZero"/> for the order's transfer.</summary>
    DebitAccountIdMustNotBeZero = 121,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.DebitAccountIdMustNotBeIntMax"/> for the order's transfer.</summary>
    DebitAccountIdMustNotBeIntMax = 122,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CreditAccountIdMustNotBeZero"/> for the order's transfer.</summary>
    CreditAccountIdMustNotBeZero = 123,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CreditAccountIdMustNotBeIntMax"/> for the order's transfer.</summary>
    CreditAccountIdMustNotBeIntMax = 124,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.AccountsMustBeDifferent"/> for the order's transfer.</summary>
    AccountsMustBeDifferent = 125,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingIdMustBeZero"/> for the order's transfer.</summary>
    PendingIdMustBeZero = 126,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingIdMustNotBeZero"/> for the order's transfer.</summary>
    PendingIdMustNotBeZero = 127,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingIdMustNotBeIntMax"/> for the order's transfer.</summary>
    PendingIdMustNotBeIntMax = 128,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingIdMustBeDifferent"/> for the order's transfer.</summary>
    PendingIdMustBeDifferent = 129,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.TimeoutReservedForPendingTransfer"/> for the order's transfer.</summary>
    TimeoutReservedForPendingTransfer = 130,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ClosingTransferMustBePending"/> for the order's transfer.</summary>
    ClosingTransferMustBePending = 131,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.LedgerMustNotBeZero"/> for the order's transfer.</summary>
    LedgerMustNotBeZero = 132,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CodeMustNotBeZero"/> for the order's transfer.</summary>
    CodeMustNotBeZero = 133,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.DebitAccountNotFound"/> for the order's transfer.</summary>
    DebitAccountNotFound = 134,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CreditAccountNotFound"/> for the order's transfer.</summary>
    CreditAccountNotFound = 135,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.AccountsMustHaveTheSameLedger"/> for the order's transfer.</summary>
    AccountsMustHaveTheSameLedger = 136,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts"/> for the order's transfer.</summary>
    TransferMustHaveTheSameLedgerAsAccounts = 137,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferNotFound"/> for the order's transfer.</summary>
    PendingTransferNotFound = 138,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferNotPending"/> for the order's transfer.</summary>
    PendingTransferNotPending = 139,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferHasDifferentDebitAccountId"/> for the order's transfer.</summary>
    PendingTransferHasDifferentDebitAccountId = 140,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferHasDifferentCreditAccountId"/> for the order's transfer.</summary>
    PendingTransferHasDifferentCreditAccountId = 141,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferHasDifferentLedger"/> for the order's transfer.</summary>
    PendingTransferHasDifferentLedger = 142,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferHasDifferentCode"/> for the order's transfer.</summary>
    PendingTransferHasDifferentCode = 143,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExceedsPendingTransferAmount"/> for the order's transfer.</summary>
    ExceedsPendingTransferAmount = 144,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferHasDifferentAmount"/> for the order's transfer.</summary>
    PendingTransferHasDifferentAmount = 145,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferAlreadyPosted"/> for the order's transfer.</summary>
    PendingTransferAlreadyPosted = 146,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferAlreadyVoided"/> for the order's transfer.</summary>
    PendingTransferAlreadyVoided = 147,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.PendingTransferExpired"/> for the order's transfer.</summary>
    PendingTransferExpired = 148,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.DebitAccountAlreadyClosed"/> for the order's transfer.</summary>
    DebitAccountAlreadyClosed = 149,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CreditAccountAlreadyClosed"/> for the order's transfer.</summary>
    CreditAccountAlreadyClosed = 150,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsDebitsPending"/> for the order's transfer.</summary>
    OverflowsDebitsPending = 151,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsCreditsPending"/> for the order's transfer.</summary>
    OverflowsCreditsPending = 152,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsDebitsPosted"/> for the order's transfer.</summary>
    OverflowsDebitsPosted = 153,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsCreditsPosted"/> for the order's transfer.</summary>
    OverflowsCreditsPosted = 154,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsDebits"/> for the order's transfer.</summary>
    OverflowsDebits = 155,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsCredits"/> for the order's transfer.</summary>
    OverflowsCredits = 156,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.OverflowsTimeout"/> for the order's transfer.</summary>
    OverflowsTimeout = 157,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExceedsCredits"/> for the order's transfer.</summary>
    ExceedsCredits = 158,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.ExceedsDebits"/> for the order's transfer.</summary>
    ExceedsDebits = 159,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.IdReserved"/> for the order's transfer.</summary>
    IdReserved = 160,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.DebitAccountIdReserved"/> for the order's transfer.</summary>
    DebitAccountIdReserved = 161,

    /// <summary>The ledger's <see cref="Ledger.CreateTransferResult.CreditAccountIdReserved"/> for the order's transfer.</summary>
    CreditAccountIdReserved = 162,
}
