using System.Buffers.Binary;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// The voucher's wire format and signature: golden bytes, every rule of the byte table, every single-bit flip refused,
/// and the signature bound to the instance id and the voucher domain.
/// </summary>
public sealed class VoucherTests
{
    // Generated once from the fixed payer seed and fields below, then frozen: any change to the format or to the signed
    // message changes these bytes.
    private const string GoldenHex =
        "01" +                                                                  //   0 Version 1
        "01" +                                                                  //   1 Kind 1, cumulative
        "0000" +                                                                //   2 Reserved
        "07000000" +                                                            //   4 Lane 7
        "2a00000000000000" +                                                    //   8 Sequence 42
        "373fca5bbfa4df7681fef434ffffffff" +                                    //  16 ChannelId ffffffff34f4fe8176dfa4bf5bca3f37
        "87d61200000000000000000000000000" +                                    //  32 CumulativeAmount 1,234,567
        "0000f323845bd718" +                                                    //  48 ValidUntil 1,790,000,000,000,000,000
        "0000000000000000" +                                                    //  56 Reserved
        "c9fed12316e25fb9580c37e569a6814b5bf200060bada07c44ba5002390a7a47" +    //  64 Signature R
        "5903d3998a3de4f7a887eb8861f890f00b5bd12d874df5780db4a67a94122704";     //  96 Signature S

    private static readonly UInt128 GoldenChannel = UInt128.Parse("ffffffff34f4fe8176dfa4bf5bca3f37", System.Globalization.NumberStyles.HexNumber, null);
    private const uint GoldenLane = 7;
    private const ulong GoldenSequence = 42;
    private static readonly UInt128 GoldenAmount = 1_234_567;
    private const ulong GoldenValidUntil = 1_790_000_000_000_000_000;

    private static Voucher Golden() => Voucher.Sign(Payer, Instance, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil);

