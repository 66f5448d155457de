using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>A payment's outcome.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Reason">For an aborted payment, the ledger's result that refused it (the payer's hold first);
/// <see cref="CreateTransferResult.Ok"/> when recovery aborted it before both holds were known.</param>
[GenerateSerializer, Immutable]
public readonly record struct PaymentOutcome(
    [property: Id(0)] PaymentStatus Status,
    [property: Id(1)] CreateTransferResult Reason);
