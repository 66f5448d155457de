using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Crypto;

/// <summary>
/// Throws on behalf of the signing and verification paths, so that their bodies stay small and the throw sites do not
/// bloat the callers' machine code.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentException_BufferTooShort(string paramName, int needed) =>
        throw new ArgumentException($"The buffer must hold at least {needed} bytes.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_WrongLength(string paramName, string what, int expected, int actual) =>
        throw new ArgumentException($"{what} must be exactly {expected} bytes long, not {actual}.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_SignedBodyTooLong(string paramName, int maximum, int actual) =>
        throw new ArgumentException($"A signed message body is at most {maximum} bytes long, not {actual}.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_InvalidKeyBlob(string paramName, SigningKeyFormat format) =>
        throw new ArgumentException(
            format == SigningKeyFormat.RawSeed
                ? "The blob is not an Ed25519 private key in the RawSeed format (exactly 32 bytes)."
                : "The blob is not an Ed25519 private key in the NSecPrivateKey format (40 bytes: NSec's 8-byte Ed25519 private-key header, then the 32-byte seed).",
            paramName);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRangeException_Format(string paramName, SigningKeyFormat format) =>
        throw new ArgumentOutOfRangeException(paramName, format, "Unknown signing key format.");

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRangeException_ExportPolicy(string paramName, KeyExportPolicy policy) =>
        throw new ArgumentOutOfRangeException(paramName, policy, "Unknown key export policy.");

    [DoesNotReturn]
    public static void ThrowInvalidOperationException_ExportNotAllowed() =>
        throw new InvalidOperationException(
            "This signing key cannot be exported: it was generated or imported with KeyExportPolicy.None. Pass KeyExportPolicy.AllowExport when creating a key that must be exported.");
}
