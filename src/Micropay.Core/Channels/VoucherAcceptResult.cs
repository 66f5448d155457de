namespace Micropay.Core.Channels;

/// <summary>What an offline payee (<see cref="ChannelReceiver"/>) made of a voucher.</summary>
public enum VoucherAcceptResult
{
    /// <summary>Accepted: it is now the lane's best voucher, worth <see cref="ChannelReceiver.Accept"/>'s increase more than the last.</summary>
    Accepted = 0,

    /// <summary>The voucher is for another channel.</summary>
    WrongChannel = 1,

    /// <summary>The signature does not verify with the channel's payer key and instance id.</summary>
    BadSignature = 2,

    /// <summary>The voucher's valid-until is before the receiver's time (it could not be redeemed).</summary>
    VoucherExpired = 3,

    /// <summary>The channel expires too soon for the receiver to redeem in time (its expiry minus the receiver's redeem margin).</summary>
    ChannelExpiring = 4,

    /// <summary>The lane already holds a voucher with this sequence or a higher one (a replay, or an older voucher).</summary>
    SequenceNotIncreasing = 5,

    /// <summary>The voucher's cumulative amount is not above the lane's best: it pays nothing.</summary>
    AmountNotIncreasing = 6,

    /// <summary>Accepting it would take the vouchers' total past the deposit the certificate states.</summary>
    ExceedsDeposit = 7,
}
