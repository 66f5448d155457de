using System.Diagnostics.CodeAnalysis;
using NSec.Cryptography;

namespace Micropay.Core.Crypto;

/// <summary>
/// An Ed25519 private key (RFC 8032): it signs vouchers, channel opens and closes, and the ledger's certificates. The
/// secret lives in NSec's unmanaged, locked and wiped-on-free memory; it never appears in a managed array unless it is
/// exported, which <see cref="KeyExportPolicy.None"/> (the default) forbids.
/// </summary>
/// <remarks>
/// <para>
/// Signing is deterministic (RFC 8032: the same key and message give the same signature), allocates nothing, and may be
/// called from several threads at once. <see cref="ToString"/> shows only the start of the public key.
/// </para>
/// <para>
/// After <see cref="Dispose"/>, <see cref="Sign"/>, <see cref="Export"/> and <see cref="TryExport"/> throw
/// <see cref="ObjectDisposedException"/>; <see cref="VerificationKey"/> and <see cref="ToString"/> keep working, since
/// they reveal only the public key.
/// </para>
/// </remarks>
public sealed class SigningKey : IDisposable
{
    /// <summary>The size of the private seed in bytes (<see cref="SigningKeyFormat.RawSeed"/>): 32.</summary>
    public const int SeedSize = 32;

    /// <summary>The size of a signature in bytes: 64.</summary>
    public const int SignatureSize = VerificationKey.SignatureSize;

    private readonly Key _key;
    private readonly VerificationKey _verificationKey;
    private readonly KeyExportPolicy _exportPolicy;
    private volatile bool _disposed;

    private SigningKey(Key key, KeyExportPolicy exportPolicy)
    {
        _key = key;
        _exportPolicy = exportPolicy;
        _verificationKey = VerificationKey.FromNSec(key.PublicKey);
    }

    /// <summary>The public half of the key, which verifies its signatures.</summary>
    public VerificationKey VerificationKey => _verificationKey;

    /// <summary>Whether the private seed may be exported (set when the key was generated or imported).</summary>
    public KeyExportPolicy ExportPolicy => _exportPolicy;

    /// <summary>Generates a new key from the operating system's cryptographic random number generator.</summary>
    /// <param name="exportPolicy">Whether the key may later be exported; by default it may not.</param>
    /// <returns>The new key; the caller disposes it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exportPolicy"/> is not a defined value.</exception>
    public static SigningKey Generate(KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        KeyCreationParameters parameters = CreationParameters(exportPolicy);
        return new SigningKey(Key.Create(SignatureAlgorithm.Ed25519, in parameters), exportPolicy);
    }

    /// <summary>Imports a private key.</summary>
    /// <param name="blob">The key in <paramref name="format"/>.</param>
    /// <param name="format">How <paramref name="blob"/> is encoded.</param>
    /// <param name="exportPolicy">Whether the imported key may later be exported; by default it may not.</param>
    /// <returns>The key; the caller disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="blob"/> is not a key in <paramref name="format"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> or <paramref name="exportPolicy"/> is not a defined value.</exception>
    public static SigningKey Import(ReadOnlySpan<byte> blob, SigningKeyFormat format, KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        if (!TryImport(blob, format, out SigningKey? key, exportPolicy))
        {
            ThrowHelper.ThrowArgumentException_InvalidKeyBlob(nameof(blob), format);
        }

        return key;
    }

    /// <summary>Imports a private key, if <paramref name="blob"/> is one. Never throws for any blob.</summary>
    /// <param name="blob">The key in <paramref name="format"/>.</param>
    /// <param name="format">How <paramref name="blob"/> is encoded.</param>
    /// <param name="key">The key, when the result is true (the caller disposes it); otherwise null.</param>
    /// <param name="exportPolicy">Whether the imported key may later be exported; by default it may not.</param>
    /// <returns>Whether <paramref name="blob"/> is a key in <paramref name="format"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="format"/> or <paramref name="exportPolicy"/> is not a defined value (a caller bug, not bad input).
    /// </exception>
    public static bool TryImport(ReadOnlySpan<byte> blob, SigningKeyFormat format, [NotNullWhen(true)] out SigningKey? key, KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        KeyBlobFormat blobFormat = BlobFormat(format, nameof(format));
        KeyCreationParameters parameters = CreationParameters(exportPolicy);
        if (!Key.TryImport(SignatureAlgorithm.Ed25519, blob, blobFormat, out Key? imported, in parameters))
        {
            key = null;
            return false;
        }

        key = new SigningKey(imported!, exportPolicy);
        return true;
    }

