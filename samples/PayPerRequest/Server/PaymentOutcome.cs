namespace PayPerRequest.Server;

/// <summary>
/// What the payment gate made of a request's payment. Every value but <see cref="Accepted"/> is answered with
/// <c>402 Payment Required</c>; the JSON body names it in snake case (<c>"reason": "replayed"</c>).
/// </summary>
public enum PaymentOutcome
{
    /// <summary>Paid: the voucher or tick was accepted and added at least the price.</summary>
    Accepted = 0,

    /// <summary>The request carried no payment header: the body is the price challenge.</summary>
    PaymentMissing,

    /// <summary>The header is not base64 of one voucher (128 bytes) or one tick (64 bytes), or both headers were sent.</summary>
    Malformed,

    /// <summary>No channel with this id was opened through this server.</summary>
    UnknownChannel,

    /// <summary>A voucher for a hash-chain channel, or a tick for a cumulative one.</summary>
    WrongScheme,

    /// <summary>The voucher's lane is not below the challenge's <c>maxLanes</c>.</summary>
    LaneOutOfRange,

    /// <summary>The voucher's signature does not verify with the channel's payer key and the ledger's instance id.</summary>
    BadSignature,

    /// <summary>The tick's word does not hash to the last word accepted (or its index is beyond the chain).</summary>
    BadTick,

    /// <summary>The voucher's sequence (or the tick's index) is not above the last accepted: a replay or an older payment.</summary>
    Replayed,

    /// <summary>The voucher's cumulative amount (or the tick's units) adds less than the price to what was accepted.</summary>
    Underpaid,

    /// <summary>The tick pays more units at once than the challenge's <c>maxTickUnits</c> (each unit costs the server a hash).</summary>
    TickTooFarAhead,

    /// <summary>Accepting it would take the channel's payments past its deposit: top up or open a new channel.</summary>
    ExceedsDeposit,

    /// <summary>The voucher expired, or the channel expires too soon for the server to redeem in time.</summary>
    Expired,
}
