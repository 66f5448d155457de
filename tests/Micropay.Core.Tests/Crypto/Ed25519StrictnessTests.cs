using System.Numerics;
using System.Security.Cryptography;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary>
/// The edge cases of Ed25519 verification, and what <see cref="VerificationKey.Verify"/> (libsodium's
/// <c>crypto_sign_ed25519_verify_detached</c>, through NSec) does with each. Every refused signature here is one that a
/// more permissive verifier (plain RFC 8032 section 5.1.7, or ref10) accepts: the constructions say why.
/// </summary>
/// <remarks>
/// <para>What the tests show libsodium doing:</para>
/// <list type="bullet">
/// <item>S must be canonical (S &lt; L): a valid signature with L added to S is refused (malleability closed).</item>
/// <item>A must not be a small-order point, nor a non-canonical encoding: the identity, an order-8 point, y = p + 1 and
/// x = 0 with the sign bit set are refused as keys even with signatures that satisfy the verification equation.</item>
/// <item>R must not be a small-order point: a signature with R = identity that satisfies the equation for a real key is
/// refused.</item>
/// <item>Of the twelve ed25519-speccheck vectors ("Taming the many EdDSAs", Chalkias, Garillot, Nikolaenko, 2020) only
/// case 3 is accepted, as the paper's results table lists for libsodium.</item>
/// </list>
/// </remarks>
public sealed class Ed25519StrictnessTests
{
    // The order of the base point: 2^252 + 27742317777372353535851937790883648493.
    private static readonly BigInteger L = BigInteger.Pow(2, 252) + BigInteger.Parse("27742317777372353535851937790883648493");

    private static readonly byte[] Seed = Convert.FromHexString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

