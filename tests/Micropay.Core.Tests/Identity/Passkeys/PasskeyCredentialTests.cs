using System.Security.Cryptography;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// Registering a passkey: the three factories (raw x || y, COSE_Key, SubjectPublicKeyInfo), every rule they check with
/// its own <see cref="PasskeyKeyError"/>, the limits, and the signature counter rule.
/// </summary>
public sealed class PasskeyCredentialTests : IDisposable
{
    private const string RpId = SoftwareAuthenticator.DefaultRpId;
    private const string Origin = SoftwareAuthenticator.DefaultOrigin;

    private readonly SoftwareAuthenticator _authenticator = new();

    public void Dispose() => _authenticator.Dispose();

    private byte[] X => _authenticator.PublicKey64()[..32];

    private byte[] Y => _authenticator.PublicKey64()[32..];

    private static PasskeyKeyError CoseError(byte[] coseKey)
    {
        bool ok = PasskeyCredential.TryFromCoseKey([1], coseKey, RpId, Origin, out PasskeyCredential? credential, out PasskeyKeyError error);
        Assert.Equal(ok, credential is not null);
        Assert.Equal(ok, error == PasskeyKeyError.None);
        return error;
    }

    private static PasskeyKeyError SpkiError(byte[] spki)
    {
        bool ok = PasskeyCredential.TryFromSubjectPublicKeyInfo([1], spki, RpId, Origin, out PasskeyCredential? credential, out PasskeyKeyError error);
        Assert.Equal(ok, credential is not null);
        return error;
    }

    /// <summary>A CBOR map from integer labels to already-encoded values, in the order given.</summary>
    private static byte[] CoseMap(params (int Label, byte[] Value)[] entries)
    {
        var bytes = new List<byte> { (byte)(0xA0 | entries.Length) };
        foreach ((int label, byte[] value) in entries)
        {
            bytes.Add(label >= 0 ? (byte)label : (byte)(0x20 | (-1 - label)));
            bytes.AddRange(value);
        }

        return [.. bytes];
    }

    private static byte[] Int(int value) => value >= 0 ? [(byte)value] : [(byte)(0x20 | (-1 - value))];

    private static byte[] Bytes(byte[] value) => [0x58, (byte)value.Length, .. value];

    private byte[] ValidCose(Func<(int Label, byte[] Value)[], (int Label, byte[] Value)[]>? change = null)
    {
        (int, byte[])[] entries = [(1, Int(2)), (3, Int(-7)), (-1, Int(1)), (-2, Bytes(X)), (-3, Bytes(Y))];
        return CoseMap(change is null ? entries : change(entries));
    }

    // --- The three factories agree ---

    [Fact]
    public void Factories_TheSameKeyInEachForm_GiveTheSameCredential()
    {
        byte[] publicKey = _authenticator.PublicKey64();
        PasskeyCredential raw = PasskeyCredential.Create(_authenticator.CredentialId, publicKey, RpId, Origin);
        PasskeyCredential cose = PasskeyCredential.FromCoseKey(_authenticator.CredentialId, _authenticator.ExportCoseKey(), RpId, Origin);
        PasskeyCredential spki = PasskeyCredential.FromSubjectPublicKeyInfo(_authenticator.CredentialId, _authenticator.ExportSpki(), RpId, Origin);
        byte[] challenge = [1, 2, 3];
        PasskeyAssertion assertion = _authenticator.GetAssertion(challenge);

        foreach (PasskeyCredential credential in new[] { raw, cose, spki })
        {
            byte[] copied = new byte[PasskeyCredential.PublicKeySize + 1];
            credential.CopyPublicKeyTo(copied);
            Assert.Equal(publicKey, copied[..PasskeyCredential.PublicKeySize]);
            Assert.Equal(0, copied[^1]);
            Assert.Equal(_authenticator.CredentialId, credential.CredentialId.ToArray());
            Assert.Equal(RpId, credential.RelyingPartyId);
            Assert.Equal(Origin, credential.Origin);
            Assert.Equal(PasskeyResult.Ok, credential.Verify(assertion, challenge, out _));
        }
    }

