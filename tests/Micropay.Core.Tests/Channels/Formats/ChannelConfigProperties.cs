using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Channels;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Channels.Formats.ChannelFixtures;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>
/// Properties of the config format: parsing any bytes never throws and accepts only what the factories would build;
/// create, encode, parse round-trips with the same id.
/// </summary>
public sealed class ChannelConfigProperties
{
    private static readonly byte[] ValidCumulative = Encoded(Cumulative());
    private static readonly byte[] ValidHashChain = Encoded(HashChain());

    [Property(MaxTest = 2_000)]
    public Property TryParse_AnyBytes_NeverThrowsAndAcceptsOnlyWhatTheFactoriesBuild() =>
        Prop.ForAll(
            Arb.From(Gen.OneOf(
                FormatGenerators.Hostile(ChannelConfig.EncodedSize, ValidCumulative),
                FormatGenerators.Hostile(ChannelConfig.EncodedSize, ValidHashChain))),
            bytes =>
            {
                bool ok = ChannelConfig.TryParse(bytes, out ChannelConfig? config, out ChannelFormatError error);
                if (!ok)
                {
                    return error != ChannelFormatError.None && config is null;
                }

                ChannelConfig rebuilt = config!.Mode == ChannelMode.Cumulative
                    ? ChannelConfig.CreateCumulative(config.InstanceId, config.PayerAccountId, config.PayeeAccountId, config.LedgerId, config.PayerKey, config.ExpiresAt, config.SettleDelay, config.Salt)
                    : ChannelConfig.CreateHashChain(config.InstanceId, config.PayerAccountId, config.PayeeAccountId, config.LedgerId, config.PayerKey, config.ExpiresAt, config.SettleDelay, config.Salt, config.ChainRoot, config.UnitAmount, config.ChainLength);
                return error == ChannelFormatError.None && Encoded(config).AsSpan().SequenceEqual(bytes) && rebuilt == config && rebuilt.Id == config.Id;
            });

    [Property(MaxTest = 500)]
    public Property CreateEncodeTryParse_AnyValidTerms_RoundTripsWithTheSameId() =>
        Prop.ForAll(
            Arb.From(
                from hashChain in Gen.Elements(false, true)
                from instance in FormatGenerators.NonZeroUInt128
                from payer in FormatGenerators.AccountId
                from payee in FormatGenerators.AccountId.Where(p => p != payer)
                from ledger in FormatGenerators.NonZeroUInt32
                from expiresAt in FormatGenerators.NonZeroUInt64
                from settleDelay in FormatGenerators.UInt64
                from salt in FormatGenerators.UInt128
                from root in FormatGenerators.Bytes(32).Where(r => r.Any(b => b != 0))
                from unit in FormatGenerators.NonZeroUInt128
                from length in FormatGenerators.NonZeroUInt32
                select (hashChain, instance, payer, payee, ledger, expiresAt, settleDelay, salt, root, unit, length)),
            t =>
            {
                ChannelConfig config = t.hashChain
                    ? ChannelConfig.CreateHashChain(t.instance, t.payer, t.payee, t.ledger, Payer.VerificationKey, t.expiresAt, t.settleDelay, t.salt, t.root, t.unit, t.length)
                    : ChannelConfig.CreateCumulative(t.instance, t.payer, t.payee, t.ledger, Payer.VerificationKey, t.expiresAt, t.settleDelay, t.salt);
                return ChannelConfig.TryParse(Encoded(config), out ChannelConfig? parsed, out ChannelFormatError error) &&
                    error == ChannelFormatError.None && parsed == config && parsed.Id == config.Id && ReservedIds.IsReserved(parsed.Id) &&
                    parsed.InstanceId == t.instance && parsed.PayerAccountId == t.payer && parsed.PayeeAccountId == t.payee &&
                    parsed.LedgerId == t.ledger && parsed.ExpiresAt == t.expiresAt && parsed.SettleDelay == t.settleDelay && parsed.Salt == t.salt &&
                    (t.hashChain
                        ? parsed.ChainRoot.SequenceEqual(t.root) && parsed.UnitAmount == t.unit && parsed.ChainLength == t.length
                        : parsed.UnitAmount == UInt128.Zero && parsed.ChainLength == 0);
            });
}
