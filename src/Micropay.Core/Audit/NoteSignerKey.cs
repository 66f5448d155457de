using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using Micropay.Core.Crypto;

namespace Micropay.Core.Audit;

/// <summary>
/// A C2SP signed-note signer key for Ed25519: a key name and the private key that signs notes under it, in the text
/// form of Go's golang.org/x/mod/sumdb/note, <c>PRIVATE+KEY+name+hash+base64</c>. The hash is the key id of the public
/// half (<see cref="VerifierKey"/>, type 0x01) and the base64 is of the type byte 0x01 and the 32-byte Ed25519 seed.
/// </summary>
/// <remarks>
/// <para>
/// The seed stays in the <see cref="Crypto.SigningKey"/>'s unmanaged memory: <see cref="ToPrivateText"/> writes it
/// only when that key allows export, and <see cref="ToString"/> shows the public verifier key alone. A text read by
/// <see cref="TryParse"/> is itself a managed string holding the secret, which this type cannot wipe: read it from
/// where it is stored and drop it.
/// </para>
/// <para>
/// A key made by <see cref="Generate"/> or <see cref="TryParse"/> owns its <see cref="Crypto.SigningKey"/> and
/// <see cref="Dispose"/> frees it; one made by <see cref="Create"/> borrows the caller's, which the caller disposes.
/// </para>
/// </remarks>
public sealed class NoteSignerKey : IDisposable
{
    private const string Prefix = "PRIVATE+KEY+";

    private readonly bool _ownsKey;

    private NoteSignerKey(NoteVerifierKey verifierKey, SigningKey signingKey, bool ownsKey)
    {
        VerifierKey = verifierKey;
        SigningKey = signingKey;
        _ownsKey = ownsKey;
    }

    /// <summary>The key name (for a log, its origin).</summary>
    public string Name => VerifierKey.Name;

    /// <summary>The key id of the public half, which the note's signature lines carry.</summary>
    public uint KeyId => VerifierKey.KeyId;

    /// <summary>The Ed25519 private key.</summary>
    public SigningKey SigningKey { get; }

    /// <summary>The verifier key that checks this key's signatures: the same name and key id, and the public half.</summary>
    public NoteVerifierKey VerifierKey { get; }

    /// <summary>The signer key of <paramref name="key"/> under <paramref name="name"/>; the caller keeps owning (and disposes) <paramref name="key"/>.</summary>
    /// <param name="name">The key name.</param>
    /// <param name="key">The Ed25519 private key.</param>
    /// <returns>The signer key.</returns>
    /// <exception cref="ArgumentException">The name is not a valid key name.</exception>
    public static NoteSignerKey Create(string name, SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        return new NoteSignerKey(NoteVerifierKey.Create(name, key.VerificationKey), key, ownsKey: false);
    }

    /// <summary>Generates a new signer key under <paramref name="name"/>, from the operating system's random number generator.</summary>
    /// <param name="name">The key name.</param>
    /// <param name="exportPolicy">
    /// Whether <see cref="ToPrivateText"/> may later write the key out; by default it may not, so pass
    /// <see cref="KeyExportPolicy.AllowExport"/> for a key that must be stored.
    /// </param>
    /// <returns>The signer key, which owns its private key; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The name is not a valid key name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exportPolicy"/> is not a defined value.</exception>
    public static NoteSignerKey Generate(string name, KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!NoteVerifierKey.IsValidName(name))
        {
            // Checked before a key exists, so a bad name never leaves one undisposed.
            throw new ArgumentException("A key name is non-empty UTF-8 without spaces, '+' or control characters.", nameof(name));
        }

        SigningKey key = SigningKey.Generate(exportPolicy);
        return new NoteSignerKey(NoteVerifierKey.Create(name, key.VerificationKey), key, ownsKey: true);
    }

    /// <summary>Reads a signer key's <c>PRIVATE+KEY+name+hash+base64</c> text. Never throws for any text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="key">The signer key, which owns its private key (the caller disposes it), or null.</param>
    /// <param name="error">What is wrong, or null.</param>
    /// <param name="exportPolicy">Whether <see cref="ToPrivateText"/> may later write the key out again; by default it may not.</param>
    /// <returns>
    /// Whether the text is an Ed25519 signer key (type 0x01) whose hash is the key id of its name and its seed's public key.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exportPolicy"/> is not a defined value (a caller bug, not bad input).</exception>
    public static bool TryParse(string? text, [NotNullWhen(true)] out NoteSignerKey? key, out string? error, KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        if (exportPolicy is not (KeyExportPolicy.None or KeyExportPolicy.AllowExport))
        {
            throw new ArgumentOutOfRangeException(nameof(exportPolicy), exportPolicy, "Unknown key export policy.");
        }

        key = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            error = "a signer key is PRIVATE+KEY+name+hash+base64";
            return false;
        }

        Span<byte> seed = stackalloc byte[SigningKey.SeedSize];
        try
        {
            if (!NoteVerifierKey.TryReadKeyText(text[Prefix.Length..], NoteVerifierKey.Ed25519Type, "a note signer key is Ed25519 (0x01)", seed, out string name, out uint keyId, out error))
            {
                return false;
            }

            if (!SigningKey.TryImport(seed, SigningKeyFormat.RawSeed, out SigningKey? signingKey, exportPolicy))
            {
                error = "the key is not an Ed25519 seed";
                return false;
            }

            // The hash names the public half, which only the seed gives: a hash that does not match is a key stored
            // under the wrong name, or a corrupted one.
            NoteVerifierKey verifierKey = NoteVerifierKey.Create(name, signingKey.VerificationKey);
            if (verifierKey.KeyId != keyId)
            {
                signingKey.Dispose();
                error = "the key hash does not match the name and the key's public half";
                return false;
            }

            key = new NoteSignerKey(verifierKey, signingKey, ownsKey: true);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>
    /// The <c>PRIVATE+KEY+name+hash+base64</c> text that <see cref="TryParse"/> and Go's note.NewSigner read: the secret,
    /// in plaintext. Store it as a secret.
    /// </summary>
    /// <returns>The signer key's text form.</returns>
    /// <exception cref="InvalidOperationException">The signing key was not created with <see cref="KeyExportPolicy.AllowExport"/>.</exception>
    /// <exception cref="ObjectDisposedException">The signing key has been disposed.</exception>
    public string ToPrivateText()
    {
        if (SigningKey.ExportPolicy != KeyExportPolicy.AllowExport)
        {
            throw new InvalidOperationException(
                $"The signer key '{Name}' cannot be written out: its signing key was generated or imported with KeyExportPolicy.None. Generate or read it with KeyExportPolicy.AllowExport if it must be stored.");
        }

        Span<byte> raw = stackalloc byte[1 + SigningKey.SeedSize];
        try
        {
            raw[0] = NoteVerifierKey.Ed25519Type;
            if (!SigningKey.TryExport(SigningKeyFormat.RawSeed, raw[1..], out int written) || written != SigningKey.SeedSize)
            {
                throw new InvalidOperationException("The signing key did not export a 32-byte seed.");
            }

            return string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Name}+{KeyId:x8}+{Convert.ToBase64String(raw)}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Frees (and wipes) the private key if this signer key owns it (made by <see cref="Generate"/> or <see cref="TryParse"/>).</summary>
    public void Dispose()
    {
        if (_ownsKey)
        {
            SigningKey.Dispose();
        }
    }

    /// <summary>Names the key by its public verifier key; never any secret.</summary>
    /// <returns>For example <c>NoteSignerKey(PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW)</c>.</returns>
    public override string ToString() => $"NoteSignerKey({VerifierKey})";
}