    [Fact]
    public void FromCoseKey_EntriesInAnotherOrderAndNonMinimalHeads_IsAccepted()
    {
        byte[] reordered = ValidCose(e => [e[4], e[2], e[0], e[3], e[1]]);
        byte[] nonMinimal = [0xA5, 0x18, 0x01, 0x02, 0x03, 0x38, 0x06, 0x20, 0x01, 0x21, 0x59, 0x00, 0x20, .. X, 0x22, 0x58, 0x20, .. Y];

        Assert.Equal(PasskeyKeyError.None, CoseError(reordered));
        Assert.Equal(PasskeyKeyError.None, CoseError(nonMinimal));
    }

    [Fact]
    public void CopyPublicKeyTo_ShortBuffer_Throws() =>
        Assert.Throws<ArgumentException>("destination", () => _authenticator.Credential().CopyPublicKeyTo(new byte[63]));

    [Fact]
    public void ToString_ShowsTheRpIdAndTheCredentialIdsFirstBytes()
    {
        PasskeyCredential shortId = PasskeyCredential.FromCoseKey([0xAB, 0xCD], _authenticator.ExportCoseKey(), RpId, Origin);
        PasskeyCredential longId = PasskeyCredential.FromCoseKey(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray(), _authenticator.ExportCoseKey(), RpId, Origin);

        Assert.Equal("PasskeyCredential { RelyingPartyId = pay.example.com, CredentialId = abcd }", shortId.ToString());
        Assert.Equal("PasskeyCredential { RelyingPartyId = pay.example.com, CredentialId = 0102030405060708... }", longId.ToString());
    }

    // --- COSE_Key ---

    [Fact]
    public void FromCoseKey_CurveP384_IsWrongCurve()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        ECParameters parameters = p384.ExportParameters(false);
        byte[] cose = CoseMap((1, Int(2)), (3, Int(-35)), (-1, Int(2)), (-2, Bytes(parameters.Q.X!)), (-3, Bytes(parameters.Q.Y!)));

