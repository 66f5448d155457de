namespace Micropay.Core.Identity;

/// <summary>
/// Why a <see cref="PasskeyCredential"/> factory refused its input. The factories check the credential id first, then
/// the RP ID, the origin, and then the public key; the first rule broken is the one reported.
/// </summary>
public enum PasskeyKeyError : byte
{
    /// <summary>The input is a valid credential.</summary>
    None = 0,

    /// <summary>The credential id is empty or longer than <see cref="PasskeyCredential.MaxCredentialIdLength"/> (255) bytes.</summary>
    CredentialIdLength = 1,

    /// <summary>
    /// The RP ID is null, empty, longer than <see cref="PasskeyCredential.MaxRelyingPartyIdLength"/> (128) bytes, or has
    /// a character outside visible ASCII (0x21 to 0x7E: no space, no control character, nothing beyond ASCII).
    /// </summary>
    RelyingPartyIdInvalid = 2,

    /// <summary>
    /// The origin is null, empty, longer than <see cref="PasskeyCredential.MaxOriginLength"/> (192) bytes, or has a
    /// character outside visible ASCII (0x21 to 0x7E).
    /// </summary>
    OriginInvalid = 3,

    /// <summary>
    /// The public key is not a point on P-256: raw x || y of the wrong length or off the curve, or a SubjectPublicKeyInfo
    /// that does not decode (or has bytes after it), or a COSE key whose coordinates are not a point on the curve.
    /// </summary>
    MalformedPublicKey = 4,

    /// <summary>
    /// The COSE_Key is not exactly one well-formed, definite-length CBOR map with nothing after it, repeats a label, has a
    /// label other than 1, 3, -1, -2, -3, lacks one of them, or has a value of the wrong type (the x and y coordinates
    /// must be byte strings of exactly 32 bytes).
    /// </summary>
    MalformedCoseKey = 5,

    /// <summary>The COSE_Key's kty (label 1) is not 2 (EC2): for example 1 (OKP, Ed25519) or 3 (RSA).</summary>
    UnsupportedKeyType = 6,

    /// <summary>The COSE_Key's alg (label 3) is not -7 (ES256): for example -8 (EdDSA) or -35 (ES384).</summary>
    UnsupportedAlgorithm = 7,

    /// <summary>The key is on another curve than P-256: a COSE crv (label -1) other than 1, or a SubjectPublicKeyInfo of another (or an explicitly parameterised) curve.</summary>
    WrongCurve = 8,
}
