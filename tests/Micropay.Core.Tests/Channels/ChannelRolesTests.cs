using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Engine;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Channels;

/// <summary>The three roles: the payer's wallet, the offline payee's receiver, and the ledger's certificate and redemption.</summary>
public sealed class ChannelRolesTests : EngineTestKit
{
    private const ulong Hour = 3600UL * 1_000_000_000UL;
    private static readonly UInt128 Bank = 1;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;

    // Fixed seeds, so failures reproduce: RFC 8032 section 7.1 test 3's secret key for the payer, and an operator key.
    private static readonly SigningKey PayerKey = SigningKey.Import(Convert.FromHexString("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"), SigningKeyFormat.RawSeed);
    private static readonly SigningKey OperatorKey = SigningKey.Import(Convert.FromHexString("0101010101010101010101010101010101010101010101010101010101010101"), SigningKeyFormat.RawSeed);

    [Fact]
    public async Task Roles_PayerPaysAThousandTimesOffline_PayeeRedeemsOnceAndGetsExactlyTheTotal()
    {
        await using LedgerEngine engine = await OpenAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 10_000);
        Assert.True(engine.TryIssueCertificate(config.Id, out ChannelCertificate? certificate));
        Assert.True(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, engine.InstanceId, Payee, redeemMargin: 0, out ChannelReceiver? receiver, out string? error), error);

        ChannelWallet wallet = ChannelWallet.Create(config, PayerKey, certificate.Deposit);
        ulong now = 1;
        for (int i = 0; i < 1_000; i++)
        {
            Voucher voucher = wallet.Pay(lane: (uint)(i % 3), amount: 7, validUntil: ulong.MaxValue - 2);
            Assert.Equal(VoucherAcceptResult.Accepted, receiver.Accept(voucher, now, out UInt128 increase));
            Assert.Equal((UInt128)7, increase);
        }

        Assert.Equal((UInt128)7_000, receiver.AcceptedTotal);
        Voucher[] best = receiver.BestVouchers();
        Assert.Equal(3, best.Length);
        var results = new ChannelResult[best.Length];
        Assert.Equal(0, await engine.RedeemVouchersAsync(best, results));
        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal((UInt128)7_000, payee.CreditsPosted);
    }

    [Fact]
    public void Wallet_PastTheDeposit_RefusesToSignAndPromisesNothing()
    {
        ChannelConfig config = Config(instance: 5);
        ChannelWallet wallet = ChannelWallet.Create(config, PayerKey, deposit: 100);
        Assert.True(wallet.TryPay(0, 60, ulong.MaxValue, out _));
        Assert.False(wallet.TryPay(1, 41, ulong.MaxValue, out _));
        Assert.Throws<InvalidOperationException>(() => wallet.Pay(1, 41, ulong.MaxValue));
        Assert.Equal((UInt128)60, wallet.Committed);

        wallet.AddDeposit(1);
        Assert.True(wallet.TryPay(1, 41, ulong.MaxValue, out Voucher voucher));
        Assert.Equal(1UL, voucher.Sequence);
        Assert.Equal((UInt128)41, voucher.CumulativeAmount);
    }

    [Fact]
    public void Wallet_RestoredFromItsState_NeverSignsAnOldSequenceAgain()
    {
        ChannelConfig config = Config(instance: 5);
        ChannelWallet wallet = ChannelWallet.Create(config, PayerKey, deposit: 1_000);
        wallet.Pay(4, 10, ulong.MaxValue);
        wallet.Pay(4, 10, ulong.MaxValue);
        byte[] state = wallet.ExportState();

        ChannelWallet restored = ChannelWallet.Import(config, PayerKey, state);
        Voucher next = restored.Pay(4, 5, ulong.MaxValue);
        Assert.Equal(3UL, next.Sequence);
        Assert.Equal((UInt128)25, next.CumulativeAmount);

        ChannelWallet skipped = ChannelWallet.Import(config, PayerKey, state, sequenceMargin: 1_000);
        Assert.Equal(1_003UL, skipped.Pay(4, 5, ulong.MaxValue).Sequence);
        Assert.Throws<ArgumentException>(() => ChannelWallet.Import(Config(instance: 6), PayerKey, state));
    }

    [Fact]
    public async Task Wallet_EightThreadsPaying_SignsDistinctIncreasingSequencesPerLane()
    {
        ChannelConfig config = Config(instance: 5);
        ChannelWallet wallet = ChannelWallet.Create(config, PayerKey, deposit: 1_000_000);
        var vouchers = new System.Collections.Concurrent.ConcurrentBag<Voucher>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                vouchers.Add(wallet.Pay((uint)(i % 2), 3, ulong.MaxValue));
            }
        })));

        foreach (IGrouping<uint, Voucher> lane in vouchers.GroupBy(v => v.Lane))
        {
            Voucher[] ordered = [.. lane.OrderBy(v => v.Sequence)];
            Assert.Equal(Enumerable.Range(1, ordered.Length).Select(i => (ulong)i), ordered.Select(v => v.Sequence));
            Assert.Equal(ordered.Select((_, i) => (UInt128)(3 * (i + 1))), ordered.Select(v => v.CumulativeAmount));
        }

        Assert.Equal((UInt128)(8 * 200 * 3), wallet.Committed);
    }

    [Fact]
    public void Receiver_RefusesReplaysForgeriesOverdraftsAndExpiredVouchers()
    {
        ChannelCertificate certificate = ChannelCertificate.Issue(OperatorKey, Config(instance: 5, expiresAt: 1_000), 100, 1);
        Assert.True(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 5, Payee, redeemMargin: 100, out ChannelReceiver? receiver, out _));
        ChannelConfig config = certificate.Config;
        Voucher first = Voucher.Sign(PayerKey, 5, config.Id, 0, 1, 30, 500);

        Assert.Equal(VoucherAcceptResult.Accepted, receiver.Accept(first, 10, out _));
        Assert.Equal(VoucherAcceptResult.SequenceNotIncreasing, receiver.Accept(first, 10, out _));
        Assert.Equal(VoucherAcceptResult.AmountNotIncreasing, receiver.Accept(Voucher.Sign(PayerKey, 5, config.Id, 0, 2, 30, 500), 10, out _));
        Assert.Equal(VoucherAcceptResult.ExceedsDeposit, receiver.Accept(Voucher.Sign(PayerKey, 5, config.Id, 1, 1, 71, 500), 10, out _));
        Assert.Equal(VoucherAcceptResult.BadSignature, receiver.Accept(Voucher.Sign(PayerKey, 6, config.Id, 1, 1, 10, 500), 10, out _));
        using (SigningKey stranger = SigningKey.Generate())
        {
            Assert.Equal(VoucherAcceptResult.BadSignature, receiver.Accept(Voucher.Sign(stranger, 5, config.Id, 1, 1, 10, 500), 10, out _));
        }

        Assert.Equal(VoucherAcceptResult.VoucherExpired, receiver.Accept(Voucher.Sign(PayerKey, 5, config.Id, 1, 1, 10, 500), 501, out _));
        Assert.Equal(VoucherAcceptResult.ChannelExpiring, receiver.Accept(Voucher.Sign(PayerKey, 5, config.Id, 1, 1, 10, 990), 900, out _));
        Assert.Equal(VoucherAcceptResult.WrongChannel, receiver.Accept(Voucher.Sign(PayerKey, 5, config.Id + 1, 1, 1, 10, 500), 10, out _));
        Assert.Equal((UInt128)30, receiver.AcceptedTotal);
    }

    [Fact]
    public void Receiver_CertificateFromAnotherKeyOrForAnotherPayee_IsRefusedWithAReason()
    {
        ChannelCertificate certificate = ChannelCertificate.Issue(OperatorKey, Config(instance: 5), 100, 1);
        Assert.False(ChannelReceiver.TryCreate(certificate, PayerKey.VerificationKey, 5, Payee, 0, out _, out string? wrongKey));
        Assert.Contains("signature", wrongKey);
        Assert.False(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 6, Payee, 0, out _, out string? wrongInstance));
        Assert.Contains("instance", wrongInstance);
        Assert.False(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 5, Payer, 0, out _, out string? wrongPayee));
        Assert.Contains("another account", wrongPayee);
    }

    [Fact]
    public void Receiver_StateExportedAndImported_KeepsTheBestVouchersAndRefusesATamperedOne()
    {
        ChannelCertificate certificate = ChannelCertificate.Issue(OperatorKey, Config(instance: 5), 100, 1);
        Assert.True(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 5, Payee, 0, out ChannelReceiver? receiver, out _));
        ChannelWallet wallet = ChannelWallet.Create(certificate.Config, PayerKey, 100);
        for (int i = 0; i < 5; i++)
        {
            receiver.Accept(wallet.Pay((uint)(i % 2), 4, ulong.MaxValue), 10, out _);
        }

        byte[] state = receiver.ExportState();
        Assert.True(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 5, Payee, 0, out ChannelReceiver? restored, out _));
        restored.Import(state);
        Assert.Equal(receiver.BestVouchers(), restored.BestVouchers());
        Assert.Equal((UInt128)20, restored.AcceptedTotal);

        state[^1] ^= 1;
        Assert.True(ChannelReceiver.TryCreate(certificate, OperatorKey.VerificationKey, 5, Payee, 0, out ChannelReceiver? tampered, out _));
        Assert.Throws<ArgumentException>(() => tampered.Import(state));
    }

    [Fact]
    public async Task TryIssueCertificate_WithoutAnOperatorKey_Throws()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        Assert.Throws<InvalidOperationException>(() => engine.TryIssueCertificate(1, out _));
    }

    private static ChannelConfig Config(UInt128 instance, ulong expiresAt = ulong.MaxValue - 1) =>
        ChannelConfig.CreateCumulative(instance, Payer, Payee, 1, PayerKey.VerificationKey, expiresAt, Hour, 0);

    private ValueTask<LedgerEngine> OpenAsync() => LedgerEngine.OpenAsync(new LedgerEngineOptions
    {
        Store = new FileLedgerStore(Directory),
        ClockPulses = false,
        OperatorKey = OperatorKey,
    });

    private static async Task<ChannelConfig> OpenChannelAsync(LedgerEngine engine, UInt128 deposit)
    {
        await engine.CreateAccountsAsync(new[] { Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee) }, new CreateAccountResult[3]);
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100, Bank, Payer, deposit * 2)));
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(PayerKey, config, deposit)));
        return config;
    }
}