    [Fact]
    public void Verify_SWithLAdded_IsRefusedWhileTheOriginalIsAccepted()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] message = "non-canonical S"u8.ToArray();
        byte[] signature = new byte[64];
        key.Sign(message, signature);
        Assert.True(key.VerificationKey.Verify(message, signature));

        // S + L is the same scalar modulo L, so [S + L]B = [S]B and the equation still holds: only the canonicity check
        // (S < L) can refuse it. S < L < 2^253, so S + L still fits in 32 bytes.
        BigInteger s = ToInteger(signature.AsSpan(32));
        byte[] malleated = [.. signature[..32], .. ToBytes32(s + L)];
        Assert.NotEqual(signature, malleated);

        Assert.False(key.VerificationKey.Verify(message, malleated));
    }

    [Fact]
    public void Verify_SWithAMultipleOfLAddedInTheHighBits_IsRefused()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] message = "S with high bits"u8.ToArray();
        byte[] signature = new byte[64];
        key.Sign(message, signature);

        BigInteger s = ToInteger(signature.AsSpan(32));
        BigInteger big = s + (15 * L); // still below 2^256, same scalar modulo L
        Assert.True(big < BigInteger.Pow(2, 256));

        Assert.False(key.VerificationKey.Verify(message, [.. signature[..32], .. ToBytes32(big)]));
    }

    /// <summary>
    /// Public keys of small order or with non-canonical encodings, each with the signature R = identity, S = 0. For a
    /// point A of order 1 (the identity, however encoded) the cofactorless equation [S]B = R + [k]A reads O = O + O, true
    /// for every message: a permissive verifier accepts this "signature" of anything. For A of order n it holds for every
    /// message whose k is a multiple of n, and under the cofactored equation ([8S]B = [8]R + [8k]A) for all.
    /// </summary>
    [Theory]
    [InlineData("identity (order 1)", "0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("identity encoded as y = p + 1 (non-canonical)", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("identity with the x sign bit set (non-canonical)", "0100000000000000000000000000000000000000000000000000000000000080")]
    [InlineData("y = 0 (order 4)", "0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("y = -1 (order 2)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")]
    [InlineData("an order-8 point", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")]
    [InlineData("the other order-8 point with that y", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")]
    public void Verify_SmallOrderOrNonCanonicalPublicKey_RefusesTheTrivialSignature(string what, string publicKey)
    {
        _ = what;
        // NSec imports any 32 bytes as a public key: the refusal is verification's.
        Assert.True(VerificationKey.TryCreate(Convert.FromHexString(publicKey), out VerificationKey? key));
        byte[] trivial = Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000" + new string('0', 64));

        for (int i = 0; i < 16; i++)
        {
            Assert.False(key.Verify([(byte)i, .. "any message"u8], trivial));
        }
    }

    [Fact]
    public void Verify_SmallOrderRWithAnOtherwiseValidEquation_IsRefused()
    {
        // A real key A = [a]B and R = identity: S = k·a mod L with k = SHA-512(R || A || M) satisfies [S]B = [k]A = R + [k]A,
        // the cofactorless equation, exactly. Only the small-order check on R refuses it.
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] publicKey = key.VerificationKey.AsSpan().ToArray();
        BigInteger a = SecretScalar(Seed);
        byte[] message = "small-order R"u8.ToArray();

        // The scalar arithmetic below is checked against a real signature first: S = r + k·a mod L.
        byte[] real = new byte[64];
        key.Sign(message, real);
        BigInteger r = ToInteger(SHA512.HashData([.. SHA512.HashData(Seed)[32..], .. message])) % L;
        BigInteger kReal = ToInteger(SHA512.HashData([.. real[..32], .. publicKey, .. message])) % L;
        Assert.Equal(ToInteger(real.AsSpan(32)), (r + (kReal * a)) % L);

        byte[] identity = Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000");
        BigInteger k = ToInteger(SHA512.HashData([.. identity, .. publicKey, .. message])) % L;
        byte[] forged = [.. identity, .. ToBytes32(k * a % L)];

        Assert.False(key.VerificationKey.Verify(message, forged));
    }

    /// <summary>
    /// The twelve vectors of ed25519-speccheck (novifinancial/ed25519-speccheck, cases.txt), with the paper's description
    /// of each and libsodium's verdict. "Mixed" means a point with both a small-order and a large-order component.
    /// </summary>
    public static readonly TheoryData<int, string, string, string, bool, string> SpeccheckCases = new()
    {
        {
            0, "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
            false, "S = 0, small-order A and R: valid under both equations; refused, A and R have small order"
        },
        {
            1, "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            false, "small-order A, mixed-order R: valid under both equations; refused, A has small order"
        },
        {
            2, "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
            false, "mixed-order A, small-order R: valid under both equations; refused, R has small order"
        },
        {
            3, "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
            true, "mixed-order A and R, valid under both equations: accepted (libsodium blocks small-order points, it does not require full order)"
        },
        {
            4, "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
            false, "mixed-order A and R, valid under the cofactored equation only: refused, libsodium is cofactorless"
        },
        {
            5, "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
            false, "mixed-order A, order-L R, valid under the cofactored equation only: refused, libsodium is cofactorless"
        },
        {
            6, "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
            false, "S > L, order-L A and R: valid once S is reduced; refused, S is not canonical"
        },
        {
            7, "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
            false, "S much larger than L (high bits set), order-L A and R: refused, S is not canonical"
        },
        {
            8, "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
            false, "mixed-order A, non-canonical small-order R, valid if R is reduced before hashing: refused, R has small order"
        },
        {
            9, "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
            false, "mixed-order A, non-canonical small-order R, valid if R is hashed as sent: refused, R has small order"
        },
        {
            10, "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            false, "non-canonical small-order A, mixed-order R, valid if A is reduced before hashing: refused, A is not canonical and has small order"
        },
        {
            11, "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            false, "non-canonical small-order A, mixed-order R, valid if A is hashed as sent: refused, A is not canonical and has small order"
        },
    };

    [Theory]
    [MemberData(nameof(SpeccheckCases))]
    public void Verify_SpeccheckCase_GivesLibsodiumsVerdict(int number, string message, string publicKey, string signature, bool accepted, string why)
    {
        _ = (number, why);
        Assert.True(VerificationKey.TryCreate(Convert.FromHexString(publicKey), out VerificationKey? key));

        Assert.Equal(accepted, key.Verify(Convert.FromHexString(message), Convert.FromHexString(signature)));
    }

    [Fact]
    public void SpeccheckCases_AreTheTwelveOfThePaper()
    {
        Assert.Equal(12, SpeccheckCases.Count);
        Assert.Equal(Enumerable.Range(0, 12), SpeccheckCases.Select(row => (int)row[0]));
        Assert.Single(SpeccheckCases, row => (bool)row[4]);
    }

    // RFC 8032 section 5.1.5: the secret scalar is the first half of SHA-512(seed), clamped, read little-endian.
    private static BigInteger SecretScalar(byte[] seed)
    {
        byte[] h = SHA512.HashData(seed)[..32];
        h[0] &= 248;
        h[31] &= 127;
        h[31] |= 64;
        return ToInteger(h);
    }

    private static BigInteger ToInteger(ReadOnlySpan<byte> littleEndian) => new(littleEndian, isUnsigned: true, isBigEndian: false);

    private static byte[] ToBytes32(BigInteger value)
    {
        byte[] bytes = new byte[32];
        Assert.True(value.TryWriteBytes(bytes, out _, isUnsigned: true, isBigEndian: false));
        return bytes;
    }
}
