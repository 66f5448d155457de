using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Channels;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>Properties of the certificate format: parsing any bytes never throws and is consistent; issue, encode, parse round-trips.</summary>
public sealed class ChannelCertificateProperties
{
    private static readonly byte[] Valid = Encoded(ChannelCertificate.Issue(Operator, HashChain(), 10_000_000, 1_700_000_000_000_000_000));

    [Property(MaxTest = 2_000)]
    public Property TryParse_AnyBytes_NeverThrowsAndAcceptsOnlyWhatItEncodesBack() =>
        Prop.ForAll(Arb.From(FormatGenerators.Hostile(ChannelCertificate.Size, Valid)), bytes =>
        {
            bool ok = ChannelCertificate.TryParse(bytes, out ChannelCertificate? certificate, out ChannelFormatError error);
            if (!ok)
            {
                return error != ChannelFormatError.None && certificate is null;
            }

            return error == ChannelFormatError.None && Encoded(certificate!).AsSpan().SequenceEqual(bytes) &&
                certificate!.Deposit != UInt128.Zero && certificate.OpenedAt != 0 &&
                Encoded(certificate.Config).AsSpan().SequenceEqual(bytes.AsSpan(32, ChannelConfig.EncodedSize));
        });

    [Property(MaxTest = 200)]
    public Property IssueEncodeTryParse_AnyDepositAndTime_RoundTripsAndVerifies() =>
        Prop.ForAll(
            Arb.From(
                from hashChain in Gen.Elements(false, true)
                from deposit in FormatGenerators.NonZeroUInt128
                from openedAt in FormatGenerators.NonZeroUInt64
                select (hashChain, deposit, openedAt)),
            t =>
            {
                ChannelCertificate issued = ChannelCertificate.Issue(Operator, t.hashChain ? HashChain() : Cumulative(), t.deposit, t.openedAt);
                return ChannelCertificate.TryParse(Encoded(issued), out ChannelCertificate? parsed, out ChannelFormatError error) &&
                    error == ChannelFormatError.None && parsed == issued && parsed.Deposit == t.deposit && parsed.OpenedAt == t.openedAt &&
                    parsed.Config == issued.Config && parsed.Verify(Operator.VerificationKey) && !parsed.Verify(Payer.VerificationKey);
            });
}
