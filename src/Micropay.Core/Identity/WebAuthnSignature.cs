namespace Micropay.Core.Identity;

/// <summary>
/// The strict DER check of an ES256 assertion signature (WebAuthn Level 3 section 6.5.5: ECDSA signatures are DER
/// ECDSA-Sig-Value, RFC 3279 section 2.2.3), done before the signature reaches the runtime so that a malformed encoding
/// is told apart from a signature that does not verify. Never throws; allocates nothing.
/// </summary>
/// <remarks>
/// <para>The only encoding accepted (DER, X.690 section 10, for a P-256 signature):</para>
/// <code>
/// offset size field
///      0    1 0x30           SEQUENCE
///      1    1 L              length of the rest, short form (at most 70 &lt; 128), exactly the bytes that follow
///      2    1 0x02           INTEGER r
///      3    1 Lr             1..33, short form
///      4   Lr r              big-endian, minimal: no leading 0x00 unless the next byte is >= 0x80; not negative
///   4+Lr    1 0x02           INTEGER s
///   5+Lr    1 Ls             1..33, short form
///   6+Lr   Ls s              as r
/// </code>
/// <para>
/// 33 bytes is a 32-byte value with the 0x00 that keeps it positive, the largest a P-256 scalar needs. Whether r and s
/// lie in [1, n - 1] is the verification's question, not the encoding's: a zero or too-large value is a
/// <see cref="PasskeyResult.BadSignature"/>. OpenSSL also refuses non-DER encodings when it verifies (it re-encodes and
/// compares); this check makes the refusal explicit and gives it its own result.
/// </para>
/// </remarks>
internal static class WebAuthnSignature
{
    private const byte SequenceTag = 0x30;
    private const byte IntegerTag = 0x02;
    private const int MaxIntegerLength = 33;

    /// <summary>Whether <paramref name="signature"/> is exactly one strict DER ECDSA-Sig-Value with P-256-sized integers.</summary>
    public static bool IsStrictDer(ReadOnlySpan<byte> signature)
    {
        if (signature.Length < 2 || signature[0] != SequenceTag || signature[1] >= 0x80 || signature[1] != signature.Length - 2)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = signature[2..];
        return TrySkipInteger(ref rest) && TrySkipInteger(ref rest) && rest.IsEmpty;
    }

    private static bool TrySkipInteger(ref ReadOnlySpan<byte> rest)
    {
        if (rest.Length < 2 || rest[0] != IntegerTag)
        {
            return false;
        }

        int length = rest[1];
        if (length == 0 || length > MaxIntegerLength || rest.Length - 2 < length)
        {
            return false;
        }

        ReadOnlySpan<byte> value = rest.Slice(2, length);

        // Not negative (the sign bit of the first byte clear), and minimal (a leading 0x00 only to clear the sign bit).
        if (value[0] >= 0x80 || (value.Length > 1 && value[0] == 0 && value[1] < 0x80))
        {
            return false;
        }

        // 33 bytes only for a 32-byte value that needs the leading 0x00.
        if (length == MaxIntegerLength && value[0] != 0)
        {
            return false;
        }

        rest = rest[(2 + length)..];
        return true;
    }
}
