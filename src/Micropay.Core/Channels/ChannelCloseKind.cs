namespace Micropay.Core.Channels;

/// <summary>How a channel is closed.</summary>
public enum ChannelCloseKind : byte
{
    /// <summary>
    /// Closed now, on behalf of the payee (the party a close can only cost): the rest of the deposit returns to the
    /// payer at once. The payee redeems its best vouchers first.
    /// </summary>
    Cooperative = 1,

    /// <summary>
    /// The payer's close, signed with the payer key: the settle delay starts, the payee can still redeem during it,
    /// and at its end the rest of the deposit returns to the payer.
    /// </summary>
    Unilateral = 2,
}
