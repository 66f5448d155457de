using System.Diagnostics.CodeAnalysis;
using NSec.Cryptography;

namespace Micropay.Core.Crypto;

/// <summary>
/// An Ed25519 public key (RFC 8032): the 32 bytes that check the signatures of a <see cref="SigningKey"/>. Immutable and
/// safe to share between threads.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Verify"/> is libsodium's <c>crypto_sign_ed25519_verify_detached</c> (through NSec), which is stricter than
/// RFC 8032 section 5.1.7 requires. It rejects:
/// </para>
/// <list type="bullet">
/// <item>a non-canonical scalar S (S &gt;= L, the order of the base point), so a signature cannot be rewritten into a
/// second valid one by adding L to S (no malleability);</item>
/// <item>a public key A, or a signature point R, of small order (the 8 points whose order divides the cofactor 8,
/// identity included), so a key cannot be crafted that "verifies" many messages;</item>
/// <item>a non-canonical encoding of A (a y coordinate &gt;= p, or x = 0 with the sign bit set), and any R whose encoding
/// is not the canonical encoding of the point the verification equation computes.</item>
/// </list>
/// <para>
/// Verification is cofactorless ([S]B = R + [k]A, compared as encodings). Of the twelve edge-case vectors of "Taming the
/// many EdDSAs" (ed25519-speccheck) it accepts only case 3 (mixed-order A and R, valid under both equations); the tests
/// pin each case. These rules are a property of the libsodium build NSec ships; the tests fail if a newer one changes
/// them.
/// </para>
/// <para>
/// Creating a key checks its length only, as NSec does: any 32 bytes are accepted, including small-order and
/// non-canonical encodings, and every signature then fails to verify under such a key. The engine's key registration
/// refuses such keys at the edge (<c>KeyResult.WeakPublicKey</c>), so none enters the key registry.
/// </para>
/// <para>
/// The imported NSec public key is cached, so <see cref="Verify"/> allocates nothing.
/// </para>
/// </remarks>
public sealed class VerificationKey : IEquatable<VerificationKey>
{
    /// <summary>The size of an Ed25519 public key in bytes: 32.</summary>
    public const int Size = 32;

    /// <summary>The size of an Ed25519 signature in bytes: 64.</summary>
    public const int SignatureSize = 64;

    private readonly byte[] _bytes;
    private readonly PublicKey _publicKey;

    private VerificationKey(byte[] bytes, PublicKey publicKey)
    {
        _bytes = bytes;
        _publicKey = publicKey;
    }

    /// <summary>Creates a verification key from its 32-byte encoding.</summary>
    /// <param name="bytes">The 32-byte Ed25519 public key (RFC 8032 section 5.1.5, step 4).</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not exactly 32 bytes long, or NSec refuses it.</exception>
    public static VerificationKey Create(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            ThrowHelper.ThrowArgumentException_WrongLength(nameof(bytes), "An Ed25519 verification key", Size, bytes.Length);
        }

        if (!TryCreate(bytes, out VerificationKey? key))
        {
            throw new ArgumentException("NSec refused these 32 bytes as an Ed25519 public key.", nameof(bytes));
        }

        return key;
    }

    /// <summary>Creates a verification key from its 32-byte encoding, if it is one. Never throws.</summary>
    /// <param name="bytes">The 32-byte Ed25519 public key.</param>
    /// <param name="key">The key, when the result is true; otherwise null.</param>
    /// <returns>Whether <paramref name="bytes"/> is exactly 32 bytes long and NSec imports it.</returns>
    public static bool TryCreate(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out VerificationKey? key)
    {
        if (bytes.Length != Size || !PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes, KeyBlobFormat.RawPublicKey, out PublicKey? publicKey))
        {
            key = null;
            return false;
        }

        key = new VerificationKey(bytes.ToArray(), publicKey!);
        return true;
    }

    /// <summary>Wraps the public key of an NSec key pair (the <see cref="SigningKey"/>'s).</summary>
    internal static VerificationKey FromNSec(PublicKey publicKey) =>
        new(publicKey.Export(KeyBlobFormat.RawPublicKey), publicKey);

    /// <summary>Copies the 32-byte encoding of the key into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes; the key is written to its first 32.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/> bytes.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), Size);
        }

        _bytes.CopyTo(destination);
    }

    /// <summary>The 32-byte encoding of the key, read-only.</summary>
    /// <returns>A view of the key's bytes (not a copy).</returns>
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>
    /// Checks an Ed25519 signature over <paramref name="message"/> with libsodium's strict rules (see the remarks).
    /// Allocates nothing and never throws.
    /// </summary>
    /// <param name="message">The signed bytes, of any length.</param>
    /// <param name="signature">The signature: R (32 bytes) then S (32 bytes).</param>
    /// <returns>
    /// Whether <paramref name="signature"/> is exactly 64 bytes long and a valid signature of <paramref name="message"/>
    /// under this key.
    /// </returns>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureSize && SignatureAlgorithm.Ed25519.Verify(_publicKey, message, signature);

    /// <inheritdoc />
    public bool Equals([NotNullWhen(true)] VerificationKey? other) =>
        other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is VerificationKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        // Keys may be chosen by an adversary: the process-randomised HashCode keeps a table of them free of crafted collisions.
        var hash = default(HashCode);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    /// <summary>Compares two keys by their bytes; two nulls are equal.</summary>
    /// <param name="left">A key or null.</param>
    /// <param name="right">A key or null.</param>
    /// <returns>Whether both are null or both hold the same 32 bytes.</returns>
    public static bool operator ==(VerificationKey? left, VerificationKey? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>Compares two keys by their bytes; two nulls are equal.</summary>
    /// <param name="left">A key or null.</param>
    /// <param name="right">A key or null.</param>
    /// <returns>Whether exactly one is null or they hold different bytes.</returns>
    public static bool operator !=(VerificationKey? left, VerificationKey? right) => !(left == right);

    /// <summary>The key's 32 bytes as 64 lowercase hexadecimal digits.</summary>
    /// <returns>The hexadecimal encoding of the key.</returns>
    public override string ToString() => Convert.ToHexStringLower(_bytes);
}
