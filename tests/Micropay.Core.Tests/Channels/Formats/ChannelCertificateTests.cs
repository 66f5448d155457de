using System.Buffers.Binary;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// The channel certificate: golden bytes and signature, verification only with the ledger's key, the signature bound
/// to the instance id and the certificate domain, every bit flip refused, and every rule of its byte table.
/// </summary>
public sealed class ChannelCertificateTests
{
    // Generated once from the fixtures (the golden cumulative config, deposit 10,000,000, opened at 1.7e18), then frozen.
    private const string GoldenHex =
        "01" +                                                                  //   0 Version 1
        "00000000000000" +                                                      //   1 Reserved
        "00002a36fe9c9717" +                                                    //   8 OpenedAt 1,700,000,000,000,000,000
        "80969800000000000000000000000000" +                                    //  16 Deposit 10,000,000
        "01010000480300001032547698badcfeefcdab8967452301" +                    //  32 Config: version, mode, reserved, ledger, instance
        "e9030000000000000000000000000000d2070000000000000000000000000000" +    //  56        payer, payee
        "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664" +    //  88        payer key
        "0000b49376e2fa1800a0b83046030000175a0000000000000000000000000000" +    // 120        expiry, settle delay, salt
        "0000000000000000000000000000000000000000000000000000000000000000" +    // 152        chain root
        "000000000000000000000000000000000000000000000000" +                    // 184        unit amount, chain length, reserved
        "cf9b53c70a5064dff3b8818856993718d81017cbc558a78c56068bb83e0c96ec" +    // 208 Signature R
        "a2a5f28e30bf3d0823939426bb32b5186de194b857a636cb574909f7c8e99300";     // 240 Signature S

    private static readonly UInt128 GoldenDeposit = 10_000_000;
    private const ulong GoldenOpenedAt = 1_700_000_000_000_000_000;

    private static ChannelCertificate Golden() => ChannelCertificate.Issue(Operator, Cumulative(), GoldenDeposit, GoldenOpenedAt);

