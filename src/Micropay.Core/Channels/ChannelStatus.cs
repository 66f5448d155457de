namespace Micropay.Core.Channels;

/// <summary>Where a channel is in its life.</summary>
public enum ChannelStatus : byte
{
    /// <summary>Open: vouchers or ticks redeem, top-ups add to the deposit.</summary>
    Open = 1,

    /// <summary>The payer started a unilateral close: the payee can still redeem until the settle delay ends, then the rest returns to the payer.</summary>
    Closing = 2,

    /// <summary>Closed: cooperatively, at the end of the settle delay, or at expiry; the rest of the deposit went back to the payer.</summary>
    Closed = 3,
}
