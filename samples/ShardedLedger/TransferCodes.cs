namespace ShardedLedger;

/// <summary>The transfer codes the sample writes (application-defined, as the ledger leaves them).</summary>
public static class TransferCodes
{
    /// <summary>An in-shard payment.</summary>
    public const ushort InShard = 1;

    /// <summary>A cross-shard hold (either side).</summary>
    public const ushort CrossShardHold = 2;

    /// <summary>A treasury issuing money to a customer on its shard.</summary>
    public const ushort Issue = 3;

    /// <summary>The code of a customer account.</summary>
    public const ushort CustomerAccount = 10;

    /// <summary>The code of a bridge account.</summary>
    public const ushort BridgeAccount = 11;

    /// <summary>The code of a treasury.</summary>
    public const ushort TreasuryAccount = 12;
}
