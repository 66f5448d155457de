using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Engine;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Channels;

/// <summary>Channels through the engine: edge verification, durability, recovery from the journal and from snapshots, concurrency.</summary>
public sealed class ChannelEngineTests : EngineTestKit
{
    private const ulong Hour = 3600UL * 1_000_000_000UL;
    private static readonly UInt128 Bank = 1;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;
    private static readonly byte[] PayerSeed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");

    // RFC 8032 section 7.1, test 2's secret key; shared by the tests (and never disposed) like the constants above.
    private static readonly SigningKey PayerKey = SigningKey.Import(PayerSeed, SigningKeyFormat.RawSeed);

    [Fact]
    public async Task RedeemVoucherAsync_DurableEngine_PaysAndSurvivesReopening()
    {
        ChannelConfig config;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            config = await OpenChannelAsync(engine, deposit: 500);
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, lane: 0, sequence: 2, cumulative: 40)));
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, lane: 0, sequence: 5, cumulative: 90)));
            Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo info));
            Assert.Equal((UInt128)500, info.Deposited);
            Assert.Equal((UInt128)90, info.PaidOut);
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.True(reopened.TryGetChannel(config.Id, out ChannelInfo info));
            Assert.Equal((UInt128)410, info.Remaining);
            Assert.Equal(ChannelResult.AlreadyRedeemed, await reopened.RedeemVoucherAsync(Sign(reopened, config, 0, 5, 90)));
            Assert.Equal(ChannelResult.SequenceNotIncreasing, await reopened.RedeemVoucherAsync(Sign(reopened, config, 0, 3, 95)));
            Assert.Equal(ChannelResult.Ok, await reopened.RedeemVoucherAsync(Sign(reopened, config, 0, 6, 100)));
            Assert.True(reopened.TryGetAccount(Payee, out Account payee));
            Assert.Equal((UInt128)100, payee.CreditsPosted);
        }
    }

    [Fact]
    public async Task OpenAsync_FromASnapshotWithChannels_RestoresLanesAndDeadlines()
    {
        ChannelConfig config;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            config = await OpenChannelAsync(engine, deposit: 500);
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, lane: 7, sequence: 3, cumulative: 30)));
            Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Unilateral(PayerKey, engine.InstanceId, config.Id)));
            Assert.NotEqual(0UL, await engine.TakeSnapshotAsync());
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.NotEqual(0UL, reopened.LatestSnapshotBatchNumber);
            Assert.Equal(ChannelResult.AlreadyRedeemed, await reopened.RedeemVoucherAsync(Sign(reopened, config, 7, 3, 35)));
            Assert.Equal(ChannelResult.SequenceNotIncreasing, await reopened.RedeemVoucherAsync(Sign(reopened, config, 7, 2, 35)));
            Assert.Equal(ChannelResult.ChannelClosing, await reopened.CloseChannelAsync(ChannelClose.Unilateral(PayerKey, reopened.InstanceId, config.Id)));
            Assert.Equal(ChannelResult.Ok, await reopened.RedeemVoucherAsync(Sign(reopened, config, 7, 4, 45)));
        }
    }

    [Fact]
    public async Task RedeemVoucherAsync_EverySingleBitFlip_IsRefusedAndMovesNothing()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 500);
        byte[] good = new byte[Voucher.Size];
        Sign(engine, config, 0, 1, 50).Encode(good);
        ulong batches = engine.ReleasedBatchNumber;

        int parsedButRefused = 0;
        for (int bit = 0; bit < Voucher.Size * 8; bit++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            if (!Voucher.TryParse(flipped, out Voucher voucher, out _))
            {
                continue;
            }

            ChannelResult result = await engine.RedeemVoucherAsync(voucher);
            Assert.True(result is ChannelResult.BadSignature or ChannelResult.ChannelNotFound, $"bit {bit}: {result}");
            parsedButRefused++;
        }

        Assert.True(parsedButRefused > 500, $"only {parsedButRefused} flips parsed: the test would not exercise the signature");
        Assert.Equal(batches, engine.ReleasedBatchNumber);
        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal(UInt128.Zero, payee.CreditsPosted);
        Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, 0, 1, 50)));
    }

    [Fact]
    public async Task RedeemVoucherAsync_VoucherForAnotherInstance_IsBadSignature()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 500);
        Voucher foreign = Voucher.Sign(PayerKey, engine.InstanceId + 1, config.Id, 0, 1, 50, ulong.MaxValue);

        Assert.Equal(ChannelResult.BadSignature, await engine.RedeemVoucherAsync(foreign));
    }

    [Fact]
    public async Task OpenChannelAsync_SignedByAnotherKey_IsBadSignatureAndTheWrongInstanceIsInstanceMismatch()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundPayerAsync(engine, 1_000);
        using SigningKey other = SigningKey.Generate();
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, other.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        ChannelOpenRequest signed = ChannelOpenRequest.Sign(other, config, 100);
        byte[] bytes = new byte[ChannelOpenRequest.Size];
        signed.Encode(bytes);
        bytes[^1] ^= 1;
        Assert.True(ChannelOpenRequest.TryParse(bytes, out ChannelOpenRequest tampered, out _));

        Assert.Equal(ChannelResult.BadSignature, await engine.OpenChannelAsync(tampered));
        ChannelConfig elsewhere = ChannelConfig.CreateCumulative(engine.InstanceId + 1, Payer, Payee, 1, other.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        Assert.Equal(ChannelResult.InstanceMismatch, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(other, elsewhere, 100)));
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(signed));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RedeemVoucherAsync_EightConcurrentRedeemers_NeverPayMoreThanTheBestVoucherPerLane(bool sameLane)
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 1_000_000);
        const int Vouchers = 40;
        uint lanes = sameLane ? 1U : 4U;
        var vouchers = new List<Voucher>();
        for (uint lane = 0; lane < lanes; lane++)
        {
            for (ulong s = 1; s <= Vouchers; s++)
            {
                vouchers.Add(Sign(engine, config, lane, s, (UInt128)(s * 100) + lane));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            foreach (Voucher voucher in vouchers.OrderBy(_ => random.Next()))
            {
                ChannelResult result = await engine.RedeemVoucherAsync(voucher);
                Assert.True(
                    result is ChannelResult.Ok or ChannelResult.AlreadyRedeemed or ChannelResult.SequenceNotIncreasing or ChannelResult.AmountNotIncreasing,
                    result.ToString());
            }
        })));

        UInt128 best = 0;
        for (uint lane = 0; lane < lanes; lane++)
        {
            best += (UInt128)(Vouchers * 100) + lane;
        }

        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal(best, payee.CreditsPosted);
        Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo info));
        Assert.Equal(best, info.PaidOut);
    }

    [Fact]
    public async Task RedeemVouchersAsync_BatchWithSomeBadSignatures_RefusesThoseAndRedeemsTheRest()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 1_000_000);
        var vouchers = new Voucher[200];
        for (int i = 0; i < vouchers.Length; i++)
        {
            vouchers[i] = Sign(engine, config, (uint)i, 1, 10);
        }

        for (int i = 0; i < vouchers.Length; i += 7)
        {
            vouchers[i] = Voucher.Sign(PayerKey, engine.InstanceId ^ 1, config.Id, (uint)i, 1, 10, ulong.MaxValue);
        }

        var results = new ChannelResult[vouchers.Length];
        int failed = await engine.RedeemVouchersAsync(vouchers, results);

        int bad = (vouchers.Length + 6) / 7;
        Assert.Equal(bad, failed);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 7 == 0 ? ChannelResult.BadSignature : ChannelResult.Ok, results[i]);
        }

        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal((UInt128)((vouchers.Length - bad) * 10), payee.CreditsPosted);
    }

    [Fact]
    public async Task RedeemVouchersAsync_FourCallersWithLargeBatches_VerifyOnEveryCoreAndPayEachVoucherOnce()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 1_000_000);
        const int Callers = 4;
        const int Batches = 3;
        const int BatchSize = 150;
        int[] failedPerCaller = await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            int failed = 0;
            for (int b = 0; b < Batches; b++)
            {
                var vouchers = new Voucher[BatchSize];
                for (int i = 0; i < BatchSize; i++)
                {
                    uint lane = (uint)((caller * BatchSize) + i);
                    vouchers[i] = i % 10 == 9
                        ? Voucher.Sign(PayerKey, engine.InstanceId + 1, config.Id, lane, (ulong)b + 1, (UInt128)(b + 1) * 2, ulong.MaxValue)
                        : Sign(engine, config, lane, (ulong)b + 1, (UInt128)(b + 1) * 2);
                }

                var results = new ChannelResult[BatchSize];
                failed += await engine.RedeemVouchersAsync(vouchers, results);
                for (int i = 0; i < BatchSize; i++)
                {
                    Assert.Equal(i % 10 == 9 ? ChannelResult.BadSignature : ChannelResult.Ok, results[i]);
                }
            }

            return failed;
        })));

        Assert.All(failedPerCaller, failed => Assert.Equal(Batches * (BatchSize / 10), failed));

        // Each good lane redeemed up to its last batch's voucher, 2 per batch, once.
        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal((UInt128)(Callers * (BatchSize - (BatchSize / 10)) * Batches * 2), payee.CreditsPosted);
    }

    [Fact]
    public async Task CloseChannelAsync_Cooperative_RefundsThePayerAndAReplayAgrees()
    {
        ChannelConfig config;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            config = await OpenChannelAsync(engine, deposit: 500);
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, 0, 1, 120)));
            Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Cooperative(config.Id)));
            Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo info));
            Assert.Equal(UInt128.Zero, info.Remaining);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.True(reopened.TryGetAccount(Payer, out Account payer));
        Assert.Equal((UInt128)(2_000_000 - 120), payer.CreditsPosted - payer.DebitsPosted);
        Assert.Equal(ChannelResult.ChannelClosed, await reopened.RedeemVoucherAsync(Sign(reopened, config, 0, 2, 130)));
    }

    [Fact]
    public async Task RedeemTickAsync_HashChainChannel_PaysUnitsPerIndexAndRefusesWhatItShould()
    {
        using HashChainWallet chain = HashChainWallet.Create(100);
        ChannelConfig config;
        Tick five;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            await FundPayerAsync(engine, 10_000);
            config = ChannelConfig.CreateHashChain(engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 0, chain.Root, unitAmount: 10, chainLength: 100);
            Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(PayerKey, config, 500)));

            Tick two = chain.NextTick(config.Id, 2);
            five = chain.NextTick(config.Id, 3);
            Assert.Equal(ChannelResult.Ok, await engine.RedeemTickAsync(two));
            Assert.Equal(ChannelResult.Ok, await engine.RedeemTickAsync(five));
            Assert.Equal(ChannelResult.AlreadyRedeemed, await engine.RedeemTickAsync(five));

            // The word at index 4 is the hash of the word at 5: a genuine tick, below what was redeemed.
            byte[] word = new byte[32];
            five.CopyWordTo(word);
            Micropay.Core.Crypto.Blake2b256.Hash(word, word);
            Assert.Equal(ChannelResult.TickIndexNotIncreasing, await engine.RedeemTickAsync(new Tick(config.Id, 4, word)));
            Assert.Equal(ChannelResult.BadTick, await engine.RedeemTickAsync(new Tick(config.Id, 7, new byte[32])));
            Assert.Equal(ChannelResult.WrongChannelMode, await engine.RedeemVoucherAsync(Voucher.Sign(PayerKey, engine.InstanceId, config.Id, 0, 1, 10, ulong.MaxValue)));
            Assert.Equal(ChannelResult.ExceedsDeposit, await engine.RedeemTickAsync(chain.NextTick(config.Id, 50)));
            Assert.True(engine.TryGetAccount(Payee, out Account payee));
            Assert.Equal((UInt128)50, payee.CreditsPosted);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(ChannelResult.AlreadyRedeemed, await reopened.RedeemTickAsync(five));
        Assert.True(reopened.TryGetChannel(config.Id, out ChannelInfo info));
        Assert.Equal((UInt128)450, info.Remaining);
    }

    [Fact]
    public async Task BatchMethods_OpensTopUpsTicksAndCloses_RefuseBadEventsAtTheEdgeAndApplyTheRest()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundPayerAsync(engine, 100_000);
        using HashChainWallet chain = HashChainWallet.Create(50);
        ChannelConfig cumulative = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 1);
        ChannelConfig hashChain = ChannelConfig.CreateHashChain(engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 2, chain.Root, 3, 50);
        ChannelConfig foreign = ChannelConfig.CreateCumulative(engine.InstanceId + 1, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 3);
        var results = new ChannelResult[3];

        Assert.Equal(1, await engine.OpenChannelsAsync(
            new[] { ChannelOpenRequest.Sign(PayerKey, cumulative, 1_000), ChannelOpenRequest.Sign(PayerKey, foreign, 1_000), ChannelOpenRequest.Sign(PayerKey, hashChain, 300) },
            results));
        Assert.Equal([ChannelResult.Ok, ChannelResult.InstanceMismatch, ChannelResult.Ok], results);

        Assert.Equal(0, await engine.TopUpChannelsAsync(new[] { new ChannelTopUp(500, cumulative.Id, 10), new ChannelTopUp(501, hashChain.Id, 30) }, results.AsMemory(0, 2)));

        Tick four = chain.NextTick(hashChain.Id, 4);
        Tick nine = chain.NextTick(hashChain.Id, 5);
        Assert.Equal(1, await engine.RedeemTicksAsync(new[] { four, new Tick(hashChain.Id, 10, new byte[32]), nine }, results));
        Assert.Equal([ChannelResult.Ok, ChannelResult.BadTick, ChannelResult.Ok], results);

        using SigningKey stranger = SigningKey.Generate();
        Assert.Equal(1, await engine.CloseChannelsAsync(
            new[] { ChannelClose.Cooperative(cumulative.Id), ChannelClose.Unilateral(stranger, engine.InstanceId, hashChain.Id) }, results.AsMemory(0, 2)));
        Assert.Equal([ChannelResult.Ok, ChannelResult.BadSignature], results.AsSpan(0, 2).ToArray());

        Assert.True(engine.TryGetAccount(Payee, out Account payee));
        Assert.Equal((UInt128)27, payee.CreditsPosted);
        Assert.True(engine.TryGetChannel(cumulative.Id, out ChannelInfo closed));
        Assert.Equal(UInt128.Zero, closed.Remaining);
        Assert.True(engine.TryGetChannel(hashChain.Id, out ChannelInfo open));
        Assert.Equal((UInt128)(330 - 27), open.Remaining);
    }

    [Fact]
    public async Task TryGetLaneAndStatus_FollowReleasedRedemptionsAndClosesAndSurviveReopening()
    {
        ChannelConfig config;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            config = await OpenChannelAsync(engine, deposit: 500);
            Assert.False(engine.TryGetLane(config.Id, 3, out _, out _));
            Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo open));
            Assert.Equal(ChannelStatus.Open, open.Status);

            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, lane: 3, sequence: 4, cumulative: 40)));
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, lane: 3, sequence: 9, cumulative: 65)));
            Assert.True(engine.TryGetLane(config.Id, 3, out ulong sequence, out UInt128 redeemed));
            Assert.Equal((9UL, (UInt128)65), (sequence, redeemed));

            Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Unilateral(PayerKey, engine.InstanceId, config.Id)));
            Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo closing));
            Assert.Equal(ChannelStatus.Closing, closing.Status);
            Assert.NotEqual(0UL, closing.CloseDeadline);
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.True(reopened.TryGetLane(config.Id, 3, out ulong sequence, out UInt128 redeemed));
            Assert.Equal((9UL, (UInt128)65), (sequence, redeemed));
            Assert.True(reopened.TryGetChannel(config.Id, out ChannelInfo closing));
            Assert.Equal(ChannelStatus.Closing, closing.Status);
            Assert.Equal(ChannelResult.Ok, await reopened.CloseChannelAsync(ChannelClose.Cooperative(config.Id)));
            Assert.True(reopened.TryGetChannel(config.Id, out ChannelInfo closed));
            Assert.Equal(ChannelStatus.Closed, closed.Status);
        }
    }

    [Fact]
    public async Task TryGetLane_ReadWhileRedeeming_NeverTornNeverGoesBack()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync(mode: DurabilityMode.Buffered);
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 1_000_000);
        Voucher[] vouchers = [.. Enumerable.Range(1, 400).Select(s => Sign(engine, config, 0, (ulong)s, (UInt128)s * 7))];
        using var done = new CancellationTokenSource();
        Task reader = Task.Run(() =>
        {
            ulong last = 0;
            int reads = 0;
            while (!done.IsCancellationRequested || reads == 0)
            {
                if (engine.TryGetLane(config.Id, 0, out ulong sequence, out UInt128 redeemed))
                {
                    Assert.Equal((UInt128)sequence * 7, redeemed);
                    Assert.True(sequence >= last, $"the lane went back from {last} to {sequence}");
                    last = sequence;
                }

                reads++;
            }
        });

        foreach (Voucher voucher in vouchers)
        {
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(voucher));
        }

        await done.CancelAsync();
        await reader;
        Assert.True(engine.TryGetLane(config.Id, 0, out ulong final, out _));
        Assert.Equal(400UL, final);
    }

    [Fact]
    public async Task TryGetLane_RedemptionNotYetDurable_IsNotVisible()
    {
        var store = new SlowAppendStore(new InMemoryLedgerStore());
        await using LedgerEngine engine = await OpenEngineAsync(store);
        ChannelConfig config = await OpenChannelAsync(engine, deposit: 500);
        Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, 0, 1, 10)));

        store.Delay = TimeSpan.FromMilliseconds(300);
        ValueTask<ChannelResult> pending = engine.RedeemVoucherAsync(Sign(engine, config, 0, 2, 25));
        await Task.Delay(100);

        // Applied by the writer, but its append has not finished: reads still show the released lane.
        Assert.False(pending.IsCompleted);
        Assert.True(engine.TryGetLane(config.Id, 0, out ulong sequence, out _));
        Assert.Equal(1UL, sequence);

        Assert.Equal(ChannelResult.Ok, await pending);
        Assert.True(engine.TryGetLane(config.Id, 0, out sequence, out UInt128 redeemed));
        Assert.Equal((2UL, (UInt128)25), (sequence, redeemed));
    }

    private sealed class SlowAppendStore(ILedgerStore inner) : Micropay.Core.Storage.Tests.ForwardingLedgerStore(inner)
    {
        public TimeSpan Delay { get; set; }

        public override async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Delay, cancellationToken);
            await Inner.AppendAsync(batch, cancellationToken);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClockPulses_IdleEnginePastAChannelsDeadline_RefundsThePayerWithoutAnySubmission(bool unilateral)
    {
        // The channel's expiry (or the end of the payer's settle delay) is a deadline on the ledger's clock: an idle
        // engine pulses for it as for a hold's timeout, so the payer gets the rest back with nobody submitting anything.
        var clock = new ManualClock();
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory), TimeProvider = clock, ClockPulses = true,
        });
        await FundPayerAsync(engine, 1_000);
        ulong second = 1_000_000_000UL;
        ChannelConfig config = ChannelConfig.CreateCumulative(
            engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, clock.Nanoseconds + ((unilateral ? 3_600UL : 5UL) * second), 2 * second, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(PayerKey, config, 300)));
        Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, 0, 1, 100)));
        if (unilateral)
        {
            Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Unilateral(PayerKey, engine.InstanceId, config.Id)));
        }

        clock.Nanoseconds += 10 * second;
        ChannelInfo info = default;
        for (int i = 0; i < 300 && (!engine.TryGetChannel(config.Id, out info) || info.Status != ChannelStatus.Closed); i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(ChannelStatus.Closed, info.Status);
        Assert.Equal(UInt128.Zero, info.Remaining);
        Assert.True(engine.TryGetAccount(Payer, out Account payer));
        Assert.Equal((UInt128)(1_000 - 100), payer.CreditsPosted - payer.DebitsPosted);
    }

    [Fact]
    public async Task ChannelOperations_JournaledUnderTheirOwnCodes()
    {
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            ChannelConfig config = await OpenChannelAsync(engine, deposit: 500);
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Sign(engine, config, 0, 1, 120)));
        }

        var store = new FileLedgerStore(Directory);
        await store.OpenAsync();
        var operations = new List<BatchOperation>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            operations.Add(batch.Header.Operation);
            if (batch.Header.Operation == BatchOperation.OpenChannels)
            {
                Assert.Equal(ChannelOpenRequest.Size, batch.Header.EventSize);
            }
        }

        await store.DisposeAsync();
        Assert.Equal(BatchOperation.SetInstanceId, operations[0]);
        Assert.Contains(BatchOperation.OpenChannels, operations);
        Assert.Equal(BatchOperation.RedeemVouchers, operations[^1]);
    }

    private static Voucher Sign(LedgerEngine engine, ChannelConfig config, uint lane, ulong sequence, UInt128 cumulative) =>
        Voucher.Sign(PayerKey, engine.InstanceId, config.Id, lane, sequence, cumulative, ulong.MaxValue);

    private static async Task FundPayerAsync(LedgerEngine engine, UInt128 amount)
    {
        var results = new CreateAccountResult[3];
        await engine.CreateAccountsAsync(new[] { Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee) }, results);
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100, Bank, Payer, amount)));
    }

    private static async Task<ChannelConfig> OpenChannelAsync(LedgerEngine engine, UInt128 deposit)
    {
        await FundPayerAsync(engine, 2_000_000);
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(PayerKey, config, deposit)));
        return config;
    }
}
