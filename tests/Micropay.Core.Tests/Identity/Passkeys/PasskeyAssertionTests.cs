using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>The assertion's wire format: the byte table, round trips, trailing bytes, and each <see cref="PasskeyFormatError"/>.</summary>
public sealed class PasskeyAssertionTests
{
    private static readonly byte[] SmallEncoding = Convert.FromHexString(
        "0200" +   // authenticator data length 2
        "0100" +   // clientDataJSON length 1
        "03" +     // signature length 3
        "aabb" +   // authenticator data
        "7b" +     // clientDataJSON
        "010203"); // signature

    private static PasskeyAssertion Small() => new([0xAA, 0xBB], [0x7B], [1, 2, 3]);

    private static byte[] Encoded(PasskeyAssertion assertion)
    {
        byte[] bytes = new byte[assertion.EncodedSize];
        assertion.Encode(bytes);
        return bytes;
    }

    [Fact]
    public void Encode_SmallAssertion_WritesTheByteTable()
    {
        PasskeyAssertion assertion = Small();

        Assert.Equal(11, assertion.EncodedSize);
        Assert.Equal(SmallEncoding, Encoded(assertion));
        Assert.Equal([0xAA, 0xBB], assertion.AuthenticatorData.ToArray());
        Assert.Equal([0x7B], assertion.ClientDataJson.ToArray());
        Assert.Equal([1, 2, 3], assertion.Signature.ToArray());
    }

    [Fact]
    public void TryParse_AnEncodingWithTrailingBytes_ReadsItAndReportsWhatItConsumed()
    {
        byte[] source = [.. SmallEncoding, 0x00, 0x00, 0xFF];

        Assert.True(PasskeyAssertion.TryParse(source, out PasskeyAssertion parsed, out int consumed, out PasskeyFormatError error));

        Assert.Equal(PasskeyFormatError.None, error);
        Assert.Equal(SmallEncoding.Length, consumed);
        Assert.Equal(SmallEncoding, Encoded(parsed));
    }

    [Fact]
    public void TryParse_TheParsedValue_DoesNotShareTheSourceBuffer()
    {
        byte[] source = (byte[])SmallEncoding.Clone();
        Assert.True(PasskeyAssertion.TryParse(source, out PasskeyAssertion parsed, out _, out _));

        source[5] = 0x00;

        Assert.Equal(0xAA, parsed.AuthenticatorData.Span[0]);
    }

    [Fact]
    public void EncodeTryParse_AssertionsAtTheLimits_RoundTrip()
    {
        using var authenticator = new SoftwareAuthenticator();
        PasskeyAssertion real = authenticator.GetAssertion([1, 2, 3]);
        PasskeyAssertion largest = new(new byte[160], new byte[512], new byte[72]);

        foreach (PasskeyAssertion assertion in new[] { real, largest })
        {
            byte[] encoded = Encoded(assertion);
            Assert.True(PasskeyAssertion.TryParse(encoded, out PasskeyAssertion parsed, out int consumed, out _));
            Assert.Equal(encoded.Length, consumed);
            Assert.Equal(encoded, Encoded(parsed));
            Assert.Equal(assertion.AuthenticatorData.ToArray(), parsed.AuthenticatorData.ToArray());
            Assert.Equal(assertion.ClientDataJson.ToArray(), parsed.ClientDataJson.ToArray());
            Assert.Equal(assertion.Signature.ToArray(), parsed.Signature.ToArray());
        }

        Assert.Equal(PasskeyAssertion.MaxEncodedSize, largest.EncodedSize);
        Assert.Equal(749, PasskeyAssertion.MaxEncodedSize);
    }

    [Fact]
    public void EncodeTryParse_ARealAssertion_StillVerifies()
    {
        using var authenticator = new SoftwareAuthenticator();
        byte[] challenge = [9, 8, 7];
        Assert.True(PasskeyAssertion.TryParse(Encoded(authenticator.GetAssertion(challenge)), out PasskeyAssertion parsed, out _, out _));

        Assert.Equal(PasskeyResult.Ok, authenticator.Credential().Verify(parsed, challenge, out _));
    }

