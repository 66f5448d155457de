using System.Security.Cryptography;

namespace Micropay.Core.Identity;

/// <summary>The assertion check: WebAuthn Level 3 section 7.2, the steps that need no stored state.</summary>
public sealed partial class PasskeyCredential
{
    private const int Sha256Size = 32;

    /// <summary>
    /// Checks an assertion made with this credential over <paramref name="challenge"/>: the stateless steps of WebAuthn
    /// Level 3 section 7.2, in the order of <see cref="PasskeyResult"/>. Never throws; safe to call from many threads at
    /// once; allocates nothing once warm (on Linux, for well-formed client data).
    /// </summary>
    /// <param name="assertion">The assertion, as <c>navigator.credentials.get()</c> returned it.</param>
    /// <param name="challenge">The challenge the ledger issued (for a co-signature, the 32-byte hash of the payment order); any length, compared exactly.</param>
    /// <param name="signCount">
    /// The authenticator data's signature counter (big-endian, bytes 33 to 36), whatever the result, for
    /// <see cref="IsSignCountAcceptable"/> on the apply thread; 0 when the authenticator data is shorter than 37 bytes.
    /// </param>
    /// <returns><see cref="PasskeyResult.Ok"/>, or the first check the assertion fails.</returns>
    /// <remarks>
    /// <para>The checks, each with its own result:</para>
    /// <list type="number">
    /// <item>clientDataJSON is one JSON object (see <see cref="PasskeyResult.MalformedClientData"/>); its <c>type</c> is
    /// <c>"webauthn.get"</c>; its <c>challenge</c> is the unpadded base64url of <paramref name="challenge"/>; its
    /// <c>origin</c> is <see cref="Origin"/>; it is not cross-origin (<c>crossOrigin</c> absent or false, no
    /// <c>topOrigin</c>).</item>
    /// <item>The authenticator data holds its 37-byte fixed part; its rpIdHash is SHA-256(<see cref="RelyingPartyId"/>);
    /// UP and UV are set; BS is not set without BE; AT is clear; with ED set the rest is exactly one well-formed CBOR map
    /// (definite lengths, no tags, nesting at most 16 deep; non-minimal integer heads are accepted), with ED clear nothing
    /// follows the fixed part.</item>
    /// <item>The signature is strict DER, and a valid ES256 signature of authenticatorData || SHA-256(clientDataJSON)
    /// under the credential's key.</item>
    /// </list>
    /// <para>
    /// Left to the caller, who holds the state: that the challenge was issued and is used once, the signature counter
    /// (<see cref="IsSignCountAcceptable"/>), and any policy on the backup flags. <c>default(PasskeyAssertion)</c> is
    /// <see cref="PasskeyResult.MalformedAuthenticatorData"/>.
    /// </para>
    /// </remarks>
    public PasskeyResult Verify(in PasskeyAssertion assertion, ReadOnlySpan<byte> challenge, out uint signCount)
    {
        signCount = 0;
        if (assertion.IsDefault)
        {
            return PasskeyResult.MalformedAuthenticatorData;
        }

        ReadOnlySpan<byte> authenticatorData = assertion.AuthenticatorDataSpan;
        ReadOnlySpan<byte> clientDataJson = assertion.ClientDataJsonSpan;
        ReadOnlySpan<byte> signature = assertion.SignatureSpan;
        signCount = WebAuthnAuthenticatorData.SignCount(authenticatorData);

        PasskeyResult result = WebAuthnClientData.Check(clientDataJson, challenge, _originUtf8);
        if (result != PasskeyResult.Ok)
        {
            return result;
        }

        result = WebAuthnAuthenticatorData.Check(authenticatorData, _rpIdHash);
        if (result != PasskeyResult.Ok)
        {
            return result;
        }

        if (!WebAuthnSignature.IsStrictDer(signature))
        {
            return PasskeyResult.MalformedSignature;
        }

        // The signed message is authenticatorData || SHA-256(clientDataJSON), at most 160 + 32 bytes (the assertion's
        // limit holds the authenticator data to 160); ES256 signs its SHA-256, computed here so the verify is on a hash.
        Span<byte> message = stackalloc byte[PasskeyAssertion.MaxAuthenticatorDataLength + Sha256Size];
        authenticatorData.CopyTo(message);
        SHA256.HashData(clientDataJson, message.Slice(authenticatorData.Length, Sha256Size));
        Span<byte> hash = stackalloc byte[Sha256Size];
        SHA256.HashData(message[..(authenticatorData.Length + Sha256Size)], hash);
        return _verifiers.VerifyHash(hash, signature) ? PasskeyResult.Ok : PasskeyResult.BadSignature;
    }
}
