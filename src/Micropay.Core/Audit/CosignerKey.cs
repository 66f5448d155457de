using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Micropay.Core.Crypto;

namespace Micropay.Core.Audit;

/// <summary>
/// A C2SP tlog-cosignature verifier key for Ed25519 (cosignature/v1): a cosigner's (a witness's) name, its 32-bit key id
/// and its public key. Its text form is <c>name+hash+base64</c>: the 8 lowercase hex digits of the key id, then the
/// base64 of the signature type (0x04, timestamped Ed25519 cosignature) and the 32-byte key. The key id is the first 4
/// bytes (big-endian) of <c>SHA-256(name || 0x0A || 0x04 || key)</c>, so it differs from the id the same name and key
/// would have as a note signer (type 0x01), and a cosignature line is never mistaken for an ordinary signature.
/// </summary>
/// <remarks>
/// <para>
/// Names follow the rules of <see cref="NoteVerifierKey"/> (non-empty UTF-8 without spaces, '+' or control characters);
/// the specification recommends a schema-less URL that identifies the witness.
/// </para>
/// <para>
/// The cosignature/v1 signed message does not commit to the cosigner's name, so a witness operator running several
/// cosigners must give each its own key pair: the same key under two names would make their cosignatures
/// interchangeable.
/// </para>
/// </remarks>
public sealed class CosignerKey
{
    /// <summary>The signature type byte of an Ed25519 cosignature/v1 key, in its text form and in its key id's hash: 0x04.</summary>
    public const byte Ed25519CosignatureType = 0x04;

    private CosignerKey(string name, uint keyId, VerificationKey key)
    {
        Name = name;
        KeyId = keyId;
        Key = key;
    }

    /// <summary>The cosigner's name, which its signature lines carry.</summary>
    public string Name { get; }

    /// <summary>The key id its signature lines carry: <c>SHA-256(name || 0x0A || 0x04 || key)[:4]</c>, big-endian.</summary>
    public uint KeyId { get; }

    /// <summary>The cosigner's Ed25519 public key.</summary>
    public VerificationKey Key { get; }

    /// <summary>The cosigner key of <paramref name="key"/> under <paramref name="name"/>.</summary>
    /// <param name="name">The cosigner's name.</param>
    /// <param name="key">Its Ed25519 public key.</param>
    /// <returns>The cosigner key.</returns>
    /// <exception cref="ArgumentException">The name is not a valid key name.</exception>
    public static CosignerKey Create(string name, VerificationKey key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        if (!NoteVerifierKey.IsValidName(name))
        {
            throw new ArgumentException("A key name is non-empty UTF-8 without spaces, '+' or control characters.", nameof(name));
        }

        return new CosignerKey(name, NoteVerifierKey.ComputeKeyId(name, Ed25519CosignatureType, key.AsSpan()), key);
    }

    /// <summary>Reads a cosigner key's <c>name+hash+base64</c> text; never throws.</summary>
    /// <param name="text">The text.</param>
    /// <param name="key">The key, or null.</param>
    /// <param name="error">What is wrong, or null.</param>
    /// <returns>
    /// Whether the text is a valid Ed25519 cosignature/v1 key (type 0x04) whose hash matches its name and key. A note
    /// verifier key (type 0x01) is refused rather than converted: which kind of signature a key makes is the key
    /// holder's statement, not the reader's guess.
    /// </returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CosignerKey? key, out string? error)
    {
        key = null;
        Span<byte> raw = stackalloc byte[VerificationKey.Size];
        if (!NoteVerifierKey.TryReadKeyText(text, Ed25519CosignatureType, "a cosigner key is an Ed25519 cosignature/v1 key (0x04)", raw, out string name, out uint keyId, out error))
        {
            return false;
        }

        if (!VerificationKey.TryCreate(raw, out VerificationKey? verificationKey))
        {
            error = "the key is not an Ed25519 public key";
            return false;
        }

        if (NoteVerifierKey.ComputeKeyId(name, Ed25519CosignatureType, raw) != keyId)
        {
            error = "the key hash does not match the name and key";
            return false;
        }

        key = new CosignerKey(name, keyId, verificationKey);
        return true;
    }

    /// <summary>The <c>name+hash+base64</c> text, which <see cref="TryParse"/> reads back.</summary>
    /// <returns>The cosigner key's text form.</returns>
    public override string ToString()
    {
        Span<byte> raw = stackalloc byte[1 + VerificationKey.Size];
        raw[0] = Ed25519CosignatureType;
        Key.CopyTo(raw[1..]);
        return string.Create(CultureInfo.InvariantCulture, $"{Name}+{KeyId:x8}+{Convert.ToBase64String(raw)}");
    }
}
