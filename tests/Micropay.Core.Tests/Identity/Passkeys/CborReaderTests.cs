using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>The internal CBOR reader's rules, item by item (the extension and COSE_Key tests reach them through the public API).</summary>
public sealed class CborReaderTests
{
    [Theory]
    [InlineData("a0")]
    [InlineData("a10000")]
    [InlineData("a1190001f93c00")]                 // non-minimal key, half float value
    [InlineData("a1006161")]                       // text "a"
    [InlineData("a10062c3a9")]                     // text "é" (valid UTF-8)
    [InlineData("a100a0")]                         // nested empty map
    [InlineData("a1008301820203a0")]               // [1, [2, 3], {}]
    [InlineData("a1003bffffffffffffffff")]         // -2^64
    [InlineData("a1001bffffffffffffffff")]         // 2^64 - 1
    [InlineData("a100f7")]                         // undefined
    [InlineData("a100f3")]                         // simple(19), unassigned but well-formed
    [InlineData("a100f8ff")]                       // simple(255)
    public void IsSingleMap_WellFormedMaps_AreAccepted(string hex) =>
        Assert.True(CborReader.IsSingleMap(Convert.FromHexString(hex)));

    [Theory]
    [InlineData("")]
    [InlineData("80")]             // array
    [InlineData("a0a0")]           // two items
    [InlineData("bfff")]           // indefinite map
    [InlineData("a1009f01ff")]     // indefinite array inside
    [InlineData("a1007f6161ff")]   // indefinite text inside
    [InlineData("a100c100")]       // tag
    [InlineData("a100d8201a")]     // tag with a one-byte number
    [InlineData("a100fd")]         // reserved ai 29
    [InlineData("a100fe")]         // reserved ai 30
    [InlineData("a1001c")]         // reserved ai 28 on an integer
    [InlineData("a100f81f")]       // simple(31) in two bytes
    [InlineData("a10061ff")]       // invalid UTF-8
    [InlineData("a10062c328")]     // invalid UTF-8 continuation
    [InlineData("a100f9")]         // half float cut short
    [InlineData("a10042aa")]       // byte string cut short
    [InlineData("a2000000")]       // second pair cut short
    public void IsSingleMap_MalformedOrRefusedInput_IsRefused(string hex) =>
        Assert.False(CborReader.IsSingleMap(Convert.FromHexString(hex)));

    [Fact]
    public void IsSingleMap_NestingDepth_IsLimitedTo16Containers()
    {
        Assert.True(CborReader.IsSingleMap(PasskeyVerifyTests.NestedMaps(16)));
        Assert.False(CborReader.IsSingleMap(PasskeyVerifyTests.NestedMaps(17)));

        // Arrays count too: a map holding 15 nested arrays is 16 containers, 16 arrays are 17.
        Assert.True(CborReader.IsSingleMap([0xA1, 0x00, .. Enumerable.Repeat((byte)0x81, 14), 0x80]));
        Assert.False(CborReader.IsSingleMap([0xA1, 0x00, .. Enumerable.Repeat((byte)0x81, 15), 0x80]));
    }

    [Fact]
    public void IsSingleMap_DeepHostileNesting_IsRefusedWithoutExhaustingTheStack() =>
        Assert.False(CborReader.IsSingleMap([0xA1, 0x00, .. Enumerable.Repeat((byte)0x81, 100_000), 0x80]));

    [Fact]
    public void TryReadInteger_ExtremeValues_AreRead()
    {
        var max = new CborReader(Convert.FromHexString("1bffffffffffffffff"));
        var min = new CborReader(Convert.FromHexString("3bffffffffffffffff"));

        Assert.True(max.TryReadInteger(out Int128 big));
        Assert.True(min.TryReadInteger(out Int128 small));
        Assert.Equal((Int128)ulong.MaxValue, big);
        Assert.Equal(-(Int128)ulong.MaxValue - 1, small);
    }
}
