namespace Micropay.Core.Identity;

/// <summary>
/// The outcome of <see cref="PasskeyCredential.Verify"/>: <see cref="Ok"/>, or the first check of WebAuthn Level 3
/// section 7.2 ("Verifying an Authentication Assertion") that the assertion fails. The checks run in the order of the
/// values below (client data, then authenticator data, then the signature), so an assertion that breaks several rules
/// reports the first.
/// </summary>
/// <remarks>
/// Every value but <see cref="Ok"/> is a refusal; none is an exception. Whether the signature counter is acceptable
/// needs the stored counter, so it is not checked here: see <see cref="PasskeyCredential.IsSignCountAcceptable"/>.
/// </remarks>
public enum PasskeyResult : byte
{
    /// <summary>Every check passed: the credential's key signed exactly this challenge for this origin and RP ID, with the user present and verified.</summary>
    Ok = 0,

    /// <summary>
    /// clientDataJSON is not one well-formed JSON object of valid UTF-8 (an optional leading byte order mark aside), lacks
    /// <c>type</c>, <c>challenge</c> or <c>origin</c>, has one of <c>type</c>, <c>challenge</c>, <c>origin</c>,
    /// <c>crossOrigin</c>, <c>topOrigin</c> twice, or has one of them with the wrong JSON type (a string for all but
    /// <c>crossOrigin</c>, which is a boolean).
    /// </summary>
    MalformedClientData = 1,

    /// <summary>clientDataJSON's <c>type</c> is not <c>"webauthn.get"</c> (for example <c>"webauthn.create"</c>, a registration's client data).</summary>
    WrongType = 2,

    /// <summary>clientDataJSON's <c>challenge</c> is not the unpadded base64url encoding of exactly the expected challenge bytes.</summary>
    ChallengeMismatch = 3,

    /// <summary>clientDataJSON's <c>origin</c> is not exactly the credential's <see cref="PasskeyCredential.Origin"/>.</summary>
    OriginMismatch = 4,

    /// <summary>clientDataJSON says the ceremony ran in a cross-origin frame: <c>crossOrigin</c> is true, or <c>topOrigin</c> is present.</summary>
    CrossOrigin = 5,

    /// <summary>The authenticator data is shorter than its 37-byte fixed part, or the assertion is <c>default</c>.</summary>
    MalformedAuthenticatorData = 6,

    /// <summary>The authenticator data's rpIdHash is not the SHA-256 of the credential's <see cref="PasskeyCredential.RelyingPartyId"/>.</summary>
    RpIdHashMismatch = 7,

    /// <summary>The UP flag (bit 0, user present) is clear.</summary>
    UserNotPresent = 8,

    /// <summary>The UV flag (bit 2, user verified) is clear: a step-up co-signature needs user verification.</summary>
    UserNotVerified = 9,

    /// <summary>The BS flag (bit 4, backed up) is set while the BE flag (bit 3, backup eligible) is clear, which WebAuthn forbids.</summary>
    InvalidBackupFlags = 10,

    /// <summary>The AT flag (bit 6) is set: an assertion carries no attested credential data.</summary>
    UnexpectedAttestedData = 11,

    /// <summary>
    /// With the ED flag (bit 7) set, the bytes after the fixed part are not exactly one well-formed CBOR map (see the
    /// remarks of <see cref="PasskeyCredential.Verify"/>); with ED clear, bytes follow the fixed part.
    /// </summary>
    MalformedExtensions = 12,

    /// <summary>The signature is not a strict DER ECDSA-Sig-Value (SEQUENCE of two minimal, non-negative INTEGERs of at most 33 bytes, nothing after it).</summary>
    MalformedSignature = 13,

    /// <summary>The signature is well-formed but is not a valid ES256 signature of authenticatorData || SHA-256(clientDataJSON) under the credential's key.</summary>
    BadSignature = 14,
}