    [Fact]
    public void Issue_GoldenFields_EncodesToTheGoldenBytes()
    {
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(Encoded(Golden())));
        Assert.Equal(ChannelCertificate.Size, GoldenHex.Length / 2);
    }

    [Fact]
    public void GoldenSignature_IsTheLedgersEd25519OverTheCertificateTagTheInstanceIdAndBytes0To207()
    {
        byte[] golden = Convert.FromHexString(GoldenHex);
        byte[] message = new byte[32 + 16 + 208];
        Tag("micropay/channel-certificate/v1").CopyTo(message, 0);
        BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(32), Instance);
        golden.AsSpan(0, 208).CopyTo(message.AsSpan(48));

        Assert.True(NSecVerifies(Operator.VerificationKey.AsSpan(), message, golden.AsSpan(208, 64)));
        Assert.Equal(Encoded(Cumulative()), golden[32..208]);
    }

    [Fact]
    public void TryParse_GoldenBytes_GivesTheFieldsAndVerifiesWithTheLedgersKeyOnly()
    {
        Assert.True(ChannelCertificate.TryParse(Convert.FromHexString(GoldenHex), out ChannelCertificate? certificate, out ChannelFormatError error));

        Assert.Equal(ChannelFormatError.None, error);
        Assert.Equal(GoldenDeposit, certificate.Deposit);
        Assert.Equal(GoldenOpenedAt, certificate.OpenedAt);
        Assert.Equal(Cumulative(), certificate.Config);
        Assert.Equal(Golden(), certificate);
        Assert.True(certificate.Verify(Operator.VerificationKey));
        Assert.False(certificate.Verify(Payer.VerificationKey));
    }

    [Fact]
    public void Verify_SignatureForAnotherInstanceId_Fails()
    {
        // The same 208 bytes signed by the ledger with another instance id in the signed message's prefix.
        byte[] bytes = Convert.FromHexString(GoldenHex);
        SignedMessage.Sign(Operator, DomainTags.ChannelCertificate, Instance + 1, bytes.AsSpan(0, 208), bytes.AsSpan(208));

        Assert.True(ChannelCertificate.TryParse(bytes, out ChannelCertificate? certificate, out _));
        Assert.False(certificate.Verify(Operator.VerificationKey));
    }

    [Fact]
    public void Verify_ConfigOfAnotherInstance_SignedForIt_VerifiesAndNamesThatInstance()
    {
        // What Verify does not check: which instance. A certificate for another instance verifies; the payee compares
        // Config.InstanceId with the instance it expects.
        ChannelConfig other = ChannelConfig.CreateCumulative(Instance + 1, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt);
        ChannelCertificate certificate = ChannelCertificate.Issue(Operator, other, GoldenDeposit, GoldenOpenedAt);

        Assert.True(certificate.Verify(Operator.VerificationKey));
        Assert.NotEqual(Instance, certificate.Config.InstanceId);
    }

    [Theory]
    [InlineData("micropay/voucher/v1")]
    [InlineData("micropay/channel-open/v1")]
    [InlineData("micropay/channel/v1")]
    public void Verify_SignatureOverTheSameBytesWithAnotherDomainTag_Fails(string tag)
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        SignedMessage.Sign(Operator, Tag(tag), Instance, bytes.AsSpan(0, 208), bytes.AsSpan(208));

        Assert.True(ChannelCertificate.TryParse(bytes, out ChannelCertificate? certificate, out _));
        Assert.False(certificate.Verify(Operator.VerificationKey));
    }

    [Fact]
    public void EveryBitFlip_OfAValidCertificate_IsRefusedByTryParseOrVerify()
    {
        byte[] golden = Convert.FromHexString(GoldenHex);
        int refused = 0;

        for (int bit = 0; bit < ChannelCertificate.Size * 8; bit++)
        {
            byte[] flipped = (byte[])golden.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));

            if (ChannelCertificate.TryParse(flipped, out ChannelCertificate? certificate, out ChannelFormatError error))
            {
                Assert.False(certificate.Verify(Operator.VerificationKey), $"bit {bit} flipped still verifies");
            }
            else
            {
                Assert.NotEqual(ChannelFormatError.None, error);
            }

            refused++;
        }

        Assert.Equal(272 * 8, refused);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(208)]
    [InlineData(271)]
    [InlineData(273)]
    public void TryParse_NotExactly272Bytes_ReportsWrongLength(int length)
    {
        byte[] bytes = new byte[length];
        Convert.FromHexString(GoldenHex).AsSpan(0, Math.Min(length, 272)).CopyTo(bytes);

        Assert.False(ChannelCertificate.TryParse(bytes, out ChannelCertificate? certificate, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.WrongLength, error);
        Assert.Null(certificate);
    }

    [Theory]
    [InlineData(0, "00", ChannelFormatError.UnknownVersion)]
    [InlineData(0, "02", ChannelFormatError.UnknownVersion)]
    [InlineData(1, "01", ChannelFormatError.ReservedNotZero)]
    [InlineData(4, "10", ChannelFormatError.ReservedNotZero)]
    [InlineData(7, "80", ChannelFormatError.ReservedNotZero)]
    [InlineData(8, "0000000000000000", ChannelFormatError.ZeroOpenedAt)]
    [InlineData(16, "00000000000000000000000000000000", ChannelFormatError.ZeroDeposit)]
    // The embedded config's own rules, reported as its errors.
    [InlineData(32, "02", ChannelFormatError.UnknownVersion)]
    [InlineData(33, "07", ChannelFormatError.UnknownMode)]
    [InlineData(36, "00000000", ChannelFormatError.ZeroLedgerId)]
    [InlineData(40, "00000000000000000000000000000000", ChannelFormatError.ZeroInstanceId)]
    [InlineData(152, "01", ChannelFormatError.ChainFieldsInCumulativeMode)]
    [InlineData(207, "01", ChannelFormatError.ReservedNotZero)]
    public void TryParse_BrokenRule_ReportsItsError(int offset, string replacement, ChannelFormatError expected)
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        Convert.FromHexString(replacement).CopyTo(bytes, offset);

        Assert.False(ChannelCertificate.TryParse(bytes, out ChannelCertificate? certificate, out ChannelFormatError error));
        Assert.Equal(expected, error);
        Assert.Null(certificate);
    }

    [Fact]
    public void Issue_BadArguments_Throw()
    {
        ChannelConfig config = Cumulative();

        Assert.Equal("ledgerKey", Assert.Throws<ArgumentNullException>(() => ChannelCertificate.Issue(null!, config, 1, 1)).ParamName);
        Assert.Equal("config", Assert.Throws<ArgumentNullException>(() => ChannelCertificate.Issue(Operator, null!, 1, 1)).ParamName);
        Assert.Equal("deposit", Assert.Throws<ArgumentException>(() => ChannelCertificate.Issue(Operator, config, UInt128.Zero, 1)).ParamName);
        Assert.Equal("openedAt", Assert.Throws<ArgumentException>(() => ChannelCertificate.Issue(Operator, config, 1, 0)).ParamName);
        Assert.Equal("ledgerKey", Assert.Throws<ArgumentNullException>(() => Golden().Verify(null!)).ParamName);
    }

    [Fact]
    public void Encode_ShortBuffer_ThrowsAndTryEncodeWritesNothing()
    {
        ChannelCertificate certificate = Golden();
        byte[] shortBuffer = new byte[271];

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => certificate.Encode(shortBuffer)).ParamName);
        Assert.False(certificate.TryEncode(shortBuffer, out int written));
        Assert.Equal(0, written);
        Assert.All(shortBuffer, b => Assert.Equal(0, b));

        byte[] roomy = new byte[300];
        Assert.True(certificate.TryEncode(roomy, out written));
        Assert.Equal(272, written);
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(roomy.AsSpan(0, 272)));
    }

    [Fact]
    public void CopySignatureTo_Any_CopiesBytes208To271()
    {
        byte[] signature = new byte[64];

        Golden().CopySignatureTo(signature);

        Assert.Equal(GoldenHex[416..], Convert.ToHexStringLower(signature));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Golden().CopySignatureTo(new byte[63])).ParamName);
    }

    [Fact]
    public void Equals_SameBytes_AreEqualAndAnotherDepositIsNot()
    {
        ChannelCertificate a = Golden();
        ChannelCertificate b = Golden();
        ChannelCertificate c = ChannelCertificate.Issue(Operator, Cumulative(), GoldenDeposit + 1, GoldenOpenedAt);

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals(null));
        Assert.False(a.Equals((object)"certificate"));
    }

    [Fact]
    public void ToString_Any_ShowsTheChannelIdInHex()
    {
        Assert.Equal(
            "ChannelCertificate { Channel = ffffffff34f4fe8176dfa4bf5bca3f37, Instance = 0123456789abcdeffedcba9876543210, Deposit = 10000000, OpenedAt = 1700000000000000000 }",
            Golden().ToString());
    }
}
