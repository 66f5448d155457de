using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// The channel config: golden encodings and ids of both modes (the id also recomputed here from its definition), every
/// rule of the byte table through the factories (ArgumentException naming the parameter) and through TryParse (its
/// ChannelFormatError), in table order.
/// </summary>
public sealed class ChannelConfigTests
{
    // Generated once from the fixtures, then frozen.
    private const string GoldenCumulativeHex =
        "01" +                                                                  //   0 Version 1
        "01" +                                                                  //   1 Mode 1, Cumulative
        "0000" +                                                                //   2 Reserved
        "48030000" +                                                            //   4 LedgerId 840
        "1032547698badcfeefcdab8967452301" +                                    //   8 InstanceId 0123456789abcdeffedcba9876543210
        "e9030000000000000000000000000000" +                                    //  24 PayerAccountId 1001
        "d2070000000000000000000000000000" +                                    //  40 PayeeAccountId 2002
        "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664" +    //  56 PayerKey
        "0000b49376e2fa18" +                                                    //  88 ExpiresAt 1,800,000,000,000,000,000
        "00a0b83046030000" +                                                    //  96 SettleDelay 3,600,000,000,000 (one hour)
        "175a0000000000000000000000000000" +                                    // 104 Salt 0x5a17
        "0000000000000000000000000000000000000000000000000000000000000000" +    // 120 ChainRoot (zeros)
        "00000000000000000000000000000000" +                                    // 152 UnitAmount 0
        "00000000" +                                                            // 168 ChainLength 0
        "00000000";                                                             // 172 Reserved

    private const string GoldenCumulativeId = "ffffffff34f4fe8176dfa4bf5bca3f37";

    private const string GoldenHashChainHex =
        "01" +                                                                  //   0 Version 1
        "02" +                                                                  //   1 Mode 2, HashChain
        "0000" +                                                                //   2 Reserved
        "48030000" +                                                            //   4 LedgerId 840
        "1032547698badcfeefcdab8967452301" +                                    //   8 InstanceId
        "e9030000000000000000000000000000" +                                    //  24 PayerAccountId 1001
        "d2070000000000000000000000000000" +                                    //  40 PayeeAccountId 2002
        "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664" +    //  56 PayerKey
        "0000b49376e2fa18" +                                                    //  88 ExpiresAt
        "00a0b83046030000" +                                                    //  96 SettleDelay
        "175a0000000000000000000000000000" +                                    // 104 Salt
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +    // 120 ChainRoot
        "05000000000000000000000000000000" +                                    // 152 UnitAmount 5
        "e8030000" +                                                            // 168 ChainLength 1000
        "00000000";                                                             // 172 Reserved

    private const string GoldenHashChainId = "ffffffff72bf9bb013a6142e3ceaa66d";

    [Fact]
    public void CreateCumulative_GoldenFields_EncodesToTheGoldenBytesAndId()
    {
        ChannelConfig config = Cumulative();

        Assert.Equal(GoldenCumulativeHex, Convert.ToHexStringLower(Encoded(config)));
        Assert.Equal(GoldenCumulativeId, config.Id.ToString("x32"));
        Assert.Equal(ChannelConfig.EncodedSize, GoldenCumulativeHex.Length / 2);
    }

    [Fact]
    public void CreateHashChain_GoldenFields_EncodesToTheGoldenBytesAndId()
    {
        ChannelConfig config = HashChain();

        Assert.Equal(GoldenHashChainHex, Convert.ToHexStringLower(Encoded(config)));
        Assert.Equal(GoldenHashChainId, config.Id.ToString("x32"));
    }

    [Theory]
    [InlineData(GoldenCumulativeHex, GoldenCumulativeId)]
    [InlineData(GoldenHashChainHex, GoldenHashChainId)]
    public void GoldenId_IsTheReservedPrefixOverSha256OfTheTagAndTheEncoding(string encodingHex, string idHex)
    {
        // The definition, recomputed here: SHA-256("micropay/channel/v1" zero-padded to 32 || the 176 bytes); its first
        // 12 bytes little-endian with bit 95 cleared, under the top 32 bits all ones.
        byte[] hash = SHA256.HashData([.. Tag("micropay/channel/v1"), .. Convert.FromHexString(encodingHex)]);
        ulong low = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        uint mid = BinaryPrimitives.ReadUInt32LittleEndian(hash.AsSpan(8)) & 0x7FFF_FFFF;
        var expected = new UInt128(0xFFFF_FFFF_0000_0000UL | mid, low);

        Assert.Equal(idHex, expected.ToString("x32"));
    }

