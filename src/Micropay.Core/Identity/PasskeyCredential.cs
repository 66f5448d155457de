using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Micropay.Core.Identity;

/// <summary>
/// A registered passkey (a WebAuthn public key credential) whose assertions the ledger checks: its credential id, its
/// ES256 public key on P-256, the RP ID it is scoped to and the one origin its assertions must come from. Immutable and
/// safe to share between threads; <see cref="Verify"/> may run on many threads at once.
/// </summary>
/// <remarks>
/// <para>
/// The ledger registers a credential once (from the COSE_Key of the registration's attested credential data, or from
/// the SubjectPublicKeyInfo the browser's <c>getPublicKey()</c> returns), journals it, and later checks step-up
/// co-signatures with it: the person's authenticator signs a challenge, the hash of a payment order.
/// <see cref="Verify"/> runs the stateless checks of WebAuthn Level 3 section 7.2 at the edge; the signature counter,
/// which needs the stored value, is checked on the apply thread with <see cref="IsSignCountAcceptable"/>.
/// </para>
/// <para>
/// Every factory validates everything: the credential id's length, the RP ID and the origin (visible ASCII, within
/// their limits; not checked to be a valid domain or URL, as they only need to equal what the authenticator hashed and
/// the browser wrote), and that the key is a point on the named curve P-256. A credential that exists is one
/// <see cref="Verify"/> can use.
/// </para>
/// <para>
/// The SHA-256 of the RP ID and the UTF-8 origin are computed once, and the imported key is cached
/// (<see cref="PasskeyVerifierPool"/>), so <see cref="Verify"/> allocates nothing once warm on Linux.
/// </para>
/// </remarks>
public sealed partial class PasskeyCredential
{
    /// <summary>The longest credential id accepted, in bytes: 255.</summary>
    public const int MaxCredentialIdLength = 255;

    /// <summary>The longest RP ID accepted, in UTF-8 bytes (which, for the visible ASCII accepted, are characters): 128.</summary>
    public const int MaxRelyingPartyIdLength = 128;

    /// <summary>The longest origin accepted, in UTF-8 bytes: 192.</summary>
    public const int MaxOriginLength = 192;

    /// <summary>The size of the raw public key in bytes: x then y, 32 bytes each, big-endian as in SEC1.</summary>
    public const int PublicKeySize = 64;

    private const string P256Oid = "1.2.840.10045.3.1.7";

    private readonly byte[] _credentialId;
    private readonly byte[] _rpIdHash;
    private readonly byte[] _originUtf8;
    private readonly PasskeyVerifierPool _verifiers;

    private PasskeyCredential(byte[] credentialId, string relyingPartyId, string origin, PasskeyVerifierPool verifiers)
    {
        _credentialId = credentialId;
        RelyingPartyId = relyingPartyId;
        Origin = origin;
        _originUtf8 = Encoding.ASCII.GetBytes(origin);
        _rpIdHash = SHA256.HashData(Encoding.ASCII.GetBytes(relyingPartyId));
        _verifiers = verifiers;
    }

    /// <summary>The credential id (the credential's <c>rawId</c>), 1 to 255 bytes. Not signed by assertions: it only names the key.</summary>
    public ReadOnlyMemory<byte> CredentialId => _credentialId;

    /// <summary>The RP ID the credential is scoped to, such as <c>"pay.example.com"</c>: its SHA-256 must open every assertion's authenticator data.</summary>
    public string RelyingPartyId { get; }

    /// <summary>The origin assertions must come from, such as <c>"https://pay.example.com"</c>: clientDataJSON's <c>origin</c> must equal it exactly.</summary>
    public string Origin { get; }

