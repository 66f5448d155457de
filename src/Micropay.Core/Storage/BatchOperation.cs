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
}