    [Fact]
    public void Sign_GoldenFields_EncodesToTheGoldenBytes()
    {
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(Encoded(Golden())));
        Assert.Equal(Voucher.Size, GoldenHex.Length / 2);
    }

    [Fact]
    public void GoldenSignature_IsEd25519OverTheVoucherTagTheInstanceIdAndBytes0To63()
    {
        // The signed message, built here field by field, checked with NSec directly.
        byte[] golden = Convert.FromHexString(GoldenHex);
        byte[] message = new byte[32 + 16 + 64];
        Tag("micropay/voucher/v1").CopyTo(message, 0);
        BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(32), Instance);
        golden.AsSpan(0, 64).CopyTo(message.AsSpan(48));

        Assert.True(NSecVerifies(Payer.VerificationKey.AsSpan(), message, golden.AsSpan(64, 64)));
    }

    [Fact]
    public void TryParse_GoldenBytes_GivesTheGoldenFieldsAndVerifies()
    {
        Assert.True(Voucher.TryParse(Convert.FromHexString(GoldenHex), out Voucher voucher, out ChannelFormatError error));

        Assert.Equal(ChannelFormatError.None, error);
        Assert.Equal(GoldenLane, voucher.Lane);
        Assert.Equal(GoldenSequence, voucher.Sequence);
        Assert.Equal(GoldenChannel, voucher.ChannelId);
        Assert.Equal(GoldenAmount, voucher.CumulativeAmount);
        Assert.Equal(GoldenValidUntil, voucher.ValidUntil);
        Assert.Equal(Golden(), voucher);
        Assert.True(voucher.Verify(Payer.VerificationKey, Instance));
    }

    [Fact]
    public void GoldenChannel_IsTheGoldenCumulativeConfigsId()
    {
        Assert.Equal(Cumulative().Id, GoldenChannel);
    }

    [Fact]
    public void Verify_AnotherInstanceId_Fails()
    {
        Voucher voucher = Golden();

        Assert.True(voucher.Verify(Payer.VerificationKey, Instance));
        Assert.False(voucher.Verify(Payer.VerificationKey, Instance + 1));
        Assert.False(voucher.Verify(Payer.VerificationKey, UInt128.Zero));
        Assert.False(voucher.Verify(Payer.VerificationKey, Instance ^ (UInt128.One << 100)));
    }

    [Fact]
    public void Verify_AnotherKey_Fails()
    {
        Assert.False(Golden().Verify(Operator.VerificationKey, Instance));
    }

    [Theory]
    [InlineData("micropay/channel-close/v1")]
    [InlineData("micropay/channel-open/v1")]
    [InlineData("micropay/channel-certificate/v1")]
    [InlineData("micropay/voucher/v2")]
    public void Verify_SignatureOverTheSameBytesWithAnotherDomainTag_Fails(string tag)
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        byte[] signature = new byte[64];

        SignedMessage.Sign(Payer, Tag(tag), Instance, bytes.AsSpan(0, 64), signature);
        signature.CopyTo(bytes, 64);

        Assert.True(Voucher.TryParse(bytes, out Voucher voucher, out _));
        Assert.False(voucher.Verify(Payer.VerificationKey, Instance));

        // The control: the same construction with the voucher tag verifies.
        SignedMessage.Sign(Payer, Tag("micropay/voucher/v1"), Instance, bytes.AsSpan(0, 64), signature);
        signature.CopyTo(bytes, 64);
        Assert.True(Voucher.TryParse(bytes, out voucher, out _));
        Assert.True(voucher.Verify(Payer.VerificationKey, Instance));
    }

    [Fact]
    public void EveryBitFlip_OfAValidVoucher_IsRefusedByTryParseOrVerify()
    {
        byte[] golden = Convert.FromHexString(GoldenHex);
        int refusedByParse = 0;
        int refusedByVerify = 0;

        for (int bit = 0; bit < Voucher.Size * 8; bit++)
        {
            byte[] flipped = (byte[])golden.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));

            if (!Voucher.TryParse(flipped, out Voucher voucher, out ChannelFormatError error))
            {
                Assert.NotEqual(ChannelFormatError.None, error);
                refusedByParse++;
            }
            else
            {
                Assert.False(voucher.Verify(Payer.VerificationKey, Instance), $"bit {bit} flipped still verifies");
                refusedByVerify++;
            }
        }

        Assert.Equal(1024, refusedByParse + refusedByVerify);
        // Version, kind and reserved bytes (2, 3, 56..63): 12 bytes whose every flip is a format error.
        Assert.True(refusedByParse >= 12 * 8, $"{refusedByParse} refused by parse");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(127)]
    [InlineData(129)]
    [InlineData(256)]
    public void TryParse_NotExactly128Bytes_ReportsWrongLength(int length)
    {
        byte[] bytes = new byte[length];
        Convert.FromHexString(GoldenHex).AsSpan(0, Math.Min(length, 128)).CopyTo(bytes);

        Assert.False(Voucher.TryParse(bytes, out Voucher voucher, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.WrongLength, error);
        Assert.Equal(default, voucher);
    }

    [Theory]
    [InlineData(0, "00", ChannelFormatError.UnknownVersion)]
    [InlineData(0, "02", ChannelFormatError.UnknownVersion)]
    [InlineData(0, "ff", ChannelFormatError.UnknownVersion)]
    [InlineData(1, "00", ChannelFormatError.UnknownKind)]
    [InlineData(1, "02", ChannelFormatError.UnknownKind)]
    [InlineData(1, "ff", ChannelFormatError.UnknownKind)]
    [InlineData(2, "01", ChannelFormatError.ReservedNotZero)]
    [InlineData(3, "80", ChannelFormatError.ReservedNotZero)]
    [InlineData(56, "01", ChannelFormatError.ReservedNotZero)]
    [InlineData(63, "80", ChannelFormatError.ReservedNotZero)]
    [InlineData(8, "0000000000000000", ChannelFormatError.ZeroSequence)]
    [InlineData(16, "00000000000000000000000000000000", ChannelFormatError.ZeroChannelId)]
    [InlineData(32, "00000000000000000000000000000000", ChannelFormatError.ZeroAmount)]
    [InlineData(48, "0000000000000000", ChannelFormatError.ZeroValidUntil)]
    public void TryParse_BrokenRule_ReportsItsError(int offset, string replacement, ChannelFormatError expected)
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        Convert.FromHexString(replacement).CopyTo(bytes, offset);

        Assert.False(Voucher.TryParse(bytes, out Voucher voucher, out ChannelFormatError error));
        Assert.Equal(expected, error);
        Assert.Equal(default, voucher);
    }

    [Fact]
    public void TryParse_SeveralBrokenRules_ReportsTheFirstInTableOrder()
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        bytes.AsSpan(48, 8).Clear();  // valid-until 0
        bytes.AsSpan(16, 16).Clear(); // channel 0
        Assert.False(Voucher.TryParse(bytes, out _, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.ZeroChannelId, error);

        bytes[60] = 1;                // reserved
        Assert.False(Voucher.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.ReservedNotZero, error);

        bytes[1] = 9;                 // kind
        Assert.False(Voucher.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.UnknownKind, error);

        bytes[0] = 9;                 // version
        Assert.False(Voucher.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.UnknownVersion, error);
    }

    [Fact]
    public void TryParse_AnyLaneAndAnySignatureBytes_IsAcceptedAsAFormat()
    {
        // Lane has no rule and the signature is Verify's business, not the parser's.
        byte[] bytes = Convert.FromHexString(GoldenHex);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), uint.MaxValue);
        bytes.AsSpan(64).Fill(0xFF);

        Assert.True(Voucher.TryParse(bytes, out Voucher voucher, out _));
        Assert.Equal(uint.MaxValue, voucher.Lane);
        Assert.False(voucher.Verify(Payer.VerificationKey, Instance));
    }

    public static readonly TheoryData<string, Func<Voucher>> ZeroFields = new()
    {
        { "instanceId", () => Voucher.Sign(Payer, UInt128.Zero, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil) },
        { "channelId", () => Voucher.Sign(Payer, Instance, UInt128.Zero, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil) },
        { "sequence", () => Voucher.Sign(Payer, Instance, GoldenChannel, GoldenLane, 0, GoldenAmount, GoldenValidUntil) },
        { "cumulativeAmount", () => Voucher.Sign(Payer, Instance, GoldenChannel, GoldenLane, GoldenSequence, UInt128.Zero, GoldenValidUntil) },
        { "validUntil", () => Voucher.Sign(Payer, Instance, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, 0) },
    };

    [Theory]
    [MemberData(nameof(ZeroFields))]
    public void Sign_ZeroField_ThrowsArgumentExceptionNamingIt(string parameter, Func<Voucher> sign)
    {
        var e = Assert.Throws<ArgumentException>(() => sign());
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void Sign_NullKey_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Voucher.Sign(null!, Instance, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil));
        Assert.Throws<ArgumentNullException>(() => Golden().Verify(null!, Instance));
    }

    [Fact]
    public void Sign_DisposedKey_ThrowsObjectDisposedException()
    {
        SigningKey key = SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Voucher.Sign(key, Instance, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil));
    }

    [Fact]
    public void Sign_ExtremeValues_RoundTrip()
    {
        Voucher voucher = Voucher.Sign(Payer, UInt128.MaxValue, UInt128.MaxValue, uint.MaxValue, ulong.MaxValue, UInt128.MaxValue, ulong.MaxValue);

        Assert.True(Voucher.TryParse(Encoded(voucher), out Voucher parsed, out _));
        Assert.Equal(voucher, parsed);
        Assert.Equal(ulong.MaxValue, parsed.Sequence);
        Assert.Equal(UInt128.MaxValue, parsed.CumulativeAmount);
        Assert.True(parsed.Verify(Payer.VerificationKey, UInt128.MaxValue));
    }

    [Fact]
    public void Default_NeverVerifiesAndItsEncodingIsRefused()
    {
        Voucher empty = default;

        Assert.False(empty.Verify(Payer.VerificationKey, Instance));
        Assert.False(Voucher.TryParse(Encoded(empty), out _, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.ZeroSequence, error);
    }

    [Fact]
    public void Encode_ShortBuffer_ThrowsAndTryEncodeWritesNothing()
    {
        Voucher voucher = Golden();
        byte[] shortBuffer = new byte[127];

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => voucher.Encode(shortBuffer)).ParamName);
        Assert.False(voucher.TryEncode(shortBuffer, out int written));
        Assert.Equal(0, written);
        Assert.All(shortBuffer, b => Assert.Equal(0, b));
    }

    [Fact]
    public void TryEncode_LongerBuffer_WritesTheFirst128BytesOnly()
    {
        byte[] buffer = new byte[130];
        buffer[128] = 0xAA;
        buffer[129] = 0xBB;

        Assert.True(Golden().TryEncode(buffer, out int written));

        Assert.Equal(128, written);
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(buffer.AsSpan(0, 128)));
        Assert.Equal(0xAA, buffer[128]);
        Assert.Equal(0xBB, buffer[129]);
    }

    [Fact]
    public void CopySignatureTo_Any_CopiesBytes64To127()
    {
        byte[] signature = new byte[64];

        Golden().CopySignatureTo(signature);

        Assert.Equal(GoldenHex[128..], Convert.ToHexStringLower(signature));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Golden().CopySignatureTo(new byte[63])).ParamName);
    }

    [Fact]
    public void WriteSignedBody_Any_WritesBytes0To63()
    {
        byte[] body = new byte[64];

        Golden().WriteSignedBody(body);

        Assert.Equal(GoldenHex[..128], Convert.ToHexStringLower(body));
    }

    [Fact]
    public void Equals_SameFieldsDifferentSignature_AreNotEqual()
    {
        Voucher a = Golden();
        Voucher b = Golden();
        // Same fields signed for another instance: another signature.
        Voucher c = Voucher.Sign(Payer, Instance + 1, GoldenChannel, GoldenLane, GoldenSequence, GoldenAmount, GoldenValidUntil);
        Voucher d = Voucher.Sign(Payer, Instance, GoldenChannel, GoldenLane + 1, GoldenSequence, GoldenAmount, GoldenValidUntil);

        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals(c));
        Assert.True(a != d);
        Assert.False(a.Equals((object)"voucher"));
        Assert.True(a.Equals((object)b));
    }

    [Fact]
    public void ToString_Any_ShowsTheChannelInHexAndTheFields()
    {
        Assert.Equal(
            "Voucher { Channel = ffffffff34f4fe8176dfa4bf5bca3f37, Lane = 7, Sequence = 42, CumulativeAmount = 1234567, ValidUntil = 1790000000000000000 }",
            Golden().ToString());
    }
}
