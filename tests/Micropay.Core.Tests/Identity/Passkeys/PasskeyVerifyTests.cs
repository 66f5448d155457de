using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Identity;
using static Micropay.Core.Tests.Identity.Passkeys.AuthenticatorFlags;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// <see cref="PasskeyCredential.Verify"/> against assertions a real authenticator and browser produce, and against each
/// way one can be wrong: every check of WebAuthn Level 3 section 7.2 that the ledger applies has its own result.
/// </summary>
public sealed class PasskeyVerifyTests : IDisposable
{
    private const string Origin = SoftwareAuthenticator.DefaultOrigin;

    private static readonly byte[] Challenge = SHA256.HashData("payment order 1"u8);
    private static readonly byte[] OtherChallenge = SHA256.HashData("payment order 2"u8);

    private readonly SoftwareAuthenticator _authenticator = new();
    private readonly PasskeyCredential _credential;

    public PasskeyVerifyTests() => _credential = _authenticator.Credential();

    public void Dispose() => _authenticator.Dispose();

    private PasskeyResult Verify(PasskeyAssertion assertion) => _credential.Verify(assertion, Challenge, out _);

    private PasskeyResult VerifyClientData(string clientDataJson) =>
        Verify(_authenticator.GetAssertion(Challenge, clientDataJsonOverride: clientDataJson));

    private static string ClientData(string members) => "{" + members + "}";

    private static string Type(string type = "webauthn.get") => $"\"type\":\"{type}\"";

    private static string ChallengeMember(byte[]? challenge = null) => $"\"challenge\":\"{SoftwareAuthenticator.Base64Url(challenge ?? Challenge)}\"";

    private static string OriginMember(string origin = Origin) => $"\"origin\":\"{origin}\"";

    private static string Required => $"{Type()},{ChallengeMember()},{OriginMember()}";

    // --- Accepted ---

    [Fact]
    public void Verify_AnAssertionOfTheChallenge_IsOkAndReportsTheCounter()
    {
        _ = _authenticator.GetAssertion(Challenge);
        PasskeyAssertion second = _authenticator.GetAssertion(Challenge);

        PasskeyResult result = _credential.Verify(second, Challenge, out uint signCount);

        Assert.Equal(PasskeyResult.Ok, result);
        Assert.Equal(2u, signCount);
    }

    [Theory]
    [InlineData(UserPresent | UserVerified | BackupEligible)]
    [InlineData(UserPresent | UserVerified | BackupEligible | BackedUp)]
    [InlineData(UserPresent | UserVerified | Reserved1 | Reserved5)]
    internal void Verify_AcceptableFlags_IsOk(AuthenticatorFlags flags) =>
        Assert.Equal(PasskeyResult.Ok, Verify(_authenticator.GetAssertion(Challenge, flags: flags)));

    [Theory]
    [InlineData("a0")]                                 // {}
    [InlineData("a16b6372656450726f7465637402")]      // {"credProtect": 2}
    [InlineData("a263756d76818301020363666f6f1903e8")] // {"uvm": [[1, 2, 3]], "foo": 1000}
    [InlineData("a1011805")]                           // {1: 5}, the 5 with a non-minimal head (0x18 0x05)
    [InlineData("a201020103")]                         // {1: 2, 1: 3}: duplicate keys are well-formed CBOR
    public void Verify_WellFormedExtensionOutputs_IsOk(string extensionsHex) =>
        Assert.Equal(PasskeyResult.Ok, Verify(_authenticator.GetAssertion(Challenge, extensions: Convert.FromHexString(extensionsHex))));

    [Fact]
    public void Verify_ExtensionOutputsSixteenMapsDeep_IsOk() =>
        Assert.Equal(PasskeyResult.Ok, Verify(_authenticator.GetAssertion(Challenge, extensions: NestedMaps(16))));

    [Fact]
    public void Verify_ExtensionOutputsWithFloatsAndSimpleValues_IsOk()
    {
        // {1: 1.5 (half), 2: 1.5 (single), 3: 1.5 (double), 4: false, 5: null, 6: simple(32)}
        byte[] extensions = Convert.FromHexString("a601f93e0002fa3fc0000003fb3ff800000000000004f405f606f820");

        Assert.Equal(PasskeyResult.Ok, Verify(_authenticator.GetAssertion(Challenge, extensions: extensions)));
    }