    [Theory]
    [InlineData("", PasskeyFormatError.Truncated)]
    [InlineData("02000100", PasskeyFormatError.Truncated)]
    [InlineData("0000010003", PasskeyFormatError.AuthenticatorDataLength)]
    [InlineData("a100010003", PasskeyFormatError.AuthenticatorDataLength)]   // 161
    [InlineData("ffff010003", PasskeyFormatError.AuthenticatorDataLength)]
    [InlineData("0200000003", PasskeyFormatError.ClientDataJsonLength)]
    [InlineData("0200010203", PasskeyFormatError.ClientDataJsonLength)]      // 513
    [InlineData("0200010000", PasskeyFormatError.SignatureLength)]
    [InlineData("0200010049", PasskeyFormatError.SignatureLength)]           // 73
    [InlineData("02000100ff", PasskeyFormatError.SignatureLength)]
    [InlineData("0200010003", PasskeyFormatError.Truncated)]
    [InlineData("0200010003aabb7b0102", PasskeyFormatError.Truncated)]
    [InlineData("0000000000", PasskeyFormatError.AuthenticatorDataLength)]   // default(PasskeyAssertion)'s encoding
    public void TryParse_BrokenEncodings_ReportTheirError(string hex, PasskeyFormatError expected)
    {
        Assert.False(PasskeyAssertion.TryParse(Convert.FromHexString(hex), out PasskeyAssertion assertion, out int consumed, out PasskeyFormatError error));

        Assert.Equal(expected, error);
        Assert.Equal(0, consumed);
        Assert.Equal(0, assertion.AuthenticatorData.Length);
    }

    [Fact]
    public void TryParse_LengthsAtTheirLimits_AreAccepted()
    {
        byte[] source = [0xA0, 0x00, 0x00, 0x02, 0x48, .. new byte[160 + 512 + 72]];

        Assert.True(PasskeyAssertion.TryParse(source, out _, out int consumed, out _));
        Assert.Equal(749, consumed);
    }

    [Theory]
    [InlineData(0, 1, 1, "authenticatorData")]
    [InlineData(161, 1, 1, "authenticatorData")]
    [InlineData(1, 0, 1, "clientDataJson")]
    [InlineData(1, 513, 1, "clientDataJson")]
    [InlineData(1, 1, 0, "signature")]
    [InlineData(1, 1, 73, "signature")]
    public void Constructor_PartEmptyOrTooLong_ThrowsNamingIt(int authenticatorData, int clientDataJson, int signature, string parameter) =>
        Assert.Throws<ArgumentException>(parameter, () => new PasskeyAssertion(new byte[authenticatorData], new byte[clientDataJson], new byte[signature]));

    [Fact]
    public void EncodeTryEncode_ShortBuffer_ThrowOrReturnFalseWritingNothing()
    {
        PasskeyAssertion assertion = Small();
        byte[] buffer = new byte[10];

        Assert.Throws<ArgumentException>("destination", () => assertion.Encode(buffer));
        Assert.False(assertion.TryEncode(buffer, out int written));
        Assert.Equal(0, written);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.True(assertion.TryEncode(new byte[11], out written));
        Assert.Equal(11, written);
    }

    [Fact]
    public void Default_HoldsNothingAndEncodesAsARefusedHeader()
    {
        PasskeyAssertion none = default;

        Assert.Equal(5, none.EncodedSize);
        Assert.True(none.AuthenticatorData.IsEmpty && none.ClientDataJson.IsEmpty && none.Signature.IsEmpty);
        Assert.Equal(new byte[5], Encoded(none));
        Assert.False(PasskeyAssertion.TryParse(Encoded(none), out _, out _, out PasskeyFormatError error));
        Assert.Equal(PasskeyFormatError.AuthenticatorDataLength, error);
    }

    [Fact]
    public void ToString_ShowsLengthsNotContent() =>
        Assert.Equal("PasskeyAssertion { AuthenticatorData = 2 B, ClientDataJson = 1 B, Signature = 3 B }", Small().ToString());
}
