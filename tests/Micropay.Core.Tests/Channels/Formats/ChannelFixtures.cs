using Micropay.Core.Channels;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// The fixed keys and fields of the golden vectors. The keys come from fixed 32-byte seeds (RFC 8032 raw private keys),
/// so every signature below is reproducible: Ed25519 signing is deterministic.
/// </summary>
internal static class ChannelFixtures
{
    /// <summary>The payer's seed: bytes 01..20. Its public key is 79b5562e...049664.</summary>
    public static readonly byte[] PayerSeed = Convert.FromHexString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

    /// <summary>The ledger operator's seed: bytes a0..bf. Its public key is 4fd099cc...be65c4.</summary>
    public static readonly byte[] LedgerSeed = Convert.FromHexString("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");

    // Never disposed: they live as long as the test process.
    public static readonly SigningKey Payer = SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);
    public static readonly SigningKey Operator = SigningKey.Import(LedgerSeed, SigningKeyFormat.RawSeed);

    public static readonly UInt128 Instance = new(0x0123456789ABCDEF, 0xFEDCBA9876543210);
    public static readonly UInt128 PayerAccount = 1001;
    public static readonly UInt128 PayeeAccount = 2002;
    public const uint LedgerId = 840;
    public const ulong ExpiresAt = 1_800_000_000_000_000_000;
    public const ulong SettleDelay = 3_600_000_000_000;
    public static readonly UInt128 Salt = 0x5A17;
    public static readonly byte[] ChainRoot = Convert.FromHexString("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f");
    public static readonly UInt128 UnitAmount = 5;
    public const uint ChainLength = 1000;

    public static ChannelConfig Cumulative() =>
        ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt);

    public static ChannelConfig HashChain() =>
        ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, ChainRoot, UnitAmount, ChainLength);

    public static byte[] Encoded(ChannelConfig config)
    {
        byte[] bytes = new byte[ChannelConfig.EncodedSize];
        config.Encode(bytes);
        return bytes;
    }

    public static byte[] Encoded(Voucher voucher)
    {
        byte[] bytes = new byte[Voucher.Size];
        voucher.Encode(bytes);
        return bytes;
    }

    public static byte[] Encoded(ChannelCertificate certificate)
    {
        byte[] bytes = new byte[ChannelCertificate.Size];
        certificate.Encode(bytes);
        return bytes;
    }

    /// <summary>An independent Ed25519 check straight through NSec, not through the library's own types.</summary>
    public static bool NSecVerifies(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        NSec.Cryptography.SignatureAlgorithm.Ed25519.Verify(
            NSec.Cryptography.PublicKey.Import(NSec.Cryptography.SignatureAlgorithm.Ed25519, publicKey, NSec.Cryptography.KeyBlobFormat.RawPublicKey),
            message,
            signature);

    /// <summary>A domain tag built here from its ASCII name: the name, then zeros up to 32 bytes.</summary>
    public static byte[] Tag(string name)
    {
        byte[] tag = new byte[32];
        System.Text.Encoding.ASCII.GetBytes(name).CopyTo(tag, 0);
        return tag;
    }
}