    /// <summary>Creates a credential from a raw P-256 public key (x || y). Never throws.</summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="publicKey64">The public key: x then y, 32 bytes each, big-endian (SEC1 without the 0x04 prefix).</param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <param name="credential">The credential, when the result is true; otherwise null.</param>
    /// <param name="error">The first rule broken (see <see cref="PasskeyKeyError"/>), or <see cref="PasskeyKeyError.None"/>.</param>
    /// <returns>Whether every input is valid and the key is a point on P-256.</returns>
    public static bool TryCreate(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> publicKey64, string relyingPartyId, string origin, [NotNullWhen(true)] out PasskeyCredential? credential, out PasskeyKeyError error)
    {
        credential = null;
        error = CheckIdentity(credentialId, relyingPartyId, origin);
        if (error != PasskeyKeyError.None)
        {
            return false;
        }

        return TryCreateCore(credentialId, publicKey64, relyingPartyId, origin, out credential, out error);
    }

    /// <summary>Creates a credential from a raw P-256 public key (x || y).</summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="publicKey64">The public key: x then y, 32 bytes each, big-endian.</param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="ArgumentException">An input breaks a rule; the exception names the parameter and the <see cref="PasskeyKeyError"/>.</exception>
    public static PasskeyCredential Create(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> publicKey64, string relyingPartyId, string origin)
    {
        if (!TryCreate(credentialId, publicKey64, relyingPartyId, origin, out PasskeyCredential? credential, out PasskeyKeyError error))
        {
            ThrowFor(error, nameof(publicKey64));
        }

        return credential;
    }

    /// <summary>
    /// Creates a credential from the COSE_Key of a registration's attested credential data (the
    /// <c>credentialPublicKey</c>), which must be exactly an ES256 key on P-256 (see <see cref="PasskeyKeyError"/>).
    /// Never throws.
    /// </summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="coseKey">
    /// Exactly one definite-length CBOR map <c>{1: 2, 3: -7, -1: 1, -2: x, -3: y}</c> (kty EC2, alg ES256, crv P-256,
    /// 32-byte coordinates), in any order, nothing after it.
    /// </param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <param name="credential">The credential, when the result is true; otherwise null.</param>
    /// <param name="error">The first rule broken (see <see cref="PasskeyKeyError"/>), or <see cref="PasskeyKeyError.None"/>.</param>
    /// <returns>Whether every input is valid and the key is an ES256 key on P-256.</returns>
    public static bool TryFromCoseKey(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> coseKey, string relyingPartyId, string origin, [NotNullWhen(true)] out PasskeyCredential? credential, out PasskeyKeyError error)
    {
        credential = null;
        error = CheckIdentity(credentialId, relyingPartyId, origin);
        if (error != PasskeyKeyError.None)
        {
            return false;
        }

        Span<byte> publicKey = stackalloc byte[PublicKeySize];
        error = PasskeyCoseKey.TryRead(coseKey, publicKey);
        if (error != PasskeyKeyError.None)
        {
            return false;
        }

        return TryCreateCore(credentialId, publicKey, relyingPartyId, origin, out credential, out error);
    }

    /// <summary>Creates a credential from the COSE_Key of a registration's attested credential data.</summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="coseKey">Exactly one CBOR map <c>{1: 2, 3: -7, -1: 1, -2: x, -3: y}</c>, nothing after it.</param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="ArgumentException">An input breaks a rule; the exception names the parameter and the <see cref="PasskeyKeyError"/>.</exception>
    public static PasskeyCredential FromCoseKey(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> coseKey, string relyingPartyId, string origin)
    {
        if (!TryFromCoseKey(credentialId, coseKey, relyingPartyId, origin, out PasskeyCredential? credential, out PasskeyKeyError error))
        {
            ThrowFor(error, nameof(coseKey));
        }

        return credential;
    }

