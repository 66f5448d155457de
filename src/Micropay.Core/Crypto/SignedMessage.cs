using System.Buffers.Binary;

namespace Micropay.Core.Crypto;

/// <summary>
/// The one place that builds the messages Micropay.Core signs: every Ed25519 signature of a voucher, a channel open or
/// close, or a channel certificate is over a domain tag, the ledger instance id and the record's signed bytes, laid out
/// as in the remarks.
/// </summary>
/// <remarks>
/// <code>
/// offset size field
///      0   32 DomainTag    one of DomainTags: ASCII purpose and version, zero-padded
///     32   16 InstanceId   UInt128, little-endian: the ledger instance the message is meant for
///     48    n Body         the record's signed bytes (n &lt;= 512)
/// </code>
/// <para>
/// The tag binds a signature to one purpose and format version; the instance id binds it to one ledger instance, so a
/// voucher for a test ledger cannot be redeemed on the production ledger even if the ids and keys are the same. The
/// message is assembled on the stack: signing and verifying allocate nothing.
/// </para>
/// </remarks>
internal static class SignedMessage
{
    /// <summary>The length of the tag and instance id before the body: 48 bytes.</summary>
    public const int HeaderSize = DomainTags.Size + 16;

    /// <summary>The longest body a signed message may carry: 512 bytes (so the message fits in a small stack buffer).</summary>
    public const int MaxBodyLength = 512;

    /// <summary>Signs <c>tag32 || instanceId || body</c> with <paramref name="key"/>.</summary>
    /// <param name="key">The signing key.</param>
    /// <param name="tag32">The 32-byte domain tag (a <see cref="DomainTags"/> member).</param>
    /// <param name="instanceId">The ledger instance.</param>
    /// <param name="body">The record's signed bytes, at most <see cref="MaxBodyLength"/>.</param>
    /// <param name="signature">Receives the 64-byte signature.</param>
    /// <exception cref="ArgumentException">A length is wrong: tag not 32, body over 512, signature under 64 bytes.</exception>
    public static void Sign(SigningKey key, ReadOnlySpan<byte> tag32, UInt128 instanceId, ReadOnlySpan<byte> body, Span<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckLengths(tag32, body);
        Span<byte> message = stackalloc byte[HeaderSize + MaxBodyLength];
        message = Write(message, tag32, instanceId, body);
        key.Sign(message, signature);
    }

    /// <summary>Checks a signature over <c>tag32 || instanceId || body</c>.</summary>
    /// <param name="key">The verification key.</param>
    /// <param name="tag32">The 32-byte domain tag (a <see cref="DomainTags"/> member).</param>
    /// <param name="instanceId">The ledger instance the verifier expects.</param>
    /// <param name="body">The record's signed bytes, at most <see cref="MaxBodyLength"/>.</param>
    /// <param name="signature">The signature; anything but 64 bytes fails.</param>
    /// <returns>Whether the signature is valid (libsodium's strict rules, see <see cref="VerificationKey"/>).</returns>
    /// <exception cref="ArgumentException">The tag is not 32 bytes or the body is over 512 bytes (caller bugs: the formats fix both).</exception>
    public static bool Verify(VerificationKey key, ReadOnlySpan<byte> tag32, UInt128 instanceId, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckLengths(tag32, body);
        Span<byte> message = stackalloc byte[HeaderSize + MaxBodyLength];
        message = Write(message, tag32, instanceId, body);
        return key.Verify(message, signature);
    }

    /// <summary>
    /// Assembles <c>tag32 || instanceId || body</c> into <paramref name="buffer"/> (at least <see cref="HeaderSize"/> +
    /// the body's length) and returns the message: for co-signatures over the same message, and the SHA-256 challenge a
    /// passkey signs.
    /// </summary>
    /// <exception cref="ArgumentException">A length is wrong (as for <see cref="Sign"/>).</exception>
    public static Span<byte> Assemble(Span<byte> buffer, scoped ReadOnlySpan<byte> tag32, UInt128 instanceId, scoped ReadOnlySpan<byte> body)
    {
        CheckLengths(tag32, body);
        return Write(buffer, tag32, instanceId, body);
    }

    private static void CheckLengths(ReadOnlySpan<byte> tag32, ReadOnlySpan<byte> body)
    {
        if (tag32.Length != DomainTags.Size)
        {
            ThrowHelper.ThrowArgumentException_WrongLength(nameof(tag32), "A domain tag", DomainTags.Size, tag32.Length);
        }

        if (body.Length > MaxBodyLength)
        {
            ThrowHelper.ThrowArgumentException_SignedBodyTooLong(nameof(body), MaxBodyLength, body.Length);
        }
    }

    // The layout, once; returns the message (the buffer trimmed to its length).
    private static Span<byte> Write(Span<byte> buffer, scoped ReadOnlySpan<byte> tag32, UInt128 instanceId, scoped ReadOnlySpan<byte> body)
    {
        tag32.CopyTo(buffer);
        BinaryPrimitives.WriteUInt128LittleEndian(buffer[DomainTags.Size..], instanceId);
        body.CopyTo(buffer[HeaderSize..]);
        return buffer[..(HeaderSize + body.Length)];
    }
}
