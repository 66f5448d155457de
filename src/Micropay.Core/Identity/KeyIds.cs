using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Crypto;

namespace Micropay.Core.Identity;

/// <summary>
/// The ids of registered keys: derived from the public key, so a key has one id on every ledger instance, a caller can
/// compute it offline, and two registrations of one key are recognised as the same.
/// </summary>
/// <remarks>
/// The id is the first 16 bytes (read little-endian) of <c>SHA-256(DomainTags.KeyId || kind || public key)</c>: the
/// kind byte is <see cref="KeyKind"/>, the public key the 32 Ed25519 bytes or the passkey's 64-byte <c>x || y</c>. It is
/// never 0 in practice (a 2^-128 chance), and an id of 0 is refused wherever a key id is read.
/// </remarks>
public static class KeyIds
{
    /// <summary>The id of an Ed25519 key.</summary>
    /// <param name="key">The verification key.</param>
    /// <returns>The key id.</returns>
    public static UInt128 Of(VerificationKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> bytes = stackalloc byte[VerificationKey.Size];
        key.CopyTo(bytes);
        return Derive(KeyKind.Ed25519, bytes);
    }

    /// <summary>The id of a passkey credential (from its public key; the credential id is the authenticator's handle, not the ledger's).</summary>
    /// <param name="credential">The credential.</param>
    /// <returns>The key id.</returns>
    public static UInt128 Of(PasskeyCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        Span<byte> bytes = stackalloc byte[PasskeyCredential.PublicKeySize];
        credential.CopyPublicKeyTo(bytes);
        return Derive(KeyKind.Passkey, bytes);
    }

    private static UInt128 Derive(KeyKind kind, ReadOnlySpan<byte> publicKey)
    {
        Span<byte> input = stackalloc byte[DomainTags.Size + 1 + PasskeyCredential.PublicKeySize];
        DomainTags.KeyId.CopyTo(input);
        input[DomainTags.Size] = (byte)kind;
        publicKey.CopyTo(input[(DomainTags.Size + 1)..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input[..(DomainTags.Size + 1 + publicKey.Length)], hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
