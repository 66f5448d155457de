namespace Micropay.Core.Crypto;

/// <summary>
/// The domain-separation tags: every message Micropay.Core signs or hashes for an id starts with one of these, so a
/// signature or hash made for one purpose can never be taken for another (a voucher for a close, a certificate for a
/// voucher).
/// </summary>
/// <remarks>
/// Each tag is an ASCII name, <c>micropay/&lt;purpose&gt;/v&lt;version&gt;</c>, padded with zero bytes to exactly
/// <see cref="Size"/> bytes. Fixed-length tags make every tagged message unambiguous: no tag is a prefix of another
/// tagged message's tag, and the fields after it always start at byte 32. A new format version gets a new tag. The tests
/// pin every byte.
/// </remarks>
internal static class DomainTags
{
    /// <summary>The length of every tag in bytes: 32.</summary>
    public const int Size = 32;

    /// <summary>"micropay/voucher/v1" (19 bytes) and 13 zeros: a cumulative voucher's signature (<c>Channels.Voucher</c>).</summary>
    public static ReadOnlySpan<byte> Voucher => "micropay/voucher/v1\0\0\0\0\0\0\0\0\0\0\0\0\0"u8;

    /// <summary>"micropay/channel/v1" (19 bytes) and 13 zeros: the hash that derives a channel's id from its configuration (<c>Channels.ChannelConfig.Id</c>); hashed, never signed.</summary>
    public static ReadOnlySpan<byte> ChannelId => "micropay/channel/v1\0\0\0\0\0\0\0\0\0\0\0\0\0"u8;

    /// <summary>"micropay/channel-open/v1" (24 bytes) and 8 zeros: the payer's signature on a channel open.</summary>
    public static ReadOnlySpan<byte> ChannelOpen => "micropay/channel-open/v1\0\0\0\0\0\0\0\0"u8;

    /// <summary>"micropay/channel-close/v1" (25 bytes) and 7 zeros: the payer's signature on a unilateral channel close.</summary>
    public static ReadOnlySpan<byte> ChannelClose => "micropay/channel-close/v1\0\0\0\0\0\0\0"u8;

    /// <summary>"micropay/channel-certificate/v1" (31 bytes) and 1 zero: the ledger operator's signature on a channel certificate (<c>Channels.ChannelCertificate</c>).</summary>
    public static ReadOnlySpan<byte> ChannelCertificate => "micropay/channel-certificate/v1\0"u8;

    /// <summary>"micropay/key-id/v1" (18 bytes) and 14 zeros: the hash that derives a registered key's id from its public key (<c>Identity.KeyIds</c>); hashed, never signed.</summary>
    public static ReadOnlySpan<byte> KeyId => "micropay/key-id/v1\0\0\0\0\0\0\0\0\0\0\0\0\0\0"u8;

    /// <summary>"micropay/payment-order/v1" (25 bytes) and 7 zeros: a device key's signature (and a co-signer's) on a payment order (<c>Identity.PaymentOrder</c>).</summary>
    public static ReadOnlySpan<byte> PaymentOrder => "micropay/payment-order/v1\0\0\0\0\0\0\0"u8;
}
