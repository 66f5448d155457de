namespace ShardedLedger;

/// <summary>The transfers of one payment, in the low 3 bits of their ids (<see cref="ShardMap.TransferId"/>).</summary>
public enum PaymentStep : byte
{
    /// <summary>An in-shard payment: one single-phase transfer.</summary>
    InShard = 0,

    /// <summary>The payer's hold: payer to the payer shard's bridge, pending.</summary>
    PayerHold = 1,

    /// <summary>The payee's hold: the payee shard's bridge to the payee, pending.</summary>
    PayeeHold = 2,

    /// <summary>The resolution of the payer's hold (post or void).</summary>
    PayerResolution = 3,

    /// <summary>The resolution of the payee's hold (post or void).</summary>
    PayeeResolution = 4,
}
