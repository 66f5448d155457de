using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// A passkey authenticator and browser in software, producing the bytes a real one does: a P-256 key pair, a credential
/// id, an RP ID and a signature counter; the COSE_Key and SubjectPublicKeyInfo a registration hands the relying party;
/// and assertions whose clientDataJSON is serialised as browsers do and whose authenticator data is
/// SHA-256(rpId) || flags || counter (big-endian) || [extension outputs], signed with ES256 (DER) over
/// authenticatorData || SHA-256(clientDataJSON). Written from the specification, independently of the library's
/// readers (its base64url included).
/// </summary>
internal sealed class SoftwareAuthenticator : IDisposable
{
    public const string DefaultRpId = "pay.example.com";
    public const string DefaultOrigin = "https://pay.example.com";
    public const AuthenticatorFlags DefaultFlags = AuthenticatorFlags.UserPresent | AuthenticatorFlags.UserVerified;

    private readonly ECDsa _key;

    public SoftwareAuthenticator(string rpId = DefaultRpId, byte[]? credentialId = null, uint counter = 0)
        : this(ECDsa.Create(ECCurve.NamedCurves.nistP256), rpId, credentialId ?? RandomNumberGenerator.GetBytes(16), counter)
    {
    }

    private SoftwareAuthenticator(ECDsa key, string rpId, byte[] credentialId, uint counter)
    {
        _key = key;
        RpId = rpId;
        CredentialId = credentialId;
        Counter = counter;
    }

    /// <summary>An authenticator with a fixed private key (the scalar d, 32 bytes big-endian), for checked-in vectors.</summary>
    public static SoftwareAuthenticator FromPrivateKey(ReadOnlySpan<byte> d, byte[] credentialId, string rpId = DefaultRpId, uint counter = 0) =>
        new(ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d.ToArray() }), rpId, credentialId, counter);

    public byte[] CredentialId { get; }

    public string RpId { get; }

    /// <summary>The signature counter: each <see cref="GetAssertion"/> increments it first, as authenticators do.</summary>
    public uint Counter { get; private set; }

    public ECDsa Key => _key;

    /// <summary>x || y, 64 bytes.</summary>
    public byte[] PublicKey64()
    {
        ECParameters parameters = _key.ExportParameters(false);
        return [.. parameters.Q.X!, .. parameters.Q.Y!];
    }

    /// <summary>The COSE_Key of attested credential data, in CTAP2 canonical order: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.</summary>
    public byte[] ExportCoseKey()
    {
        byte[] publicKey = PublicKey64();
        var cbor = new List<byte>
        {
            0xA5,             // map(5)
            0x01, 0x02,       // 1 (kty): 2 (EC2)
            0x03, 0x26,       // 3 (alg): -7 (ES256)
            0x20, 0x01,       // -1 (crv): 1 (P-256)
            0x21, 0x58, 0x20, // -2 (x): bytes(32)
        };
        cbor.AddRange(publicKey.AsSpan(0, 32).ToArray());
        cbor.AddRange([0x22, 0x58, 0x20]); // -3 (y): bytes(32)
        cbor.AddRange(publicKey.AsSpan(32, 32).ToArray());
        return [.. cbor];
    }

    /// <summary>The DER SubjectPublicKeyInfo, as the browser's getPublicKey() returns it.</summary>
    public byte[] ExportSpki() => _key.ExportSubjectPublicKeyInfo();

    /// <summary>The credential the relying party registers, from the COSE_Key.</summary>
    public PasskeyCredential Credential(string origin = DefaultOrigin) =>
        PasskeyCredential.FromCoseKey(CredentialId, ExportCoseKey(), RpId, origin);

    /// <summary>clientDataJSON as browsers serialise it for navigator.credentials.get().</summary>
    public static string ClientDataJson(ReadOnlySpan<byte> challenge, string origin = DefaultOrigin, string type = "webauthn.get", bool crossOrigin = false) =>
        $"{{\"type\":\"{type}\",\"challenge\":\"{Base64Url(challenge)}\",\"origin\":\"{origin}\",\"crossOrigin\":{(crossOrigin ? "true" : "false")}}}";

    /// <summary>Unpadded base64url (RFC 4648 section 5), from the standard alphabet.</summary>
    public static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>SHA-256(rpId) || flags || counter, big-endian || extensions.</summary>
    public byte[] AuthenticatorData(AuthenticatorFlags flags, uint counter, ReadOnlySpan<byte> extensions = default, string? rpId = null)
    {
        byte[] data = new byte[37 + extensions.Length];
        SHA256.HashData(Encoding.UTF8.GetBytes(rpId ?? RpId), data);
        data[32] = (byte)flags;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(33), counter);
        extensions.CopyTo(data.AsSpan(37));
        return data;
    }

    /// <summary>ES256 over authenticatorData || SHA-256(clientDataJSON), DER-encoded.</summary>
    public byte[] Sign(ReadOnlySpan<byte> authenticatorData, ReadOnlySpan<byte> clientDataJson)
    {
        byte[] message = [.. authenticatorData, .. SHA256.HashData(clientDataJson)];
        return _key.SignData(message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>
    /// What navigator.credentials.get() returns: the counter incremented, authenticator data with <paramref name="flags"/>
    /// (ED added when <paramref name="extensions"/> is given), the browser's clientDataJSON (or the override, verbatim),
    /// and the signature.
    /// </summary>
    public PasskeyAssertion GetAssertion(
        ReadOnlySpan<byte> challenge,
        string origin = DefaultOrigin,
        AuthenticatorFlags flags = DefaultFlags,
        byte[]? extensions = null,
        string? clientDataJsonOverride = null,
        string? rpIdOverride = null)
    {
        Counter++;
        if (extensions is not null)
        {
            flags |= AuthenticatorFlags.ExtensionData;
        }

        byte[] authenticatorData = AuthenticatorData(flags, Counter, extensions, rpIdOverride);
        byte[] clientDataJson = Encoding.UTF8.GetBytes(clientDataJsonOverride ?? ClientDataJson(challenge, origin));
        return SignRaw(authenticatorData, clientDataJson);
    }

    /// <summary>Signs exactly these bytes, whatever they are.</summary>
    public PasskeyAssertion SignRaw(byte[] authenticatorData, byte[] clientDataJson) =>
        new(authenticatorData, clientDataJson, Sign(authenticatorData, clientDataJson));

    public void Dispose() => _key.Dispose();
}
