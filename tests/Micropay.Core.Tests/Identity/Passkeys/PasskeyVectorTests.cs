using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// Fixed vectors: our own golden assertion (a fixed key, signed once by the software authenticator and checked in), and
/// the ES256 authentication examples published in WebAuthn Level 3, section 16 ("Test Vectors").
/// </summary>
public sealed class PasskeyVectorTests
{
    // --- Golden vector: generated once with a fresh P-256 key and frozen. ECDSA signatures are randomised, so the
    // signature below is one of many valid ones; it must keep verifying, and every single-bit change must not.
    private const string GoldenD = "2fa824ecbc7df677fa12ebf17cfcb204726a6ebaa88379654b5e50a1889e0cab";
    private const string GoldenX = "ce66daccbb4755f326572318d035da20060a6a51d2b7917d072aaf6df1c237dc";
    private const string GoldenY = "cd5b9224f9b5fad2bab7f0653f26c1b093ce94c9dcae18be625abe364c814db0";
    private const string GoldenCredentialId = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

    // SHA-256("micropay golden payment order #1"): stands for the hash of a payment order.
    private const string GoldenChallenge = "3987e76ad2e00990807d637c7674fd1addba48c81c52201adb5817fffee1cea5";

    private const string GoldenAuthenticatorData =
        "fda36ffa7a235b89f430cbea735cf99163bbc2dbb60f9544cbc204480f9ea0b0" + // rpIdHash: SHA-256("pay.example.com")
        "05" +                                                               // flags: UP | UV
        "00000007";                                                          // signCount 7

    private const string GoldenClientDataJson =
        "{\"type\":\"webauthn.get\",\"challenge\":\"OYfnatLgCZCAfWN8dnT9Gt26SMgcUiAa21gX__7hzqU\",\"origin\":\"https://pay.example.com\",\"crossOrigin\":false}";

    private const string GoldenSignature =
        "3046022100de4a6c6d0c8a485890b45613a46493402f25624c2ef0a1613cd0db0303d3fc1702210093d3febcc2c172153002d693b2cdc2b2e8e6d8ef99a0d1a5a389fc7b110221b2";

    internal static byte[] GoldenChallengeBytes => Convert.FromHexString(GoldenChallenge);

    internal static PasskeyCredential GoldenCredential() =>
        PasskeyCredential.Create(Convert.FromHexString(GoldenCredentialId), Convert.FromHexString(GoldenX + GoldenY), SoftwareAuthenticator.DefaultRpId, SoftwareAuthenticator.DefaultOrigin);

    internal static PasskeyAssertion GoldenAssertion() =>
        new(Convert.FromHexString(GoldenAuthenticatorData), Encoding.UTF8.GetBytes(GoldenClientDataJson), Convert.FromHexString(GoldenSignature));

    [Fact]
    public void Verify_GoldenVector_IsOkWithItsCounter()
    {
        PasskeyResult result = GoldenCredential().Verify(GoldenAssertion(), GoldenChallengeBytes, out uint signCount);

        Assert.Equal(PasskeyResult.Ok, result);
        Assert.Equal(7u, signCount);
    }