    [Fact]
    public void TryParse_GoldenBytes_GivesTheFixturesFields()
    {
        Assert.True(ChannelConfig.TryParse(Convert.FromHexString(GoldenHashChainHex), out ChannelConfig? config, out ChannelFormatError error));

        Assert.Equal(ChannelFormatError.None, error);
        Assert.Equal(ChannelMode.HashChain, config.Mode);
        Assert.Equal(LedgerId, config.LedgerId);
        Assert.Equal(Instance, config.InstanceId);
        Assert.Equal(PayerAccount, config.PayerAccountId);
        Assert.Equal(PayeeAccount, config.PayeeAccountId);
        Assert.Equal(Payer.VerificationKey, config.PayerKey);
        Assert.Equal(ExpiresAt, config.ExpiresAt);
        Assert.Equal(SettleDelay, config.SettleDelay);
        Assert.Equal(Salt, config.Salt);
        Assert.Equal(ChainRoot, config.ChainRoot.ToArray());
        Assert.Equal(UnitAmount, config.UnitAmount);
        Assert.Equal(ChainLength, config.ChainLength);
        Assert.Equal(HashChain(), config);
        Assert.Equal(GoldenHashChainId, config.Id.ToString("x32"));
    }

    [Fact]
    public void Cumulative_ChainFields_AreZero()
    {
        ChannelConfig config = Cumulative();

        Assert.Equal(ChannelMode.Cumulative, config.Mode);
        Assert.Equal(new byte[32], config.ChainRoot.ToArray());
        Assert.Equal(UInt128.Zero, config.UnitAmount);
        Assert.Equal(0u, config.ChainLength);
    }

