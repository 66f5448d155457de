namespace Micropay.Core.Channels;

/// <summary>How a channel's payer pays the payee: byte 1 of the <see cref="ChannelConfig"/> encoding.</summary>
public enum ChannelMode : byte
{
    /// <summary>
    /// Signed cumulative vouchers (<see cref="Voucher"/>): each states the total the payer owes on one lane, and only the
    /// newest per lane needs redeeming. One Ed25519 signature per voucher.
    /// </summary>
    Cumulative = 1,

    /// <summary>
    /// PayWord hash-chain ticks: the config commits to a chain root H^n(seed), a unit amount and the length n; paying k
    /// units reveals the chain element k steps further. One BLAKE2b-256 hash per unit, no signature.
    /// </summary>
    HashChain = 2,
}
