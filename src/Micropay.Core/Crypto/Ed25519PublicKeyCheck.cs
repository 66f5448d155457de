using System.Numerics;

namespace Micropay.Core.Crypto;

/// <summary>
/// Whether 32 bytes are an Ed25519 public key that a signature can ever verify under with libsodium's rules (see
/// <see cref="VerificationKey"/>): the canonical encoding (y &lt; p) of a point of the curve that is not of small order.
/// Key registration refuses every other key (KeyResult.WeakPublicKey, at the engine's edge).
/// </summary>
/// <remarks>
/// <para>
/// A point decodes (RFC 8032 section 5.1.3) when y &lt; p and x² = (y² − 1) / (d·y² + 1) has a root mod p, that is when
/// (y² − 1)(d·y² + 1) is 0 or a square (Euler's criterion). The small-order points are the 8 whose order divides the
/// cofactor: the identity (y = 1), the point of order 2 (y = −1), the two of order 4 (y = 0) and the four of order 8
/// (y = ±y₈); each is refused whatever its sign bit, as libsodium's <c>ge25519_has_small_order</c> does. With x = 0 the
/// sign bit must be clear (RFC 8032 section 5.1.3, step 4), but x = 0 only at y = ±1, refused already.
/// </para>
/// <para>
/// Mixed-order points (a small-order component added to a point of order L) pass, as they pass libsodium: rejecting them
/// costs a scalar multiplication by L, and a key that is one verifies only signatures its holder made (speccheck case 3).
/// Not on a hot path (once per registration): plain <see cref="BigInteger"/> arithmetic, about two modular
/// exponentiations.
/// </para>
/// </remarks>
internal static class Ed25519PublicKeyCheck
{
    // p = 2^255 - 19.
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;

    // d = -121665 / 121666 mod p.
    private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

    // The y coordinates of the small-order points: 0 (order 4), 1 (the identity), p - 1 (order 2), y8 and p - y8 (order 8).
    private static readonly BigInteger Y8 = new(Convert.FromHexString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), isUnsigned: true, isBigEndian: false);
    private static readonly BigInteger[] SmallOrderY = [BigInteger.Zero, BigInteger.One, P - 1, Y8, P - Y8];

    /// <summary>Whether <paramref name="publicKey"/> (32 bytes) is the canonical encoding of a point of the curve not of small order.</summary>
    public static bool IsStrict(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != VerificationKey.Size)
        {
            return false;
        }

        Span<byte> yBytes = stackalloc byte[VerificationKey.Size];
        publicKey.CopyTo(yBytes);
        yBytes[31] &= 0x7F; // the sign of x
        var y = new BigInteger(yBytes, isUnsigned: true, isBigEndian: false);
        if (y >= P || Array.IndexOf(SmallOrderY, y) >= 0)
        {
            return false;
        }

        BigInteger y2 = y * y % P;
        BigInteger uv = Mod((y2 - 1) * ((D * y2) + 1));
        return uv.IsZero || BigInteger.ModPow(uv, (P - 1) / 2, P).IsOne;
    }

    private static BigInteger Mod(BigInteger value)
    {
        BigInteger r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
