using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Channels;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>Properties of the voucher format: parsing any bytes never throws and is consistent; sign, encode, parse round-trips.</summary>
public sealed class VoucherProperties
{
    private static readonly byte[] Valid = Encoded(Voucher.Sign(Payer, Instance, Cumulative().Id, 7, 42, 1_234_567, 1_790_000_000_000_000_000));

    [Property(MaxTest = 2_000)]
    public Property TryParse_AnyBytes_NeverThrowsAndAcceptsOnlyWhatItEncodesBack() =>
        Prop.ForAll(Arb.From(FormatGenerators.Hostile(Voucher.Size, Valid)), bytes =>
        {
            bool ok = Voucher.TryParse(bytes, out Voucher voucher, out ChannelFormatError error);
            if (!ok)
            {
                return error != ChannelFormatError.None && voucher == default;
            }

            // Accepted: a well-formed voucher whose encoding is the input, byte for byte.
            return error == ChannelFormatError.None && bytes.Length == Voucher.Size && Encoded(voucher).AsSpan().SequenceEqual(bytes) &&
                voucher.Sequence != 0 && voucher.ChannelId != UInt128.Zero && voucher.CumulativeAmount != UInt128.Zero && voucher.ValidUntil != 0;
        });

    [Property(MaxTest = 300)]
    public Property SignEncodeTryParse_AnyValidFields_RoundTripsAndVerifies() =>
        Prop.ForAll(
            Arb.From(
                from instance in FormatGenerators.NonZeroUInt128
                from channel in FormatGenerators.NonZeroUInt128
                from lane in FormatGenerators.UInt32
                from sequence in FormatGenerators.NonZeroUInt64
                from amount in FormatGenerators.NonZeroUInt128
                from validUntil in FormatGenerators.NonZeroUInt64
                select (instance, channel, lane, sequence, amount, validUntil)),
            f =>
            {
                Voucher signed = Voucher.Sign(Payer, f.instance, f.channel, f.lane, f.sequence, f.amount, f.validUntil);
                return Voucher.TryParse(Encoded(signed), out Voucher parsed, out ChannelFormatError error) &&
                    error == ChannelFormatError.None && parsed == signed &&
                    parsed.Lane == f.lane && parsed.Sequence == f.sequence && parsed.ChannelId == f.channel &&
                    parsed.CumulativeAmount == f.amount && parsed.ValidUntil == f.validUntil &&
                    parsed.Verify(Payer.VerificationKey, f.instance) && !parsed.Verify(Payer.VerificationKey, f.instance ^ UInt128.One);
            });
}
