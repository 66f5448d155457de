using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Crypto;

namespace Micropay.Core.Audit;

/// <summary>
/// A C2SP signed-note verifier key for Ed25519: a key name, its 32-bit key id, and the public key. Its text form is
/// <c>name+hash+base64</c>: the 8 lowercase hex digits of the key id, then the base64 of the signature type (0x01,
/// Ed25519) and the 32-byte key. The key id is the first 4 bytes (big-endian) of
/// <c>SHA-256(name || 0x0A || 0x01 || key)</c>, so a name and key always give the same id.
/// </summary>
/// <remarks>
/// A name is non-empty UTF-8 without spaces (Unicode white space), '+' or control characters, as the signed-note
/// specification requires of the names signature lines carry.
/// </remarks>
public sealed class NoteVerifierKey
{
    /// <summary>The signature type byte of Ed25519 in a verifier key and in the key id's hash: 0x01.</summary>
    public const byte Ed25519Type = 0x01;

    private NoteVerifierKey(string name, uint keyId, VerificationKey key)
    {
        Name = name;
        KeyId = keyId;
        Key = key;
    }

    /// <summary>The key's name (for a log, its origin).</summary>
    public string Name { get; }

    /// <summary>The key id that signature lines carry.</summary>
    public uint KeyId { get; }

    /// <summary>The Ed25519 public key.</summary>
    public VerificationKey Key { get; }

    /// <summary>The verifier key of <paramref name="key"/> under <paramref name="name"/>.</summary>
    /// <param name="name">The key's name.</param>
    /// <param name="key">The Ed25519 public key.</param>
    /// <returns>The verifier key.</returns>
    /// <exception cref="ArgumentException">The name is not a valid key name.</exception>
    public static NoteVerifierKey Create(string name, VerificationKey key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        if (!IsValidName(name))
        {
            throw new ArgumentException("A key name is non-empty UTF-8 without spaces, '+' or control characters.", nameof(name));
        }

        return new NoteVerifierKey(name, ComputeKeyId(name, Ed25519Type, key.AsSpan()), key);
    }

    /// <summary>Reads a verifier key's <c>name+hash+base64</c> text; never throws.</summary>
    /// <param name="text">The text.</param>
    /// <param name="key">The key, or null.</param>
    /// <param name="error">What is wrong, or null.</param>
    /// <returns>Whether the text is a valid Ed25519 verifier key whose hash matches its name and key.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out NoteVerifierKey? key, out string? error)
    {
        key = null;
        Span<byte> raw = stackalloc byte[VerificationKey.Size];
        if (!TryReadKeyText(text, Ed25519Type, "a note verifier key is Ed25519 (0x01)", raw, out string name, out uint keyId, out error))
        {
            return false;
        }

        if (!VerificationKey.TryCreate(raw, out VerificationKey? verificationKey))
        {
            error = "the key is not an Ed25519 public key";
            return false;
        }

        if (ComputeKeyId(name, Ed25519Type, raw) != keyId)
        {
            error = "the key hash does not match the name and key";
            return false;
        }

        key = new NoteVerifierKey(name, keyId, verificationKey);
        return true;
    }

    /// <summary>The <c>name+hash+base64</c> text.</summary>
    /// <returns>The verifier key's text form.</returns>
    public override string ToString()
    {
        Span<byte> raw = stackalloc byte[1 + VerificationKey.Size];
        raw[0] = Ed25519Type;
        Key.CopyTo(raw[1..]);
        return string.Create(CultureInfo.InvariantCulture, $"{Name}+{KeyId:x8}+{Convert.ToBase64String(raw)}");
    }

    /// <summary>Whether <paramref name="name"/> is a valid key name.</summary>
    internal static bool IsValidName(string name) =>
        name.Length != 0 && !name.Contains('+', StringComparison.Ordinal) && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) &&
        IsValidSurrogates(name);

    /// <summary>
    /// Reads the <c>name+hash+base64</c> text shared by verifier, cosigner and (after their <c>PRIVATE+KEY+</c>) signer
    /// keys: a valid name, 8 lowercase hex digits, then the base64 of <paramref name="type"/> and exactly 32 bytes, which
    /// go to <paramref name="key"/>. Whether the hash matches is the caller's to check (a signer key's hash is that of
    /// its public half, which only the caller can derive). Never throws; the decoding buffer is wiped, since for a signer
    /// key the 32 bytes are its seed.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="type">The signature type byte the key must carry.</param>
    /// <param name="expected">What a key of this kind is, for the error when the type differs.</param>
    /// <param name="key">Receives the 32 key bytes (exactly 32 long).</param>
    /// <param name="name">The key name, or empty.</param>
    /// <param name="keyId">The key id the text claims, or 0.</param>
    /// <param name="error">What is wrong, or null.</param>
    /// <returns>Whether the text has that shape.</returns>
    internal static bool TryReadKeyText(string? text, byte type, string expected, Span<byte> key, out string name, out uint keyId, out string? error)
    {
        name = string.Empty;
        keyId = 0;
        int plus = text?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        if (text is null || plus <= 0 || text.Length < plus + 10 || text[plus + 9] != '+')
        {
            error = "a key is name+hash+base64";
            return false;
        }

        string candidate = text[..plus];
        string hash = text.Substring(plus + 1, 8);
        if (!IsValidName(candidate))
        {
            error = "the key name is empty or holds a space, '+' or a control character";
            return false;
        }

        if (!hash.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')) ||
            !uint.TryParse(hash, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint id))
        {
            error = "the key hash is not 8 lowercase hexadecimal digits";
            return false;
        }

        ReadOnlySpan<char> base64 = text.AsSpan(plus + 10);
        Span<byte> raw = stackalloc byte[1 + VerificationKey.Size + 1];
        try
        {
            // Convert.TryFromBase64Chars skips white space; the text form has none, and a key must read back as written.
            if (base64.ContainsAny(" \t\r\n") || !Convert.TryFromBase64Chars(base64, raw, out int written) || written != 1 + VerificationKey.Size)
            {
                error = "the key is not the base64 of a type byte and 32 bytes";
                return false;
            }

            if (raw[0] != type)
            {
                error = $"the key's type is 0x{raw[0]:x2}; {expected}";
                return false;
            }

            raw.Slice(1, VerificationKey.Size).CopyTo(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }

        name = candidate;
        keyId = id;
        error = null;
        return true;
    }

    /// <summary>A key id: the first 4 bytes, big-endian, of <c>SHA-256(name || 0x0A || type || key)</c>.</summary>
    /// <param name="name">The key name.</param>
    /// <param name="type">The signature type byte (0x01 for a note signer, 0x04 for an Ed25519 cosigner).</param>
    /// <param name="key">The public key's bytes.</param>
    /// <returns>The key id.</returns>
    internal static uint ComputeKeyId(string name, byte type, ReadOnlySpan<byte> key)
    {
        byte[] input = [.. Encoding.UTF8.GetBytes(name), 0x0A, type, .. key];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    private static bool IsValidSurrogates(string name)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetByteCount(name);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }
}
