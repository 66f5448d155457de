using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Channels;

/// <summary>
/// A ledger with a funded payer and a payee, and helpers that apply channel events through the engine's operation
/// descriptions (the writer thread's path, without threads), as the journal's replay does.
/// </summary>
internal sealed class ChannelTestKit : IDisposable
{
    public const ulong Second = 1_000_000_000UL;
    public static readonly UInt128 Instance = new(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);
    public static readonly UInt128 Bank = 1;
    public static readonly UInt128 Payer = 2;
    public static readonly UInt128 Payee = 3;

    // RFC 8032 section 7.1, test 1's secret key: a fixed payer key, so failures reproduce.
    private static readonly byte[] PayerSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

    private ulong _clock = 1_000 * Second;

    private ChannelTestKit(LedgerStateMachine ledger, ulong clock)
    {
        Ledger = ledger;
        _clock = clock;
        PayerKey = SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);
    }

    public ChannelTestKit(UInt128 payerFunds)
    {
        Ledger = new LedgerStateMachine();
        Assert.Equal(InstanceIdResult.Ok, Ledger.SetInstanceId(NextTime(), Instance));
        Assert.Equal(0, Ledger.CreateAccounts(NextTime(), [Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee)], new CreateAccountResult[3]));
        if (payerFunds != UInt128.Zero)
        {
            Fund(payerFunds);
        }

        PayerKey = SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);
    }

    public LedgerStateMachine Ledger { get; }

    public SigningKey PayerKey { get; }

    /// <summary>The time of the last event applied (the ledger's clock).</summary>
    public ulong Now => Ledger.LastTimestamp;

    /// <summary>A cumulative channel from the payer to the payee on ledger 1, expiring at <paramref name="expiresAt"/> (default: in an hour).</summary>
    public ChannelConfig Cumulative(ulong expiresAt = 0, ulong settleDelay = 60 * Second, UInt128 salt = default) =>
        ChannelConfig.CreateCumulative(Instance, Payer, Payee, 1, PayerKey.VerificationKey, expiresAt == 0 ? _clock + (3600 * Second) : expiresAt, settleDelay, salt);

    public void Fund(UInt128 amount)
    {
        ulong id = 1_000_000 + (ulong)Ledger.TransferCount;
        Assert.Equal(CreateTransferResult.Ok, Ledger.CreateTransfer(NextTime(), Tr(id, Bank, Payer, amount)));
    }

    public ChannelResult Open(ChannelConfig config, UInt128 deposit) =>
        ApplyOne(OperationRegistry.OpenChannels, ChannelOpenRequest.Sign(PayerKey, config, deposit));

    public ChannelResult Redeem(Voucher voucher) => ApplyOne(OperationRegistry.RedeemVouchers, VoucherRedemption.Of(voucher));

    /// <summary>Redeems vouchers in one batch (events at the batch's start, start + 1, ...).</summary>
    public ChannelResult[] RedeemMany(Voucher[] vouchers)
    {
        var results = new ChannelResult[vouchers.Length];
        OperationRegistry.RedeemVouchers.Apply(Ledger, NextTime(), [.. vouchers.Select(v => VoucherRedemption.Of(v))], results);
        Conservation.AssertConserved(Ledger.Accounts);
        return results;
    }

    public Voucher Voucher(ChannelConfig config, uint lane, ulong sequence, UInt128 cumulative, ulong validUntil = ulong.MaxValue) =>
        Micropay.Core.Channels.Voucher.Sign(PayerKey, Instance, config.Id, lane, sequence, cumulative, validUntil);

    public ChannelResult Redeem(ChannelConfig config, uint lane, ulong sequence, UInt128 cumulative) => Redeem(Voucher(config, lane, sequence, cumulative));

    public ChannelResult TopUp(UInt128 transferId, ChannelConfig config, UInt128 amount) =>
        ApplyOne(OperationRegistry.TopUpChannels, new ChannelTopUp(transferId, config.Id, amount));

    public ChannelResult Close(ChannelClose close) => ApplyOne(OperationRegistry.CloseChannels, close);

    public ChannelResult CloseUnilaterally(ChannelConfig config) => Close(ChannelClose.Unilateral(PayerKey, Instance, config.Id));

    public ChannelResult RedeemTick(Micropay.Core.Channels.Tick tick) => ApplyOne(OperationRegistry.RedeemTicks, tick);

    /// <summary>An empty batch at <paramref name="at"/> (or the next tick): the engine's clock pulse.</summary>
    public void Pulse(ulong at = 0)
    {
        if (at != 0)
        {
            _clock = Math.Max(_clock, at);
        }

        Ledger.CreateTransfers(at == 0 ? NextTime() : _clock, [], []);
    }

    /// <summary>Moves the batch clock so the next event is applied at exactly <paramref name="at"/>.</summary>
    public void SetNextTimestamp(ulong at) => _clock = at - 1;

    public Account Account(UInt128 id)
    {
        Assert.True(Ledger.TryGetAccount(id, out Account account), $"account {id} exists");
        return account;
    }

    /// <summary>Credits minus debits (posted) of an account.</summary>
    public UInt128 Balance(UInt128 id)
    {
        Account a = Account(id);
        return a.CreditsPosted - a.DebitsPosted;
    }

    /// <summary>
    /// A kit over a ledger restored from a snapshot of this one (the ledger's section, then the instance and channel
    /// sections, as the engine's recovery restores them), at the same clock.
    /// </summary>
    public ChannelTestKit Restored()
    {
        var ledgerBytes = new System.Buffers.ArrayBufferWriter<byte>();
        Ledger.WriteSnapshot(ledgerBytes);
        var channelBytes = new System.Buffers.ArrayBufferWriter<byte>();
        ChannelBook.Of(Ledger).WriteSnapshot(channelBytes);
        Assert.Equal(ChannelBook.Of(Ledger).SnapshotSize, channelBytes.WrittenCount);

        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(ledgerBytes.WrittenSpan);
        restored.RestoreInstanceId(Ledger.InstanceId);
        ChannelBook.RestoreSnapshot(restored, new System.Buffers.ReadOnlySequence<byte>(channelBytes.WrittenMemory));
        return new ChannelTestKit(restored, _clock);
    }

    public void Dispose() => PayerKey.Dispose();

    private ChannelResult ApplyOne<TEvent>(Operation<TEvent, ChannelResult> operation, TEvent e)
        where TEvent : struct
    {
        var results = new ChannelResult[1];
        operation.Apply(Ledger, NextTime(), [e], results);
        Conservation.AssertConserved(Ledger.Accounts);
        return results[0];
    }

    private ulong NextTime() => ++_clock;
}
