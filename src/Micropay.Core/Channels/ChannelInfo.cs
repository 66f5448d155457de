namespace Micropay.Core.Channels;

/// <summary>
/// A channel as the engine's lock-free reads see it: its config, and the money in and out of its escrow as of a
/// released batch (read from the escrow account, whose id is the channel id).
/// </summary>
/// <param name="Config">The channel's immutable config.</param>
/// <param name="Deposited">Everything moved into escrow: the open's deposit and every top-up.</param>
/// <param name="PaidOut">Everything moved out of escrow: redemptions to the payee and, once closed, the refund to the payer.</param>
public readonly record struct ChannelInfo(ChannelConfig Config, UInt128 Deposited, UInt128 PaidOut)
{
    /// <summary>What the escrow still holds: 0 once the channel closed and refunded the payer.</summary>
    public UInt128 Remaining => Deposited - PaidOut;
}
