using System.Text;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary>The domain tags, byte for byte: an ASCII name padded with zeros to 32 bytes, all distinct.</summary>
public sealed class DomainTagsTests
{
    public static readonly TheoryData<string, string> Tags = new()
    {
        { nameof(DomainTags.Voucher), "micropay/voucher/v1" },
        { nameof(DomainTags.ChannelId), "micropay/channel/v1" },
        { nameof(DomainTags.ChannelOpen), "micropay/channel-open/v1" },
        { nameof(DomainTags.ChannelClose), "micropay/channel-close/v1" },
        { nameof(DomainTags.ChannelCertificate), "micropay/channel-certificate/v1" },
        { nameof(DomainTags.KeyId), "micropay/key-id/v1" },
        { nameof(DomainTags.PaymentOrder), "micropay/payment-order/v1" },
    };

    [Theory]
    [MemberData(nameof(Tags))]
    public void Tag_Each_IsItsAsciiNameZeroPaddedTo32Bytes(string member, string name)
    {
        byte[] expected = new byte[32];
        Encoding.ASCII.GetBytes(name).CopyTo(expected, 0);

        Assert.Equal(expected, Tag(member));
        Assert.Equal(DomainTags.Size, Tag(member).Length);
    }

    [Fact]
    public void Tags_All_AreDistinct()
    {
        string[] hex = [.. Tags.Select(row => Convert.ToHexString(Tag((string)row[0])))];

        Assert.Equal(hex.Length, hex.Distinct().Count());
    }

    private static byte[] Tag(string member) => member switch
    {
        nameof(DomainTags.Voucher) => DomainTags.Voucher.ToArray(),
        nameof(DomainTags.ChannelId) => DomainTags.ChannelId.ToArray(),
        nameof(DomainTags.ChannelOpen) => DomainTags.ChannelOpen.ToArray(),
        nameof(DomainTags.ChannelClose) => DomainTags.ChannelClose.ToArray(),
        nameof(DomainTags.ChannelCertificate) => DomainTags.ChannelCertificate.ToArray(),
        nameof(DomainTags.KeyId) => DomainTags.KeyId.ToArray(),
        nameof(DomainTags.PaymentOrder) => DomainTags.PaymentOrder.ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(member)),
    };
}
