namespace Micropay.Core.Ledger;

/// <summary>The state of a pending transfer (a hold).</summary>
public enum PendingStatus : byte
{
    /// <summary>The transfer is not a pending transfer.</summary>
    None = 0,

    /// <summary>The hold is open: its amount is in the accounts' pending balances.</summary>
    Pending = 1,

    /// <summary>The hold was posted (fully or partly); any remainder was released.</summary>
    Posted = 2,

    /// <summary>The hold was voided; its amount was released.</summary>
    Voided = 3,

    /// <summary>The hold's timeout passed before it was posted or voided; its amount was released.</summary>
    Expired = 4,
}
