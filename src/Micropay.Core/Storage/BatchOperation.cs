namespace Micropay.Core.Storage;

/// <summary>What the events of a <see cref="CommitBatch"/> are: which ledger operation the engine applied.</summary>
public enum BatchOperation : ushort
{
    /// <summary>Not an operation; never valid in a stored batch.</summary>
    None = 0,

    /// <summary>The events are <see cref="Ledger.Account"/> records passed to <see cref="Ledger.LedgerStateMachine.CreateAccounts"/>.</summary>
    CreateAccounts = 1,

    /// <summary>The events are <see cref="Ledger.Transfer"/> records passed to <see cref="Ledger.LedgerStateMachine.CreateTransfers"/>.</summary>
    CreateTransfers = 2,

    /// <summary>The ledger instance's id, fixed once: the first batch of every ledger (one 128-byte record).</summary>
    SetInstanceId = 3,

    /// <summary>Channel opens (<c>Micropay.Core.Channels</c>): the signed config and deposit, 256 bytes each.</summary>
    OpenChannels = 4,

    /// <summary>Channel top-ups: more deposit from the payer into a channel's escrow.</summary>
    TopUpChannels = 5,

    /// <summary>Voucher redemptions: each event is the 128-byte signed voucher itself, so the journal keeps every signature.</summary>
    RedeemVouchers = 6,

    /// <summary>Hash-chain tick redemptions: each event holds the revealed tick.</summary>
    RedeemTicks = 7,

    /// <summary>Channel closes: cooperative, or unilateral by the payer (signed) to start the settle delay.</summary>
    CloseChannels = 8,

    /// <summary>Key registry changes (<c>Micropay.Core.Identity</c>): register, re-policy or revoke a key, 1024 bytes each.</summary>
    ManageKeys = 9,

    /// <summary>Signed payment orders without co-signatures, 256 bytes each (order and signature).</summary>
    ExecuteOrders = 10,

    /// <summary>Signed payment orders of a batch where at least one is co-signed, 1024 bytes each (order, signature, co-signature).</summary>
    ExecuteCoSignedOrders = 11,

    /// <summary>Channel opens of a batch where at least one is co-signed (a step-up), 1088 bytes each.</summary>
    OpenCoSignedChannels = 12,
}