        // alg -35 (ES384) would be reported first; with alg -7 and crv 2, the curve is the fault.
        Assert.Equal(PasskeyKeyError.UnsupportedAlgorithm, CoseError(cose));
        Assert.Equal(PasskeyKeyError.WrongCurve, CoseError(CoseMap((1, Int(2)), (3, Int(-7)), (-1, Int(2)), (-2, Bytes(parameters.Q.X!)), (-3, Bytes(parameters.Q.Y!)))));
    }

    [Theory]
    [InlineData(2)]  // P-384
    [InlineData(3)]  // P-521
    [InlineData(8)]  // secp256k1
    [InlineData(0)]
    public void FromCoseKey_AnotherCurve_IsWrongCurve(int crv) =>
        Assert.Equal(PasskeyKeyError.WrongCurve, CoseError(ValidCose(e => [e[0], e[1], (-1, Int(crv)), e[3], e[4]])));

    [Theory]
    [InlineData(-8)]   // EdDSA
    [InlineData(-35)]  // ES384
    [InlineData(-257)] // RS256 (encoded below as a two-byte negative)
    [InlineData(7)]
    public void FromCoseKey_AnotherAlgorithm_IsUnsupportedAlgorithm(int alg)
    {
        byte[] encoded = alg == -257 ? [0x39, 0x01, 0x00] : Int(alg);

        Assert.Equal(PasskeyKeyError.UnsupportedAlgorithm, CoseError(ValidCose(e => [e[0], (3, encoded), e[2], e[3], e[4]])));
    }

    [Fact]
    public void FromCoseKey_OkpEd25519Key_IsUnsupportedKeyType()
    {
        // {1: 1 (OKP), 3: -8 (EdDSA), -1: 6 (Ed25519), -2: x}
        byte[] cose = CoseMap((1, Int(1)), (3, Int(-8)), (-1, Int(6)), (-2, Bytes(new byte[32])));

        Assert.Equal(PasskeyKeyError.UnsupportedKeyType, CoseError(cose));
    }

    [Fact]
    public void FromCoseKey_RsaKey_IsUnsupportedKeyType()
    {
        // {1: 3 (RSA), 3: -257 (RS256), -1: n (bytes), -2: e (bytes)}: label -1 holds bytes, yet the type is what is reported.
        byte[] cose = [0xA4, 0x01, 0x03, 0x03, 0x39, 0x01, 0x00, 0x20, 0x58, 0x20, .. new byte[32], 0x21, 0x43, 0x01, 0x00, 0x01];

        Assert.Equal(PasskeyKeyError.UnsupportedKeyType, CoseError(cose));
    }

    [Fact]
    public void FromCoseKey_BrokenCbor_IsMalformedCoseKey()
    {
        byte[] valid = _authenticator.ExportCoseKey();
        byte[][] broken =
        [
            [],
            valid[..^1],                              // truncated
            [.. valid, 0x00],                         // trailing byte
            [0xBF, .. valid[1..], 0xFF],              // indefinite-length map
            [0x85, .. valid[1..]],                    // an array, not a map
            [0xA6, .. valid[1..]],                    // announces six pairs, has five
            [0xC0, .. valid],                         // tagged
            ValidCose(e => [.. e, (1, Int(2))]),      // kty twice (six pairs)
            ValidCose(e => [.. e, (2, Bytes([1]))]),  // an extra label (kid)
            ValidCose(e => [e[0], e[1], e[2], e[3]]), // y missing
            ValidCose(e => [e[0], e[2], e[3], e[4]]), // alg missing
            ValidCose(e => [e[1], e[2], e[3], e[4]]), // kty missing
            ValidCose(e => [e[0], e[1], e[3], e[4]]), // crv missing
            ValidCose(e => [e[0], e[1], e[2], (-2, Bytes(X[..31])), e[4]]),            // x of 31 bytes
            ValidCose(e => [e[0], e[1], e[2], e[3], (-3, Bytes([.. Y, 0]))]),          // y of 33 bytes
            ValidCose(e => [e[0], e[1], e[2], e[3], (-3, [0xF5])]),                    // y as a boolean (compressed form)
            ValidCose(e => [e[0], e[1], e[2], (-2, [0x78, 0x20, .. new byte[32]]), e[4]]), // x as text
            ValidCose(e => [(1, [0x62, 0x45, 0x43]), e[1], e[2], e[3], e[4]]),         // kty as text "EC"
            ValidCose(e => [e[0], (3, [0x65, 0x45, 0x53, 0x32, 0x35, 0x36]), e[2], e[3], e[4]]), // alg as text "ES256"
        ];

        for (int i = 0; i < broken.Length; i++)
        {
            Assert.True(CoseError(broken[i]) == PasskeyKeyError.MalformedCoseKey, $"case {i}: {CoseError(broken[i])}");
        }
    }

    [Fact]
    public void FromCoseKey_TextLabelOrByteStringLabel_IsMalformedCoseKey()
    {
        byte[] textLabel = [0xA6, .. _authenticator.ExportCoseKey()[1..], 0x63, 0x6B, 0x69, 0x64, 0x01]; // + "kid": 1
        byte[] bytesLabel = [0xA6, .. _authenticator.ExportCoseKey()[1..], 0x41, 0x01, 0x01];            // + h'01': 1

        Assert.Equal(PasskeyKeyError.MalformedCoseKey, CoseError(textLabel));
        Assert.Equal(PasskeyKeyError.MalformedCoseKey, CoseError(bytesLabel));
    }

    [Fact]
    public void FromCoseKey_PointNotOnTheCurve_IsMalformedPublicKey()
    {
        byte[] y = Y;
        y[31] ^= 1;

        Assert.Equal(PasskeyKeyError.MalformedPublicKey, CoseError(ValidCose(e => [e[0], e[1], e[2], e[3], (-3, Bytes(y))])));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, CoseError(ValidCose(e => [e[0], e[1], e[2], (-2, Bytes(new byte[32])), (-3, Bytes(new byte[32]))])));
    }

    // --- SubjectPublicKeyInfo ---

    [Fact]
    public void FromSubjectPublicKeyInfo_P384Key_IsWrongCurve()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Equal(PasskeyKeyError.WrongCurve, SpkiError(p384.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void FromSubjectPublicKeyInfo_ExplicitP256Parameters_IsWrongCurve()
    {
        using var explicitKey = ECDsa.Create(_authenticator.Key.ExportExplicitParameters(false));

        Assert.Equal(PasskeyKeyError.WrongCurve, SpkiError(explicitKey.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void FromSubjectPublicKeyInfo_UnknownNamedCurve_IsWrongCurveWithoutThrowing()
    {
        // Found by PasskeyProperties: a P-256 SPKI whose curve OID has one byte changed (1.2.840... became 1.2.2120...).
        // The runtime throws PlatformNotSupportedException for a curve it does not know, not CryptographicException.
        byte[] spki = _authenticator.ExportSpki();
        int oid = spki.AsSpan().IndexOf(Convert.FromHexString("2a8648ce3d030107"));
        Assert.True(oid > 0);
        spki[oid + 1] = 0x90;

        Assert.Equal(PasskeyKeyError.WrongCurve, SpkiError(spki));
    }

    [Fact]
    public void FromSubjectPublicKeyInfo_BrokenOrForeignBytes_IsMalformedPublicKey()
    {
        byte[] valid = _authenticator.ExportSpki();
        using var rsa = RSA.Create(2048);
        byte[] offCurve = (byte[])valid.Clone();
        offCurve[^1] ^= 1;

        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError([]));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError([0x30, 0x00]));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError(valid[..^1]));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError([.. valid, 0x00]));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError(rsa.ExportSubjectPublicKeyInfo()));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError(offCurve));
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, SpkiError(_authenticator.ExportCoseKey()));
    }

    // --- Raw keys ---

    [Fact]
    public void TryCreate_WrongLengthOrOffCurve_IsMalformedPublicKey()
    {
        byte[] publicKey = _authenticator.PublicKey64();
        byte[] offCurve = (byte[])publicKey.Clone();
        offCurve[63] ^= 1;
        byte[] xIsP = [.. Convert.FromHexString("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"), .. publicKey[32..]];

        byte[][] bad = [publicKey[..63], [.. publicKey, 0], [0x04, .. publicKey[..63]], offCurve, new byte[64], xIsP, []];
        foreach (byte[] key in bad)
        {
            Assert.False(PasskeyCredential.TryCreate([1], key, RpId, Origin, out PasskeyCredential? credential, out PasskeyKeyError error));
            Assert.Null(credential);
            Assert.Equal(PasskeyKeyError.MalformedPublicKey, error);
        }
    }

    // --- Identity limits ---

    [Theory]
    [InlineData(0, PasskeyKeyError.CredentialIdLength)]
    [InlineData(1, PasskeyKeyError.None)]
    [InlineData(255, PasskeyKeyError.None)]
    [InlineData(256, PasskeyKeyError.CredentialIdLength)]
    public void TryCreate_CredentialIdLength_IsCheckedAtItsLimits(int length, PasskeyKeyError expected)
    {
        PasskeyCredential.TryCreate(new byte[length], _authenticator.PublicKey64(), RpId, Origin, out _, out PasskeyKeyError error);

        Assert.Equal(expected, error);
    }

    public static TheoryData<string?, PasskeyKeyError> RelyingPartyIds => new()
    {
        { null, PasskeyKeyError.RelyingPartyIdInvalid },
        { string.Empty, PasskeyKeyError.RelyingPartyIdInvalid },
        { "a", PasskeyKeyError.None },
        { new string('a', 128), PasskeyKeyError.None },
        { new string('a', 129), PasskeyKeyError.RelyingPartyIdInvalid },
        { "pay example.com", PasskeyKeyError.RelyingPartyIdInvalid },
        { "pay.example.com\n", PasskeyKeyError.RelyingPartyIdInvalid },
        { "pay.example.com\0", PasskeyKeyError.RelyingPartyIdInvalid },
        { "pay.exämple.com", PasskeyKeyError.RelyingPartyIdInvalid },
        { "pay.example.com\u007f", PasskeyKeyError.RelyingPartyIdInvalid },
    };

    [Theory]
    [MemberData(nameof(RelyingPartyIds))]
    public void TryCreate_RelyingPartyId_MustBeShortVisibleAscii(string? rpId, PasskeyKeyError expected)
    {
        PasskeyCredential.TryCreate([1], _authenticator.PublicKey64(), rpId!, Origin, out _, out PasskeyKeyError error);

        Assert.Equal(expected, error);
    }

    public static TheoryData<string?, PasskeyKeyError> Origins => new()
    {
        { null, PasskeyKeyError.OriginInvalid },
        { string.Empty, PasskeyKeyError.OriginInvalid },
        { "https://" + new string('a', 184), PasskeyKeyError.None },
        { "https://" + new string('a', 185), PasskeyKeyError.OriginInvalid },
        { "https://pay.example.com ", PasskeyKeyError.OriginInvalid },
        { "https://pay.example.com\t", PasskeyKeyError.OriginInvalid },
        { "https://päy.example.com", PasskeyKeyError.OriginInvalid },
    };

    [Theory]
    [MemberData(nameof(Origins))]
    public void TryCreate_Origin_MustBeShortVisibleAscii(string? origin, PasskeyKeyError expected)
    {
        PasskeyCredential.TryCreate([1], _authenticator.PublicKey64(), RpId, origin!, out _, out PasskeyKeyError error);

        Assert.Equal(expected, error);
    }

    [Fact]
    public void Factories_SeveralFaults_ReportCredentialIdThenRpIdThenOriginThenKey()
    {
        byte[] badKey = new byte[64];

        PasskeyCredential.TryCreate([], badKey, string.Empty, string.Empty, out _, out PasskeyKeyError first);
        PasskeyCredential.TryFromCoseKey([1], [0xFF], string.Empty, string.Empty, out _, out PasskeyKeyError second);
        PasskeyCredential.TryFromSubjectPublicKeyInfo([1], [0xFF], RpId, string.Empty, out _, out PasskeyKeyError third);
        PasskeyCredential.TryCreate([1], badKey, RpId, Origin, out _, out PasskeyKeyError fourth);

        Assert.Equal(PasskeyKeyError.CredentialIdLength, first);
        Assert.Equal(PasskeyKeyError.RelyingPartyIdInvalid, second);
        Assert.Equal(PasskeyKeyError.OriginInvalid, third);
        Assert.Equal(PasskeyKeyError.MalformedPublicKey, fourth);
    }

    [Fact]
    public void ThrowingFactories_NameTheParameterAndTheError()
    {
        byte[] key = _authenticator.PublicKey64();

        AssertThrows("credentialId", PasskeyKeyError.CredentialIdLength, () => PasskeyCredential.Create([], key, RpId, Origin));
        AssertThrows("relyingPartyId", PasskeyKeyError.RelyingPartyIdInvalid, () => PasskeyCredential.Create([1], key, "a b", Origin));
        AssertThrows("origin", PasskeyKeyError.OriginInvalid, () => PasskeyCredential.Create([1], key, RpId, string.Empty));
        AssertThrows("publicKey64", PasskeyKeyError.MalformedPublicKey, () => PasskeyCredential.Create([1], new byte[64], RpId, Origin));
        AssertThrows("coseKey", PasskeyKeyError.UnsupportedAlgorithm, () => PasskeyCredential.FromCoseKey([1], ValidCose(e => [e[0], (3, Int(-8)), e[2], e[3], e[4]]), RpId, Origin));
        AssertThrows("coseKey", PasskeyKeyError.MalformedCoseKey, () => PasskeyCredential.FromCoseKey([1], [0xA0], RpId, Origin));
        AssertThrows("spki", PasskeyKeyError.MalformedPublicKey, () => PasskeyCredential.FromSubjectPublicKeyInfo([1], [0x30], RpId, Origin));
        AssertThrows("relyingPartyId", PasskeyKeyError.RelyingPartyIdInvalid, () => PasskeyCredential.FromSubjectPublicKeyInfo([1], _authenticator.ExportSpki(), null!, Origin));

        static void AssertThrows(string parameter, PasskeyKeyError error, Action create)
        {
            ArgumentException exception = Assert.Throws<ArgumentException>(parameter, create);
            Assert.Contains(error.ToString(), exception.Message, StringComparison.Ordinal);
        }
    }

    // --- The signature counter (WebAuthn Level 3 section 7.2) ---

    [Theory]
    [InlineData(0u, 0u, true)]   // an authenticator without a counter
    [InlineData(5u, 6u, true)]
    [InlineData(0u, 1u, true)]   // the first counted use
    [InlineData(5u, 100u, true)] // counters may jump (a global counter, other relying parties)
    [InlineData(uint.MaxValue - 1, uint.MaxValue, true)]
    [InlineData(6u, 6u, false)]  // not increasing: a possible clone
    [InlineData(6u, 5u, false)]
    [InlineData(3u, 0u, false)]  // a counter that dropped to 0
    [InlineData(uint.MaxValue, 0u, false)]
    [InlineData(uint.MaxValue, uint.MaxValue, false)]
    public void IsSignCountAcceptable_FollowsTheSpecification(uint stored, uint received, bool acceptable) =>
        Assert.Equal(acceptable, PasskeyCredential.IsSignCountAcceptable(stored, received));
}