    [Fact]
    public void Verify_ClientDataWithUnknownMembers_IsOk() =>
        Assert.Equal(PasskeyResult.Ok, VerifyClientData(ClientData(
            $"\"extraData\":{{\"a\":[1,2,{{\"b\":null}}],\"type\":\"webauthn.create\"}},{Required},\"crossOrigin\":false,\"other\":\"x\",\"other\":\"y\"")));

    [Fact]
    public void Verify_ClientDataInAnotherMemberOrderWithWhitespace_IsOk() =>
        Assert.Equal(PasskeyResult.Ok, VerifyClientData($" {{ {OriginMember()} ,\n {ChallengeMember()}, {Type()} }} \r\n"));

    [Fact]
    public void Verify_ClientDataWithoutCrossOrigin_IsOk() =>
        Assert.Equal(PasskeyResult.Ok, VerifyClientData(ClientData(Required)));

    [Fact]
    public void Verify_ClientDataWithEscapedNamesAndValues_ComparesUnescapedAndIsOk() =>
        Assert.Equal(PasskeyResult.Ok, VerifyClientData(ClientData(
            $"\"typ\\u0065\":\"webauthn\\u002eget\",{ChallengeMember()},\"origin\":\"https:\\/\\/pay.example.com\"")));

    [Fact]
    public void Verify_ClientDataWithAByteOrderMark_IsOk()
    {
        byte[] clientDataJson = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(SoftwareAuthenticator.ClientDataJson(Challenge))];

        Assert.Equal(PasskeyResult.Ok, Verify(_authenticator.SignRaw(_authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 1), clientDataJson)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(200)]
    public void Verify_ChallengesOfOtherLengths_AreComparedExactly(int length)
    {
        byte[] challenge = Enumerable.Range(0, length).Select(i => (byte)(i * 7 % 256)).ToArray();
        PasskeyAssertion assertion = _authenticator.GetAssertion(challenge);

        Assert.Equal(PasskeyResult.Ok, _credential.Verify(assertion, challenge, out _));
        Assert.Equal(PasskeyResult.ChallengeMismatch, _credential.Verify(assertion, [.. challenge, 0], out _));
    }

    // --- Client data ---

    [Fact]
    public void Verify_AnotherOrdersChallenge_IsChallengeMismatch() =>
        Assert.Equal(PasskeyResult.ChallengeMismatch, Verify(_authenticator.GetAssertion(OtherChallenge)));

    [Fact]
    public void Verify_ChallengeInPaddedOrStandardBase64_IsChallengeMismatch()
    {
        // 0xfb 0xff encodes with both '-' and '_' (or '+' and '/' in standard base64), and needs padding.
        byte[] challenge = [0xfb, 0xff, 0xbf, 0xfb, 0xff];
        string url = SoftwareAuthenticator.Base64Url(challenge);
        string standard = Convert.ToBase64String(challenge);
        Assert.Contains('-', url);
        Assert.Contains('_', url);

        foreach (string encoded in new[] { standard, url + "=", standard.TrimEnd('=') })
        {
            PasskeyAssertion assertion = _authenticator.GetAssertion(challenge, clientDataJsonOverride: ClientData($"{Type()},\"challenge\":\"{encoded}\",{OriginMember()}"));
            Assert.Equal(PasskeyResult.ChallengeMismatch, _credential.Verify(assertion, challenge, out _));
        }
    }

    [Fact]
    public void Verify_ChallengesTooLongForTheClientData_AreChallengeMismatchWithoutThrowing()
    {
        PasskeyAssertion assertion = _authenticator.GetAssertion(Challenge);

        Assert.Equal(PasskeyResult.ChallengeMismatch, _credential.Verify(assertion, new byte[384], out _));
        Assert.Equal(PasskeyResult.ChallengeMismatch, _credential.Verify(assertion, new byte[385], out _));
        Assert.Equal(PasskeyResult.ChallengeMismatch, _credential.Verify(assertion, new byte[100_000], out _));
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("https://pay.example.com/")]
    [InlineData("https://pay.example.com:443")]
    [InlineData("http://pay.example.com")]
    [InlineData("https://PAY.example.com")]
    [InlineData("https://sub.pay.example.com")]
    public void Verify_AnotherOrigin_IsOriginMismatch(string origin) =>
        Assert.Equal(PasskeyResult.OriginMismatch, Verify(_authenticator.GetAssertion(Challenge, origin: origin)));

