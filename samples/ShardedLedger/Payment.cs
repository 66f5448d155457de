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
