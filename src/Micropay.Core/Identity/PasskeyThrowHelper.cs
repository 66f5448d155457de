using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Identity;

/// <summary>
/// Throws on behalf of the passkey types' constructors, factories and encoders, so that their bodies stay small. (Named
/// for the passkey files: the rest of the Identity namespace may bring its own helper.)
/// </summary>
internal static class PasskeyThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentException_BufferTooShort(string paramName, int needed) =>
        throw new ArgumentException($"The buffer must hold at least {needed} bytes.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_Length(string paramName, string what, int maximum, int actual) =>
        throw new ArgumentException($"{what} must be 1 to {maximum} bytes long, not {actual}.", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentException_Key(string paramName, PasskeyKeyError error) =>
        throw new ArgumentException($"{Describe(error)} ({nameof(PasskeyKeyError)}.{error}).", paramName);

    private static string Describe(PasskeyKeyError error) => error switch
    {
        PasskeyKeyError.CredentialIdLength => $"A credential id must be 1 to {PasskeyCredential.MaxCredentialIdLength} bytes long",
        PasskeyKeyError.RelyingPartyIdInvalid => $"An RP ID must be 1 to {PasskeyCredential.MaxRelyingPartyIdLength} visible ASCII characters (0x21 to 0x7E)",
        PasskeyKeyError.OriginInvalid => $"An origin must be 1 to {PasskeyCredential.MaxOriginLength} visible ASCII characters (0x21 to 0x7E)",
        PasskeyKeyError.MalformedPublicKey => "The public key is not a point on P-256",
        PasskeyKeyError.MalformedCoseKey => "The COSE_Key is not exactly {1: 2, 3: -7, -1: 1, -2: x, -3: y} with 32-byte coordinates, as one definite-length CBOR map",
        PasskeyKeyError.UnsupportedKeyType => "The COSE_Key's kty is not 2 (EC2)",
        PasskeyKeyError.UnsupportedAlgorithm => "The COSE_Key's alg is not -7 (ES256)",
        PasskeyKeyError.WrongCurve => "The key is not on the named curve P-256",
        _ => "The input breaks a rule of passkey credentials",
    };
}