    /// <summary>
    /// Creates a credential from a DER SubjectPublicKeyInfo (RFC 5280), as the browser's
    /// <c>AuthenticatorAttestationResponse.getPublicKey()</c> returns it, which must hold an EC key on the named curve
    /// P-256. Never throws.
    /// </summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="spki">Exactly one DER SubjectPublicKeyInfo, nothing after it.</param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <param name="credential">The credential, when the result is true; otherwise null.</param>
    /// <param name="error">
    /// The first rule broken, or <see cref="PasskeyKeyError.None"/>: <see cref="PasskeyKeyError.MalformedPublicKey"/>
    /// when the runtime cannot import the bytes as an EC public key (RSA and Ed25519 keys included) or bytes follow it,
    /// <see cref="PasskeyKeyError.WrongCurve"/> for an EC key on another curve (one the platform does not know
    /// included) or with explicit curve parameters.
    /// </param>
    /// <returns>Whether every input is valid and the key is an EC key on P-256.</returns>
    public static bool TryFromSubjectPublicKeyInfo(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> spki, string relyingPartyId, string origin, [NotNullWhen(true)] out PasskeyCredential? credential, out PasskeyKeyError error)
    {
        credential = null;
        error = CheckIdentity(credentialId, relyingPartyId, origin);
        if (error != PasskeyKeyError.None)
        {
            return false;
        }

        Span<byte> publicKey = stackalloc byte[PublicKeySize];
        error = ReadSubjectPublicKeyInfo(spki, publicKey);
        if (error != PasskeyKeyError.None)
        {
            return false;
        }

        return TryCreateCore(credentialId, publicKey, relyingPartyId, origin, out credential, out error);
    }

    /// <summary>Creates a credential from a DER SubjectPublicKeyInfo holding an EC key on P-256.</summary>
    /// <param name="credentialId">The credential id, 1 to <see cref="MaxCredentialIdLength"/> bytes.</param>
    /// <param name="spki">Exactly one DER SubjectPublicKeyInfo, nothing after it.</param>
    /// <param name="relyingPartyId">The RP ID: 1 to <see cref="MaxRelyingPartyIdLength"/> visible ASCII characters.</param>
    /// <param name="origin">The origin: 1 to <see cref="MaxOriginLength"/> visible ASCII characters.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="ArgumentException">An input breaks a rule; the exception names the parameter and the <see cref="PasskeyKeyError"/>.</exception>
    public static PasskeyCredential FromSubjectPublicKeyInfo(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> spki, string relyingPartyId, string origin)
    {
        if (!TryFromSubjectPublicKeyInfo(credentialId, spki, relyingPartyId, origin, out PasskeyCredential? credential, out PasskeyKeyError error))
        {
            ThrowFor(error, nameof(spki));
        }

        return credential;
    }