    /// <summary>Exports the private key as plaintext bytes.</summary>
    /// <param name="format">The encoding to export in.</param>
    /// <returns>A new array holding the secret: the caller wipes it when done.</returns>
    /// <exception cref="InvalidOperationException">The key was not created with <see cref="KeyExportPolicy.AllowExport"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is not a defined value.</exception>
    /// <exception cref="ObjectDisposedException">The key has been disposed.</exception>
    public byte[] Export(SigningKeyFormat format)
    {
        KeyBlobFormat blobFormat = BlobFormat(format, nameof(format));
        CheckExportAllowed();
        return _key.Export(blobFormat);
    }

    /// <summary>Exports the private key as plaintext bytes into <paramref name="destination"/>, if it fits.</summary>
    /// <param name="format">The encoding to export in.</param>
    /// <param name="destination">Receives the secret (32 bytes for <see cref="SigningKeyFormat.RawSeed"/>, 40 for <see cref="SigningKeyFormat.NSecPrivateKey"/>).</param>
    /// <param name="written">The number of bytes written; 0 when the result is false.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough.</returns>
    /// <exception cref="InvalidOperationException">The key was not created with <see cref="KeyExportPolicy.AllowExport"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is not a defined value.</exception>
    /// <exception cref="ObjectDisposedException">The key has been disposed.</exception>
    public bool TryExport(SigningKeyFormat format, Span<byte> destination, out int written)
    {
        KeyBlobFormat blobFormat = BlobFormat(format, nameof(format));
        CheckExportAllowed();
        if (!_key.TryExport(blobFormat, destination, out written))
        {
            written = 0;
            return false;
        }

        return true;
    }

    /// <summary>Signs <paramref name="message"/> (Ed25519, RFC 8032 section 5.1.6). Allocates nothing.</summary>
    /// <param name="message">The bytes to sign, of any length.</param>
    /// <param name="signature">Receives the 64-byte signature in its first <see cref="SignatureSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is shorter than 64 bytes.</exception>
    /// <exception cref="ObjectDisposedException">The key has been disposed.</exception>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        if (signature.Length < SignatureSize)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(signature), SignatureSize);
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        SignatureAlgorithm.Ed25519.Sign(_key, message, signature[..SignatureSize]);
    }

    /// <summary>Frees (and wipes) the private key. Calling it again does nothing.</summary>
    public void Dispose()
    {
        _disposed = true;
        _key.Dispose();
    }

    /// <summary>Names the algorithm and the first four bytes of the public key; never any secret.</summary>
    /// <returns>For example <c>SigningKey(Ed25519, public 03a107bf…)</c>.</returns>
    public override string ToString() => $"SigningKey(Ed25519, public {_verificationKey.ToString()[..8]}…)";

    private void CheckExportAllowed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_exportPolicy != KeyExportPolicy.AllowExport)
        {
            ThrowHelper.ThrowInvalidOperationException_ExportNotAllowed();
        }
    }

    private static KeyBlobFormat BlobFormat(SigningKeyFormat format, string paramName)
    {
        switch (format)
        {
            case SigningKeyFormat.RawSeed:
                return KeyBlobFormat.RawPrivateKey;
            case SigningKeyFormat.NSecPrivateKey:
                return KeyBlobFormat.NSecPrivateKey;
            default:
                ThrowHelper.ThrowArgumentOutOfRangeException_Format(paramName, format);
                return default;
        }
    }

    private static KeyCreationParameters CreationParameters(KeyExportPolicy exportPolicy)
    {
        switch (exportPolicy)
        {
            case KeyExportPolicy.None:
                return new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None };
            case KeyExportPolicy.AllowExport:
                return new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
            default:
                ThrowHelper.ThrowArgumentOutOfRangeException_ExportPolicy(nameof(exportPolicy), exportPolicy);
                return default;
        }
    }
}
