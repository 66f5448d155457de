namespace Micropay.Core.Channels;

/// <summary>
/// One channel's state in the ledger (writer thread only): its config, the money in and out of its escrow, where it is
/// in its life, and per lane the best voucher redeemed.
/// </summary>
internal sealed class ChannelState(ChannelConfig config, int index, UInt128 openDeposit, ulong openedAt)
{
    /// <summary>The immutable config (its id is the channel id and the escrow account's id).</summary>
    public ChannelConfig Config { get; } = config;

    /// <summary>The channel's place in creation order (its row in the deadline queue).</summary>
    public int Index { get; } = index;

    /// <summary>The deposit the open moved (an open's idempotency compares it).</summary>
    public UInt128 OpenDeposit { get; } = openDeposit;

    /// <summary>When the open was applied.</summary>
    public ulong OpenedAt { get; } = openedAt;

    /// <summary>Everything moved into escrow: the open's deposit plus top-ups.</summary>
    public UInt128 Deposit { get; set; } = openDeposit;

    /// <summary>Everything paid out to the payee.</summary>
    public UInt128 Redeemed { get; set; }

    /// <summary>What the close returned to the payer (0 until it closes).</summary>
    public UInt128 Refunded { get; set; }

    /// <summary>Open, closing or closed.</summary>
    public ChannelStatus Status { get; set; } = ChannelStatus.Open;

    /// <summary>When a unilateral close's settle delay ends (0 unless closing); redemptions stop at this time.</summary>
    public ulong CloseDeadline { get; set; }

    /// <summary>When the channel closed (its refund's timestamp), or 0.</summary>
    public ulong ClosedAt { get; set; }

    /// <summary>Hash-chain channels: the highest tick index redeemed.</summary>
    public uint TickIndex { get; set; }

    /// <summary>Cumulative channels: per lane, the best voucher redeemed (created with the first redemption).</summary>
    public Dictionary<uint, LaneState>? Lanes { get; set; }

    /// <summary>What the escrow still holds.</summary>
    public UInt128 Remaining => Deposit - Redeemed - Refunded;
}

/// <summary>A lane's best redeemed voucher: its sequence and the cumulative amount paid on the lane.</summary>
/// <param name="Sequence">The sequence of the last voucher redeemed on the lane.</param>
/// <param name="Redeemed">The cumulative amount paid on the lane (that voucher's amount).</param>
internal record struct LaneState(ulong Sequence, UInt128 Redeemed);