    [Theory]
    [InlineData("webauthn.create")]
    [InlineData("webauthn.get ")]
    [InlineData("WEBAUTHN.GET")]
    [InlineData("payment.get")]
    public void Verify_AnotherType_IsWrongType(string type) =>
        Assert.Equal(PasskeyResult.WrongType, VerifyClientData(ClientData($"{Type(type)},{ChallengeMember()},{OriginMember()}")));

    [Fact]
    public void Verify_CrossOriginTrue_IsCrossOrigin() =>
        Assert.Equal(PasskeyResult.CrossOrigin, VerifyClientData(SoftwareAuthenticator.ClientDataJson(Challenge, crossOrigin: true)));

    [Theory]
    [InlineData(",\"crossOrigin\":true,\"topOrigin\":\"https://shop.example.net\"")]
    [InlineData(",\"crossOrigin\":false,\"topOrigin\":\"https://shop.example.net\"")]
    [InlineData(",\"topOrigin\":\"https://pay.example.com\"")]
    public void Verify_TopOriginPresent_IsCrossOrigin(string members) =>
        Assert.Equal(PasskeyResult.CrossOrigin, VerifyClientData(ClientData(Required + members)));

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"type\":\"webauthn.get\",\"challenge\":\"abc")]
    [InlineData("{\"type\":\"webauthn.get\",")]
    [InlineData("[]")]
    [InlineData("\"webauthn.get\"")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("{REQUIRED}{}")]
    [InlineData("{REQUIRED} x")]
    [InlineData("{REQUIRED,}")]
    [InlineData("{REQUIRED /* comment */}")]
    [InlineData("{REQUIRED,\"challenge\":\"x\"}")]
    [InlineData("{REQUIRED,\"ch\\u0061llenge\":\"x\"}")]
    [InlineData("{REQUIRED,\"type\":\"webauthn.get\"}")]
    [InlineData("{REQUIRED,\"origin\":\"https://pay.example.com\"}")]
    [InlineData("{REQUIRED,\"crossOrigin\":false,\"crossOrigin\":false}")]
    [InlineData("{REQUIRED,\"topOrigin\":\"a\",\"topOrigin\":\"b\"}")]
    [InlineData("{\"type\":1,CHALLENGE,ORIGIN}")]
    [InlineData("{TYPE,\"challenge\":null,ORIGIN}")]
    [InlineData("{TYPE,CHALLENGE,\"origin\":{\"href\":\"https://pay.example.com\"}}")]
    [InlineData("{TYPE,CHALLENGE,\"origin\":[\"https://pay.example.com\"]}")]
    [InlineData("{REQUIRED,\"crossOrigin\":\"false\"}")]
    [InlineData("{REQUIRED,\"crossOrigin\":0}")]
    [InlineData("{REQUIRED,\"topOrigin\":true}")]
    [InlineData("{CHALLENGE,ORIGIN}")]
    [InlineData("{TYPE,ORIGIN}")]
    [InlineData("{TYPE,CHALLENGE}")]
    [InlineData("{\"type\":\"webauthn.get\\ud800\",CHALLENGE,ORIGIN}")]
    [InlineData("{'type':'webauthn.get',CHALLENGE,ORIGIN}")]
    public void Verify_MalformedClientData_IsMalformedClientData(string template)
    {
        string json = template
            .Replace("REQUIRED", Required, StringComparison.Ordinal)
            .Replace("TYPE", Type(), StringComparison.Ordinal)
            .Replace("CHALLENGE", ChallengeMember(), StringComparison.Ordinal)
            .Replace("ORIGIN", OriginMember(), StringComparison.Ordinal);
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        PasskeyAssertion assertion = bytes.Length == 0
            ? new PasskeyAssertion(_authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 1), " "u8, [0x30, 0x00])
            : _authenticator.SignRaw(_authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 1), bytes);

        Assert.Equal(PasskeyResult.MalformedClientData, Verify(assertion));
    }

    [Fact]
    public void Verify_ClientDataThatIsNotUtf8_IsMalformedClientData()
    {
        byte[] json = Encoding.UTF8.GetBytes(ClientData($"{Required},\"extra\":\"ab\""));
        json[^3] = 0xFF; // inside the unknown member's string

        Assert.Equal(PasskeyResult.MalformedClientData, Verify(_authenticator.SignRaw(_authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 1), json)));
    }

    [Fact]
    public void Verify_ClientDataNestedBeyondTheReadersDepth_IsMalformedClientData() =>
        Assert.Equal(PasskeyResult.MalformedClientData, VerifyClientData(ClientData($"{Required},\"x\":{new string('[', 70)}{new string(']', 70)}")));

    // --- Authenticator data ---

    [Fact]
    public void Verify_AuthenticatorDataShorterThan37Bytes_IsMalformedAuthenticatorDataWithCounter0()
    {
        byte[] authenticatorData = _authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 5)[..36];

        PasskeyResult result = _credential.Verify(_authenticator.SignRaw(authenticatorData, Encoding.UTF8.GetBytes(SoftwareAuthenticator.ClientDataJson(Challenge))), Challenge, out uint signCount);

        Assert.Equal(PasskeyResult.MalformedAuthenticatorData, result);
        Assert.Equal(0u, signCount);
    }

    [Fact]
    public void Verify_DefaultAssertion_IsMalformedAuthenticatorData()
    {
        PasskeyResult result = _credential.Verify(default, Challenge, out uint signCount);

        Assert.Equal(PasskeyResult.MalformedAuthenticatorData, result);
        Assert.Equal(0u, signCount);
    }

    [Fact]
    public void Verify_AnotherRpIdHash_IsRpIdHashMismatch()
    {
        Assert.Equal(PasskeyResult.RpIdHashMismatch, Verify(_authenticator.GetAssertion(Challenge, rpIdOverride: "evil.example.com")));
        Assert.Equal(PasskeyResult.RpIdHashMismatch, Verify(_authenticator.GetAssertion(Challenge, rpIdOverride: "example.com")));
        Assert.Equal(PasskeyResult.RpIdHashMismatch, Verify(_authenticator.GetAssertion(Challenge, rpIdOverride: "PAY.EXAMPLE.COM")));
    }

    [Theory]
    [InlineData(UserVerified)]
    [InlineData(UserVerified | BackupEligible | BackedUp)]
    [InlineData(None)]
    internal void Verify_UserPresentClear_IsUserNotPresent(AuthenticatorFlags flags) =>
        Assert.Equal(PasskeyResult.UserNotPresent, Verify(_authenticator.GetAssertion(Challenge, flags: flags)));

    [Theory]
    [InlineData(UserPresent)]
    [InlineData(UserPresent | BackupEligible | BackedUp)]
    internal void Verify_UserVerifiedClear_IsUserNotVerified(AuthenticatorFlags flags) =>
        Assert.Equal(PasskeyResult.UserNotVerified, Verify(_authenticator.GetAssertion(Challenge, flags: flags)));

    [Fact]
    public void Verify_BackedUpWithoutBackupEligible_IsInvalidBackupFlags() =>
        Assert.Equal(PasskeyResult.InvalidBackupFlags, Verify(_authenticator.GetAssertion(Challenge, flags: SoftwareAuthenticator.DefaultFlags | BackedUp)));

    [Fact]
    public void Verify_AttestedCredentialDataFlag_IsUnexpectedAttestedData() =>
        Assert.Equal(PasskeyResult.UnexpectedAttestedData, Verify(_authenticator.GetAssertion(Challenge, flags: SoftwareAuthenticator.DefaultFlags | AttestedCredentialData)));

    [Theory]
    [InlineData("")]                             // ED set, nothing follows
    [InlineData("a1")]                           // a map of one pair, truncated
    [InlineData("a101")]                         // the pair's value missing
    [InlineData("a16b6372656450726f74656374")]   // key without value
    [InlineData("a0a0")]                         // two maps
    [InlineData("a000")]                         // trailing byte
    [InlineData("bf0102ff")]                     // indefinite-length map
    [InlineData("a1015f4101ff")]                 // indefinite-length byte string inside
    [InlineData("80")]                           // an array, not a map
    [InlineData("01")]                           // an integer
    [InlineData("c0a0")]                         // a tag before the map
    [InlineData("a101c001")]                     // a tag inside
    [InlineData("a101fc")]                       // reserved ai 28
    [InlineData("a101ff")]                       // a lone break
    [InlineData("a101f801")]                     // simple value below 32 in two bytes
    [InlineData("a1016261ff")]                   // text that is not UTF-8
    [InlineData("a1015a00000010")]               // byte string longer than the data
    [InlineData("a1019bffffffffffffffff")]       // an array announcing 2^64 - 1 items
    [InlineData("bbffffffffffffffff")]           // a map announcing 2^64 - 1 pairs
    [InlineData("a1011b00000000000000")]         // an 8-byte argument cut short
    public void Verify_MalformedExtensionOutputs_IsMalformedExtensions(string extensionsHex) =>
        Assert.Equal(PasskeyResult.MalformedExtensions, Verify(_authenticator.GetAssertion(Challenge, extensions: Convert.FromHexString(extensionsHex))));

    [Fact]
    public void Verify_ExtensionOutputsSeventeenMapsDeep_IsMalformedExtensions() =>
        Assert.Equal(PasskeyResult.MalformedExtensions, Verify(_authenticator.GetAssertion(Challenge, extensions: NestedMaps(17))));

    [Fact]
    public void Verify_BytesAfterTheFixedPartWithoutExtensionFlag_IsMalformedExtensions()
    {
        byte[] authenticatorData = _authenticator.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, 1, [0xA0]);

        Assert.Equal(PasskeyResult.MalformedExtensions, Verify(_authenticator.SignRaw(authenticatorData, Encoding.UTF8.GetBytes(SoftwareAuthenticator.ClientDataJson(Challenge)))));
    }

    // --- Signature ---

    [Theory]
    [InlineData("30")]                 // a tag alone
    [InlineData("3106020101020101")]   // SET, not SEQUENCE
    [InlineData("308106020101020101")] // long-form length
    [InlineData("3007020101020101")]   // length says 7, 6 follow
    [InlineData("300602010102010100")] // a byte after the sequence
    [InlineData("3006020101030101")]   // second element not an INTEGER
    [InlineData("3006020181020101")]   // r negative
    [InlineData("300702020001020101")] // r with a needless leading zero
    [InlineData("3006020001020101")]   // r of length 0
    [InlineData("3003020101")]         // s missing
    [InlineData("3006020101020201")]   // s longer than the sequence
    public void Verify_SignatureThatIsNotStrictDer_IsMalformedSignature(string signatureHex)
    {
        byte[] signature = Convert.FromHexString(signatureHex);
        PasskeyAssertion valid = _authenticator.GetAssertion(Challenge);

        var assertion = new PasskeyAssertion(valid.AuthenticatorData.Span, valid.ClientDataJson.Span, signature);

        Assert.Equal(PasskeyResult.MalformedSignature, Verify(assertion));
    }

    [Fact]
    public void Verify_SignatureWithIntegersTooLongForP256_IsMalformedSignature()
    {
        // r of 33 bytes without the sign-keeping zero, and r of 34 bytes with it.
        byte[] r33 = [0x01, .. new byte[32]];
        byte[] r34 = [0x00, 0x80, .. new byte[32]];
        PasskeyAssertion valid = _authenticator.GetAssertion(Challenge);

        foreach (byte[] r in new[] { r33, r34 })
        {
            byte[] signature = [0x30, (byte)(2 + r.Length + 3), 0x02, (byte)r.Length, .. r, 0x02, 0x01, 0x01];
            Assert.Equal(PasskeyResult.MalformedSignature, Verify(new PasskeyAssertion(valid.AuthenticatorData.Span, valid.ClientDataJson.Span, signature)));
        }
    }

    [Fact]
    public void Verify_SignatureInIeeeP1363Form_IsMalformedSignature()
    {
        PasskeyAssertion valid = _authenticator.GetAssertion(Challenge);
        byte[] message = [.. valid.AuthenticatorData.Span, .. SHA256.HashData(valid.ClientDataJson.Span)];
        byte[] p1363 = _authenticator.Key.SignData(message, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        Assert.Equal(PasskeyResult.MalformedSignature, Verify(new PasskeyAssertion(valid.AuthenticatorData.Span, valid.ClientDataJson.Span, p1363)));
    }

    [Fact]
    public void Verify_SignatureFromAnotherKey_IsBadSignature()
    {
        using var other = new SoftwareAuthenticator(credentialId: _authenticator.CredentialId);

        Assert.Equal(PasskeyResult.BadSignature, Verify(other.GetAssertion(Challenge)));
    }

    [Fact]
    public void Verify_SignatureOverOtherBytes_IsBadSignature()
    {
        PasskeyAssertion first = _authenticator.GetAssertion(Challenge);
        PasskeyAssertion second = _authenticator.GetAssertion(Challenge);

        // The second's signature on the first's authenticator data (another counter): well-formed, not valid.
        Assert.Equal(PasskeyResult.BadSignature, Verify(new PasskeyAssertion(first.AuthenticatorData.Span, first.ClientDataJson.Span, second.Signature.Span)));
    }

    [Theory]
    [InlineData("3006020100020101")] // r = 0
    [InlineData("3006020101020100")] // s = 0
    [InlineData("3026022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101")] // r = n
    public void Verify_WellFormedSignatureOutOfRange_IsBadSignature(string signatureHex)
    {
        PasskeyAssertion valid = _authenticator.GetAssertion(Challenge);

        Assert.Equal(PasskeyResult.BadSignature, Verify(new PasskeyAssertion(valid.AuthenticatorData.Span, valid.ClientDataJson.Span, Convert.FromHexString(signatureHex))));
    }

    // --- Order and the counter ---

    [Fact]
    public void Verify_SeveralFaults_ReportsTheFirstInSpecificationOrder()
    {
        // Wrong type and wrong origin: the type is checked first.
        Assert.Equal(PasskeyResult.WrongType, VerifyClientData(ClientData($"{Type("webauthn.create")},{ChallengeMember()},{OriginMember("https://evil.example.com")}")));

        // Wrong origin and no user verification: client data before authenticator data.
        Assert.Equal(PasskeyResult.OriginMismatch, Verify(_authenticator.GetAssertion(Challenge, origin: "https://evil.example.com", flags: UserPresent)));

        // Wrong RP ID hash and no user presence: the hash first.
        Assert.Equal(PasskeyResult.RpIdHashMismatch, Verify(_authenticator.GetAssertion(Challenge, flags: None, rpIdOverride: "evil.example.com")));

        // Attested data flag and malformed extensions and a bad signature: the flag first.
        PasskeyAssertion attested = _authenticator.GetAssertion(Challenge, flags: SoftwareAuthenticator.DefaultFlags | AttestedCredentialData, extensions: [0xFF]);
        Assert.Equal(PasskeyResult.UnexpectedAttestedData, Verify(new PasskeyAssertion(attested.AuthenticatorData.Span, attested.ClientDataJson.Span, [0x01])));

        // Malformed client data and a short authenticator data: client data first.
        Assert.Equal(PasskeyResult.MalformedClientData, Verify(new PasskeyAssertion([0x01], "{"u8, [0x01])));
    }

    [Fact]
    public void Verify_ARefusedAssertion_StillReportsItsCounter()
    {
        using var authenticator = new SoftwareAuthenticator(counter: 41);

        PasskeyResult result = authenticator.Credential().Verify(authenticator.GetAssertion(Challenge, origin: "https://evil.example.com"), Challenge, out uint signCount);

        Assert.Equal(PasskeyResult.OriginMismatch, result);
        Assert.Equal(42u, signCount);
    }

    [Fact]
    public void Verify_CounterIsBigEndian()
    {
        using var authenticator = new SoftwareAuthenticator(counter: 0x01020303);

        Assert.Equal(PasskeyResult.Ok, authenticator.Credential().Verify(authenticator.GetAssertion(Challenge), Challenge, out uint signCount));
        Assert.Equal(0x01020304u, signCount);
    }

    [Fact]
    public void Verify_AnotherCredentialsRpIdOrOrigin_IsRefused()
    {
        PasskeyAssertion assertion = _authenticator.GetAssertion(Challenge);
        PasskeyCredential otherOrigin = PasskeyCredential.FromCoseKey(_authenticator.CredentialId, _authenticator.ExportCoseKey(), SoftwareAuthenticator.DefaultRpId, "https://shop.example.com");
        PasskeyCredential otherRpId = PasskeyCredential.FromCoseKey(_authenticator.CredentialId, _authenticator.ExportCoseKey(), "example.com", Origin);

        Assert.Equal(PasskeyResult.OriginMismatch, otherOrigin.Verify(assertion, Challenge, out _));
        Assert.Equal(PasskeyResult.RpIdHashMismatch, otherRpId.Verify(assertion, Challenge, out _));
    }

    /// <summary>{1: {1: ... {1: 0}}}: <paramref name="depth"/> maps, one inside the other.</summary>
    internal static byte[] NestedMaps(int depth)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < depth - 1; i++)
        {
            bytes.AddRange([0xA1, 0x01]);
        }

        bytes.AddRange([0xA1, 0x01, 0x00]);
        return [.. bytes];
    }
}