    /// <summary>Copies the public key, x then y (32 bytes each, big-endian), into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="PublicKeySize"/> bytes; the key goes to the first 64.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="PublicKeySize"/> bytes.</exception>
    public void CopyPublicKeyTo(Span<byte> destination)
    {
        if (destination.Length < PublicKeySize)
        {
            PasskeyThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), PublicKeySize);
        }

        _verifiers.PublicKey.CopyTo(destination);
    }

    /// <summary>
    /// The signature counter rule of WebAuthn Level 3 section 7.2, as the ledger applies it: a counter that does not
    /// increase may mean a cloned authenticator, and the ledger refuses it rather than only noting it.
    /// </summary>
    /// <param name="stored">The counter stored with the credential (from registration, then from the last accepted assertion).</param>
    /// <param name="received">The assertion's signCount (<see cref="Verify"/>'s <c>signCount</c>).</param>
    /// <returns>
    /// True when both are 0 (the authenticator keeps no counter, as synced passkeys do), or when
    /// <paramref name="received"/> is greater than <paramref name="stored"/>; false otherwise (equal, lower, or a
    /// counter that dropped to 0).
    /// </returns>
    public static bool IsSignCountAcceptable(uint stored, uint received) =>
        (stored == 0 && received == 0) || received > stored;

    /// <summary>The RP ID and the first bytes of the credential id in hexadecimal (not the key).</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString()
    {
        const int Shown = 8;
        string id = Convert.ToHexStringLower(_credentialId.AsSpan(0, Math.Min(Shown, _credentialId.Length)));
        return $"PasskeyCredential {{ RelyingPartyId = {RelyingPartyId}, CredentialId = {id}{(_credentialId.Length > Shown ? "..." : string.Empty)} }}";
    }

    // Credential id, RP ID, origin, in that order.
    private static PasskeyKeyError CheckIdentity(ReadOnlySpan<byte> credentialId, string? relyingPartyId, string? origin)
    {
        if (credentialId.IsEmpty || credentialId.Length > MaxCredentialIdLength)
        {
            return PasskeyKeyError.CredentialIdLength;
        }

        if (!IsVisibleAscii(relyingPartyId, MaxRelyingPartyIdLength))
        {
            return PasskeyKeyError.RelyingPartyIdInvalid;
        }

        return IsVisibleAscii(origin, MaxOriginLength) ? PasskeyKeyError.None : PasskeyKeyError.OriginInvalid;
    }

    // 1 to maxLength characters, each 0x21..0x7E: one UTF-8 byte each, so the character count is the byte count.
    private static bool IsVisibleAscii([NotNullWhen(true)] string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    // The identity is checked; the key is x || y of some length.
    private static bool TryCreateCore(ReadOnlySpan<byte> credentialId, ReadOnlySpan<byte> publicKey64, string relyingPartyId, string origin, [NotNullWhen(true)] out PasskeyCredential? credential, out PasskeyKeyError error)
    {
        if (!PasskeyVerifierPool.TryCreate(publicKey64, out PasskeyVerifierPool? verifiers))
        {
            credential = null;
            error = PasskeyKeyError.MalformedPublicKey;
            return false;
        }

        credential = new PasskeyCredential(credentialId.ToArray(), relyingPartyId, origin, verifiers);
        error = PasskeyKeyError.None;
        return true;
    }

    private static PasskeyKeyError ReadSubjectPublicKeyInfo(ReadOnlySpan<byte> spki, Span<byte> publicKey64)
    {
        using ECDsa key = ECDsa.Create();
        ECParameters parameters;
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out int bytesRead);
            if (bytesRead != spki.Length)
            {
                return PasskeyKeyError.MalformedPublicKey;
            }

            parameters = key.ExportParameters(includePrivateParameters: false);
        }
        catch (CryptographicException)
        {
            return PasskeyKeyError.MalformedPublicKey;
        }
        catch (PlatformNotSupportedException)
        {
            // A well-formed EC key on a named curve the platform does not know (the runtime's answer for an unknown
            // curve OID): not P-256.
            return PasskeyKeyError.WrongCurve;
        }

        // Browsers name the curve; explicit parameters, even P-256's, are refused rather than compared.
        if (!parameters.Curve.IsNamed || parameters.Curve.Oid?.Value != P256Oid)
        {
            return PasskeyKeyError.WrongCurve;
        }

        if (parameters.Q.X is not { Length: PublicKeySize / 2 } x || parameters.Q.Y is not { Length: PublicKeySize / 2 } y)
        {
            return PasskeyKeyError.MalformedPublicKey;
        }

        x.CopyTo(publicKey64);
        y.CopyTo(publicKey64[(PublicKeySize / 2)..]);
        return PasskeyKeyError.None;
    }

    [DoesNotReturn]
    private static void ThrowFor(PasskeyKeyError error, string keyParameter)
    {
        string parameter = error switch
        {
            PasskeyKeyError.CredentialIdLength => "credentialId",
            PasskeyKeyError.RelyingPartyIdInvalid => "relyingPartyId",
            PasskeyKeyError.OriginInvalid => "origin",
            _ => keyParameter,
        };
        PasskeyThrowHelper.ThrowArgumentException_Key(parameter, error);
    }
}
