namespace ShardedLedger;

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
