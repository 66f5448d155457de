namespace Micropay.Core.Channels;

/// <summary>
/// A channel as the engine's lock-free reads see it: its config, the money in and out of its escrow (read from the escrow
/// account, whose id is the channel id) and its status, each as of a released batch (two reads: during a publication
/// the totals may already show the batch the status does not yet).
/// </summary>
/// <param name="Config">The channel's immutable config.</param>
/// <param name="Deposited">Everything moved into escrow: the open's deposit and every top-up.</param>
/// <param name="PaidOut">Everything moved out of escrow: redemptions to the payee and, once closed, the refund to the payer.</param>
public readonly record struct ChannelInfo(ChannelConfig Config, UInt128 Deposited, UInt128 PaidOut)
{
    /// <summary>Open, closing (the payer's settle delay runs) or closed.</summary>
    public ChannelStatus Status { get; init; }

    /// <summary>When a payer's unilateral close takes effect (redemptions stop then), or 0 unless closing.</summary>
    public ulong CloseDeadline { get; init; }

    /// <summary>Hash-chain channels: the highest tick index redeemed.</summary>
    public uint TickIndex { get; init; }

    /// <summary>What the escrow still holds: 0 once the channel closed and refunded the payer.</summary>
    public UInt128 Remaining => Deposited - PaidOut;
}
