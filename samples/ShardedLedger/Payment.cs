using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>A payment from one customer account to another, on the same shard or across shards.</summary>
/// <param name="Id">The payment id (1 to 2^120 - 1): the idempotency key; its transfers' ids derive from it.</param>
/// <param name="Payer">The customer account debited.</param>
/// <param name="Payee">The customer account credited.</param>
/// <param name="Amount">How much (not 0).</param>
[GenerateSerializer, Immutable]
public readonly record struct Payment(
    [property: Id(0)] UInt128 Id,
    [property: Id(1)] UInt128 Payer,
    [property: Id(2)] UInt128 Payee,
    [property: Id(3)] UInt128 Amount);

/// <summary>How a payment ended.</summary>
public enum PaymentStatus : byte
{
    /// <summary>The money moved (both sides posted, for a cross-shard payment).</summary>
    Committed = 1,

    /// <summary>The money did not move (both sides voided or never held); <see cref="PaymentOutcome.Reason"/> says why.</summary>
    Aborted = 2,

    /// <summary>The payment id is already used by a payment with other fields: nothing was done.</summary>
    IdReused = 3,
}

/// <summary>A payment's outcome.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Reason">For an aborted payment, the ledger's result that refused it (the payer's hold first);
/// <see cref="CreateTransferResult.Ok"/> when recovery aborted it before both holds were known.</param>
[GenerateSerializer, Immutable]
public readonly record struct PaymentOutcome(
    [property: Id(0)] PaymentStatus Status,
    [property: Id(1)] CreateTransferResult Reason);