    [Fact]
    public void Id_AnyConfig_IsReservedAndChangesWithEveryField()
    {
        ChannelConfig golden = Cumulative();
        ChannelConfig[] variants =
        [
            golden,
            HashChain(),
            ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt + 1),
            ChannelConfig.CreateCumulative(Instance + 1, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt),
            ChannelConfig.CreateCumulative(Instance, PayeeAccount, PayerAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt),
            ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId + 1, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt),
            ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Operator.VerificationKey, ExpiresAt, SettleDelay, Salt),
            ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt + 1, SettleDelay, Salt),
            ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay + 1, Salt),
        ];

        Assert.All(variants, v => Assert.True(ReservedIds.IsReserved(v.Id)));
        Assert.All(variants, v => Assert.NotEqual(UInt128.MaxValue, v.Id));
        Assert.Equal(variants.Length, variants.Select(v => v.Id).Distinct().Count());
    }

    public static readonly TheoryData<string, Func<ChannelConfig>, ChannelFormatError> BrokenFactoryCalls = new()
    {
        { "ledgerId", () => ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, 0, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ZeroLedgerId },
        { "instanceId", () => ChannelConfig.CreateCumulative(UInt128.Zero, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ZeroInstanceId },
        { "payerAccountId", () => ChannelConfig.CreateCumulative(Instance, UInt128.Zero, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ZeroAccountId },
        { "payerAccountId", () => ChannelConfig.CreateCumulative(Instance, ReservedIds.First, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ReservedAccountId },
        { "payerAccountId", () => ChannelConfig.CreateCumulative(Instance, UInt128.MaxValue, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ReservedAccountId },
        { "payeeAccountId", () => ChannelConfig.CreateCumulative(Instance, PayerAccount, UInt128.Zero, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ZeroAccountId },
        { "payeeAccountId", () => ChannelConfig.CreateCumulative(Instance, PayerAccount, ReservedIds.First + 5, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.ReservedAccountId },
        { "payeeAccountId", () => ChannelConfig.CreateCumulative(Instance, PayerAccount, PayerAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt), ChannelFormatError.SameAccounts },
        { "expiresAt", () => ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, 0, SettleDelay, Salt), ChannelFormatError.ZeroExpiry },
        { "expiresAt", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, 0, SettleDelay, Salt, ChainRoot, UnitAmount, ChainLength), ChannelFormatError.ZeroExpiry },
        { "chainRoot", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, new byte[32], UnitAmount, ChainLength), ChannelFormatError.ZeroChainRoot },
        { "unitAmount", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, ChainRoot, UInt128.Zero, ChainLength), ChannelFormatError.ZeroUnitAmount },
        { "chainLength", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, ChainRoot, UnitAmount, 0), ChannelFormatError.ZeroChainLength },
        { "ledgerId", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, 0, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, ChainRoot, UnitAmount, ChainLength), ChannelFormatError.ZeroLedgerId },
        { "payeeAccountId", () => ChannelConfig.CreateHashChain(Instance, PayerAccount, PayerAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, ChainRoot, UnitAmount, ChainLength), ChannelFormatError.SameAccounts },
    };

    [Theory]
    [MemberData(nameof(BrokenFactoryCalls))]
    public void Create_BrokenRule_ThrowsArgumentExceptionNamingTheParameterAndTheRule(string parameter, Func<ChannelConfig> create, ChannelFormatError rule)
    {
        var e = Assert.Throws<ArgumentException>(() => create());

        Assert.Equal(parameter, e.ParamName);
        Assert.Contains($"({rule})", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void CreateHashChain_ChainRootNot32Bytes_ThrowsArgumentException(int length)
    {
        byte[] root = new byte[length];
        root.AsSpan().Fill(7);

        var e = Assert.Throws<ArgumentException>(() =>
            ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, SettleDelay, Salt, root, UnitAmount, ChainLength));
        Assert.Equal("chainRoot", e.ParamName);
    }

    [Fact]
    public void Create_NullPayerKey_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, null!, ExpiresAt, SettleDelay, Salt));
        Assert.Throws<ArgumentNullException>(() =>
            ChannelConfig.CreateHashChain(Instance, PayerAccount, PayeeAccount, LedgerId, null!, ExpiresAt, SettleDelay, Salt, ChainRoot, UnitAmount, ChainLength));
    }

    [Fact]
    public void Create_ZeroSettleDelayAndZeroSalt_AreAllowed()
    {
        ChannelConfig config = ChannelConfig.CreateCumulative(Instance, PayerAccount, PayeeAccount, LedgerId, Payer.VerificationKey, ExpiresAt, 0, UInt128.Zero);

        Assert.Equal(0UL, config.SettleDelay);
        Assert.Equal(UInt128.Zero, config.Salt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(175)]
    [InlineData(177)]
    [InlineData(272)]
    public void TryParse_NotExactly176Bytes_ReportsWrongLength(int length)
    {
        byte[] bytes = new byte[length];
        Convert.FromHexString(GoldenCumulativeHex).AsSpan(0, Math.Min(length, 176)).CopyTo(bytes);

        Assert.False(ChannelConfig.TryParse(bytes, out ChannelConfig? config, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.WrongLength, error);
        Assert.Null(config);
    }

    [Theory]
    // Either mode.
    [InlineData(false, 0, "00", ChannelFormatError.UnknownVersion)]
    [InlineData(true, 0, "02", ChannelFormatError.UnknownVersion)]
    [InlineData(false, 1, "00", ChannelFormatError.UnknownMode)]
    [InlineData(true, 1, "03", ChannelFormatError.UnknownMode)]
    [InlineData(false, 1, "ff", ChannelFormatError.UnknownMode)]
    [InlineData(false, 2, "01", ChannelFormatError.ReservedNotZero)]
    [InlineData(true, 3, "80", ChannelFormatError.ReservedNotZero)]
    [InlineData(false, 172, "01", ChannelFormatError.ReservedNotZero)]
    [InlineData(true, 175, "80", ChannelFormatError.ReservedNotZero)]
    [InlineData(false, 4, "00000000", ChannelFormatError.ZeroLedgerId)]
    [InlineData(true, 8, "00000000000000000000000000000000", ChannelFormatError.ZeroInstanceId)]
    [InlineData(false, 24, "00000000000000000000000000000000", ChannelFormatError.ZeroAccountId)]
    [InlineData(true, 40, "00000000000000000000000000000000", ChannelFormatError.ZeroAccountId)]
    [InlineData(false, 36, "ffffffff", ChannelFormatError.ReservedAccountId)]
    [InlineData(true, 52, "ffffffff", ChannelFormatError.ReservedAccountId)]
    [InlineData(false, 40, "e9030000000000000000000000000000", ChannelFormatError.SameAccounts)]
    [InlineData(true, 88, "0000000000000000", ChannelFormatError.ZeroExpiry)]
    // Cumulative mode: the chain fields must be zero.
    [InlineData(false, 120, "01", ChannelFormatError.ChainFieldsInCumulativeMode)]
    [InlineData(false, 151, "80", ChannelFormatError.ChainFieldsInCumulativeMode)]
    [InlineData(false, 167, "01", ChannelFormatError.ChainFieldsInCumulativeMode)]
    [InlineData(false, 168, "01", ChannelFormatError.ChainFieldsInCumulativeMode)]
    // HashChain mode: root, unit and length must not be zero.
    [InlineData(true, 120, "0000000000000000000000000000000000000000000000000000000000000000", ChannelFormatError.ZeroChainRoot)]
    [InlineData(true, 152, "00000000000000000000000000000000", ChannelFormatError.ZeroUnitAmount)]
    [InlineData(true, 168, "00000000", ChannelFormatError.ZeroChainLength)]
    public void TryParse_BrokenRule_ReportsItsError(bool hashChain, int offset, string replacement, ChannelFormatError expected)
    {
        byte[] bytes = Convert.FromHexString(hashChain ? GoldenHashChainHex : GoldenCumulativeHex);
        Convert.FromHexString(replacement).CopyTo(bytes, offset);

        Assert.False(ChannelConfig.TryParse(bytes, out ChannelConfig? config, out ChannelFormatError error));
        Assert.Equal(expected, error);
        Assert.Null(config);
    }

    [Fact]
    public void TryParse_SeveralBrokenRules_ReportsTheFirstInTableOrder()
    {
        byte[] bytes = Convert.FromHexString(GoldenHashChainHex);
        bytes.AsSpan(168, 4).Clear();  // chain length
        bytes.AsSpan(88, 8).Clear();   // expiry
        Assert.False(ChannelConfig.TryParse(bytes, out _, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.ZeroExpiry, error);

        bytes.AsSpan(24, 16).Clear();  // payer
        Assert.False(ChannelConfig.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.ZeroAccountId, error);

        bytes.AsSpan(4, 4).Clear();    // ledger
        Assert.False(ChannelConfig.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.ZeroLedgerId, error);

        bytes[173] = 1;                // reserved
        Assert.False(ChannelConfig.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.ReservedNotZero, error);

        bytes[1] = 0;                  // mode
        Assert.False(ChannelConfig.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.UnknownMode, error);

        bytes[0] = 0;                  // version
        Assert.False(ChannelConfig.TryParse(bytes, out _, out error));
        Assert.Equal(ChannelFormatError.UnknownVersion, error);
    }

    [Fact]
    public void TryParse_SmallOrderPayerKey_ParsesBecauseNSecChecksOnlyTheLength()
    {
        // BadVerificationKey is reported when VerificationKey.TryCreate refuses the 32 bytes; NSec refuses no 32 bytes,
        // so a config naming a key no signature can verify under (here the identity point) parses: the refusal comes at
        // Verify, for every voucher.
        byte[] bytes = Convert.FromHexString(GoldenCumulativeHex);
        byte[] identity = Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000");
        identity.CopyTo(bytes, 56);

        Assert.True(ChannelConfig.TryParse(bytes, out ChannelConfig? config, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.None, error);
        Assert.Equal(identity, config.PayerKey.AsSpan().ToArray());
        // R = identity, S = 0 satisfies the verification equation for this key and any message; libsodium refuses it.
        byte[] trivial = Convert.FromHexString("01" + new string('0', 126));
        Assert.False(config.PayerKey.Verify("anything"u8, trivial));
    }

    [Fact]
    public void Encode_ShortBuffer_ThrowsAndTryEncodeWritesNothing()
    {
        ChannelConfig config = Cumulative();
        byte[] shortBuffer = new byte[175];

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => config.Encode(shortBuffer)).ParamName);
        Assert.False(config.TryEncode(shortBuffer, out int written));
        Assert.Equal(0, written);
        Assert.All(shortBuffer, b => Assert.Equal(0, b));

        byte[] roomy = new byte[180];
        Assert.True(config.TryEncode(roomy, out written));
        Assert.Equal(176, written);
        Assert.Equal(GoldenCumulativeHex, Convert.ToHexStringLower(roomy.AsSpan(0, 176)));
    }

    [Fact]
    public void Equals_SameTerms_AreEqualAndOtherTermsAreNot()
    {
        ChannelConfig a = Cumulative();
        ChannelConfig b = Cumulative();
        ChannelConfig c = HashChain();

        Assert.True(a.Equals(b));
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.False(a.Equals(c));
        Assert.True(a != c);
        Assert.False(a.Equals(null));
        Assert.False(a == null);
        Assert.False(a.Equals((object)"config"));
    }

    [Fact]
    public void ToString_Any_ShowsTheIdInHex()
    {
        string text = Cumulative().ToString();

        Assert.StartsWith($"ChannelConfig {{ Id = {GoldenCumulativeId}, Mode = Cumulative, Instance = 0123456789abcdeffedcba9876543210,", text, StringComparison.Ordinal);
    }

    [Fact]
    public void PayerKey_Parsed_IsAWorkingVerificationKey()
    {
        Assert.True(ChannelConfig.TryParse(Convert.FromHexString(GoldenCumulativeHex), out ChannelConfig? config, out _));
        Voucher voucher = Voucher.Sign(Payer, config.InstanceId, config.Id, 1, 1, 100, 5);

        Assert.True(voucher.Verify(config.PayerKey, config.InstanceId));
    }

    [Fact]
    public void PayerKey_SameBytesAsAVerificationKeyCreatedDirectly()
    {
        Assert.Equal(VerificationKey.Create(Convert.FromHexString("79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664")), Cumulative().PayerKey);
    }
}