    [Fact]
    public void SoftwareAuthenticator_GoldenKey_BuildsTheGoldenBytesAndPublicKey()
    {
        // The checked-in authenticator data and client data are what the software authenticator builds, and d is the
        // private key of (x, y): the vector is the test kit's own output, frozen.
        using var authenticator = SoftwareAuthenticator.FromPrivateKey(Convert.FromHexString(GoldenD), Convert.FromHexString(GoldenCredentialId));

        Assert.Equal(GoldenX + GoldenY, Convert.ToHexStringLower(authenticator.PublicKey64()));
        Assert.Equal(GoldenAuthenticatorData, Convert.ToHexStringLower(authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 7)));
        Assert.Equal(GoldenClientDataJson, SoftwareAuthenticator.ClientDataJson(GoldenChallengeBytes));
        byte[] message = [.. Convert.FromHexString(GoldenAuthenticatorData), .. SHA256.HashData(Encoding.UTF8.GetBytes(GoldenClientDataJson))];
        Assert.True(authenticator.Key.VerifyData(
            message,
            Convert.FromHexString(GoldenSignature),
            HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void Verify_GoldenKeyFromCoseAndSpki_IsOkToo()
    {
        using var authenticator = SoftwareAuthenticator.FromPrivateKey(Convert.FromHexString(GoldenD), Convert.FromHexString(GoldenCredentialId));
        PasskeyCredential fromCose = PasskeyCredential.FromCoseKey(authenticator.CredentialId, authenticator.ExportCoseKey(), SoftwareAuthenticator.DefaultRpId, SoftwareAuthenticator.DefaultOrigin);
        PasskeyCredential fromSpki = PasskeyCredential.FromSubjectPublicKeyInfo(authenticator.CredentialId, authenticator.ExportSpki(), SoftwareAuthenticator.DefaultRpId, SoftwareAuthenticator.DefaultOrigin);

        Assert.Equal(PasskeyResult.Ok, fromCose.Verify(GoldenAssertion(), GoldenChallengeBytes, out _));
        Assert.Equal(PasskeyResult.Ok, fromSpki.Verify(GoldenAssertion(), GoldenChallengeBytes, out _));
    }

    [Theory]
    [InlineData(0)] // authenticator data
    [InlineData(1)] // clientDataJSON
    [InlineData(2)] // signature
    public void Verify_EverySingleBitFlipOfTheGoldenVector_IsRefused(int part)
    {
        PasskeyCredential credential = GoldenCredential();
        byte[][] parts =
        [
            Convert.FromHexString(GoldenAuthenticatorData),
            Encoding.UTF8.GetBytes(GoldenClientDataJson),
            Convert.FromHexString(GoldenSignature),
        ];
        var accepted = new List<int>();

        for (int bit = 0; bit < parts[part].Length * 8; bit++)
        {
            parts[part][bit / 8] ^= (byte)(1 << (bit % 8));
            var flipped = new PasskeyAssertion(parts[0], parts[1], parts[2]);
            if (credential.Verify(flipped, GoldenChallengeBytes, out _) == PasskeyResult.Ok)
            {
                accepted.Add(bit);
            }

            parts[part][bit / 8] ^= (byte)(1 << (bit % 8));
        }

        Assert.Empty(accepted);
        Assert.Equal(PasskeyResult.Ok, credential.Verify(new PasskeyAssertion(parts[0], parts[1], parts[2]), GoldenChallengeBytes, out _));
    }

    // --- WebAuthn Level 3, section 16 "Test Vectors" (https://w3c.github.io/webauthn/#sctn-test-vectors), generated by
    // the working group with HKDF-SHA-256 from 'WebAuthn test vectors' and RFC 6979 signatures. RP ID "example.org",
    // origin "https://example.org". Each credential's public key is the COSE_Key in its registration's attestation
    // object; each private key is given too, and must be the key of that COSE_Key.
    private const string W3cRpId = "example.org";
    private const string W3cOrigin = "https://example.org";

    // Section 16.7, "Packed Attestation with ES256 Credential": the one ES256 authentication example with UV set and
    // no cross-origin member, so the one every check of ours accepts. Its clientDataJSON carries an extra member
    // ("extraData"), which must be ignored.
    private const string PackedEs256PrivateKey = "36ed7bea2357cefa8c4ec7e134f3312d2e6ca3058519d0bcb4c1424272010432";
    private const string PackedEs256CredentialId = "c9a6f5b3462d02873fea0c56862234f99f081728084e511bb7760201a89054a5";
    private const string PackedEs256CoseKey =
        "a5010203262001215820" + "1cf27f25da591208a4239c2e324f104f585525479a29edeedd830f48e77aeae5" +
        "225820" + "59e4b7da6c0106e206ce390c93ab98a15a5ec3887e57f0cc2bece803b920c423";
    private const string PackedEs256Challenge = "b1106fa46a57bef1781511c0557dc898a03413d5f0f17d244630c194c7e1adb5";
    private const string PackedEs256AuthenticatorData = "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50d00000000";
    private const string PackedEs256ClientDataJson =
        "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a2273524276704770587676463446524841565833496d4b4130453958773858306b526a44426c4d6668726255222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a20415a4d77794d78496244382d756775464e7036723851227d";
    private const string PackedEs256Signature =
        "30450220694969d3ee928de6f02ef23a9c644d7d779916451734a94b432542f498a1ebe90221008b0819c824218a97152cd099c55bfb1477b29d900a49a64018314f9bfccda163";

    // Section 16.2, "ES256 Credential with No Attestation": flags 0x19 (UP, BE, BS), no UV.
    private const string NoneEs256PrivateKey = "6e68e7a58484a3264f66b77f5d6dc5bc36a47085b615c9727ab334e8c369c2ee";
    private const string NoneEs256CredentialId = "f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4";
    private const string NoneEs256CoseKey =
        "a5010203262001215820" + "afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61" +
        "225820" + "930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";
    private const string NoneEs256Challenge = "39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408";
    private const string NoneEs256AuthenticatorData = "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b51900000000";
    private const string NoneEs256ClientDataJson =
        "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a224f63446e55685158756c5455506f334a5558543049393770767a7a59425039745a63685879617630314167222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d";
    private const string NoneEs256Signature =
        "3046022100f50a4e2e4409249c4a853ba361282f09841df4dd4547a13a87780218deffcd380221008480ac0f0b93538174f575bf11a1dd5d78c6e486013f937295ea13653e331e87";

    // Section 16.4, "ES256 Credential with "crossOrigin": true in clientDataJSON": flags 0x05 (UP, UV).
    private const string CrossOriginPrivateKey = "96c940e769bd9f1237c119f144fa61a4d56af0b3289685ae2bef7fb89620623d";
    private const string CrossOriginCredentialId = "6e1050c0d2ca2f07c755cb2c66a74c64fa43065c18f938354d9915db2bd5ce57";
    private const string CrossOriginCoseKey =
        "a5010203262001215820" + "22200a473f90b11078851550d03b4e44a2279f8c4eca27b3153dedfe03e4e97d" +
        "225820" + "cbd0be95e746ad6f5a8191be11756e4c0420e72f65b466d39bc56b8b123a9c6e";
    private const string CrossOriginChallenge = "876aa517ba83fdee65fcffdbca4c84eeae5d54f8041a1fc85c991e5bbb273137";
    private const string CrossOriginAuthenticatorData = "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50500000000";
    private const string CrossOriginClientDataJson =
        "7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a226832716c463771445f65356c5f505f62796b7945377135645650674547685f49584a6b655737736e4d5463222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a747275652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a2039327063545644304162792d713464746d6a36656667227d";
    private const string CrossOriginSignature =
        "3046022100eb12fcf23b12764c0f122e22371fab92e283879fd798f38ee1841c951b6e40e7022100c76237ff9db77b3c56f30837cda6a09acfa2e915544e609c0733b1184036d1cf";

    [Fact]
    public void Verify_W3cPackedEs256Assertion_IsOk()
    {
        PasskeyResult result = W3cCredential(PackedEs256CredentialId, PackedEs256CoseKey)
            .Verify(W3cAssertion(PackedEs256AuthenticatorData, PackedEs256ClientDataJson, PackedEs256Signature), Convert.FromHexString(PackedEs256Challenge), out uint signCount);

        Assert.Equal(PasskeyResult.Ok, result);
        Assert.Equal(0u, signCount);
    }

    [Fact]
    public void Verify_W3cNoneEs256Assertion_IsRefusedOnlyForMissingUserVerification()
    {
        // The vector passes every client data check and the RP ID hash; its flags lack UV, which the ledger requires.
        // Its signature is genuine (checked with the raw key), so with UV it would be accepted.
        PasskeyAssertion assertion = W3cAssertion(NoneEs256AuthenticatorData, NoneEs256ClientDataJson, NoneEs256Signature);

        PasskeyResult result = W3cCredential(NoneEs256CredentialId, NoneEs256CoseKey).Verify(assertion, Convert.FromHexString(NoneEs256Challenge), out _);

        Assert.Equal(PasskeyResult.UserNotVerified, result);
        Assert.True(RawVerify(NoneEs256CoseKey, assertion));
    }

    [Fact]
    public void Verify_W3cCrossOriginAssertion_IsRefusedAsCrossOrigin()
    {
        PasskeyAssertion assertion = W3cAssertion(CrossOriginAuthenticatorData, CrossOriginClientDataJson, CrossOriginSignature);

        PasskeyResult result = W3cCredential(CrossOriginCredentialId, CrossOriginCoseKey).Verify(assertion, Convert.FromHexString(CrossOriginChallenge), out _);

        Assert.Equal(PasskeyResult.CrossOrigin, result);
        Assert.True(RawVerify(CrossOriginCoseKey, assertion));
    }

    [Theory]
    [InlineData(PackedEs256PrivateKey, PackedEs256CoseKey)]
    [InlineData(NoneEs256PrivateKey, NoneEs256CoseKey)]
    [InlineData(CrossOriginPrivateKey, CrossOriginCoseKey)]
    public void W3cVectors_PrivateKey_IsTheKeyOfTheCoseKey(string privateKey, string coseKey)
    {
        using var authenticator = SoftwareAuthenticator.FromPrivateKey(Convert.FromHexString(privateKey), [1]);

        Assert.Equal(coseKey, Convert.ToHexStringLower(authenticator.ExportCoseKey()));
    }

    private static PasskeyCredential W3cCredential(string credentialId, string coseKey) =>
        PasskeyCredential.FromCoseKey(Convert.FromHexString(credentialId), Convert.FromHexString(coseKey), W3cRpId, W3cOrigin);

    private static PasskeyAssertion W3cAssertion(string authenticatorData, string clientDataJson, string signature) =>
        new(Convert.FromHexString(authenticatorData), Convert.FromHexString(clientDataJson), Convert.FromHexString(signature));

    private static bool RawVerify(string coseKey, PasskeyAssertion assertion)
    {
        byte[] cose = Convert.FromHexString(coseKey);
        using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = cose[10..42], Y = cose[45..77] } });
        byte[] message = [.. assertion.AuthenticatorData.Span, .. SHA256.HashData(assertion.ClientDataJson.Span)];
        return key.VerifyData(
            message,
            assertion.Signature.Span,
            HashAlgorithmName.SHA256,
            DSASignatureFormat.Rfc3279DerSequence);
    }
}
