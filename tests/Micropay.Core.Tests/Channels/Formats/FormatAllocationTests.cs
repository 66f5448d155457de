using Micropay.Core.Channels;
using Micropay.Core.Tests.Crypto;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// The per-payment path allocates nothing once warm: encoding, parsing and verifying a voucher (and signing one, and
/// verifying a certificate). Measured on a dedicated thread, see <see cref="Allocations"/>.
/// </summary>
public sealed class FormatAllocationTests
{
    private static readonly Voucher Signed = Voucher.Sign(Payer, Instance, Cumulative().Id, 7, 42, 1_234_567, 1_790_000_000_000_000_000);

    [Fact]
    public void VoucherEncode_Warm_AllocatesNothing()
    {
        byte[] buffer = new byte[Voucher.Size];
        Voucher voucher = Signed;

        long allocated = Allocations.OfWarm(() => voucher.Encode(buffer));

        Assert.Equal(Encoded(Signed), buffer);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void VoucherTryParse_Warm_AllocatesNothing()
    {
        byte[] bytes = Encoded(Signed);
        bool allParsed = true;

        long allocated = Allocations.OfWarm(() => allParsed &= Voucher.TryParse(bytes, out _, out _));

        Assert.True(allParsed);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void VoucherVerify_Warm_AllocatesNothing()
    {
        Voucher voucher = Signed;
        var key = Payer.VerificationKey;
        bool allValid = true;

        long allocated = Allocations.OfWarm(() => allValid &= voucher.Verify(key, Instance));

        Assert.True(allValid);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void VoucherParseThenVerify_Warm_AllocatesNothing()
    {
        byte[] bytes = Encoded(Signed);
        var key = Payer.VerificationKey;
        bool allValid = true;

        long allocated = Allocations.OfWarm(() => allValid &= Voucher.TryParse(bytes, out Voucher v, out _) && v.Verify(key, Instance));

        Assert.True(allValid);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void VoucherSign_Warm_AllocatesNothing()
    {
        UInt128 channel = Cumulative().Id;
        ulong sequence = 0;

        long allocated = Allocations.OfWarm(() => Voucher.Sign(Payer, Instance, channel, 1, ++sequence, 100, 5));

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void CertificateVerify_Warm_AllocatesNothing()
    {
        ChannelCertificate certificate = ChannelCertificate.Issue(Operator, Cumulative(), 10, 20);
        var key = Operator.VerificationKey;
        bool allValid = true;

        long allocated = Allocations.OfWarm(() => allValid &= certificate.Verify(key));

        Assert.True(allValid);
        Assert.Equal(0, allocated);
    }
}
