using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Engine;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// Keys and payment orders through the engine on a file store: edge verification (one by one and in parallel), the
/// released key state, recovery from the journal and from snapshots, revocation closing channels, co-signed orders and
/// opens, a revocation racing eight payers, and every single-bit flip of an order's record.
/// </summary>
public sealed class IdentityEngineTests : EngineTestKit
{
    private const ulong Second = 1_000_000_000UL;
    private const ulong Hour = 3_600 * Second;
    private static readonly UInt128 Bank = 1;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;
    private static readonly UInt128 Other = 4;

    // RFC 8032 section 7.1, tests 1 and 2's secret keys, and a third fixed key that is never registered; shared by the
    // tests and never disposed, like ChannelEngineTests' payer key.
    private static readonly SigningKey Device = SigningKey.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), SigningKeyFormat.RawSeed);
    private static readonly SigningKey Phone = SigningKey.Import(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"), SigningKeyFormat.RawSeed);
    private static readonly SigningKey Stranger = SigningKey.Import([.. Enumerable.Range(0, 32).Select(i => (byte)(200 - i))], SigningKeyFormat.RawSeed);

    private static UInt128 DeviceKeyId => KeyIds.Of(Device.VerificationKey);

    private static UInt128 PhoneKeyId => KeyIds.Of(Phone.VerificationKey);

    [Fact]
    public async Task ExecuteOrderAsync_KeysAndWindowSpending_SurviveReopeningFromTheJournal()
    {
        var policy = new SpendingPolicy { WindowLimit = 100, WindowLength = Hour };
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            await FundAsync(engine, 10_000);
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, policy));
            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 70)));
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.True(reopened.TryGetKey(DeviceKeyId, out KeyInfo key));
            Assert.Equal((KeyStatus.Active, Payer, (UInt128)70), (key.Status, key.AccountId, key.SpentInWindow));
            Assert.Equal(policy, key.Policy);

            Assert.Equal(OrderResult.OverWindowLimit, await reopened.ExecuteOrderAsync(Order(reopened, 2, 31)));
            Assert.Equal(OrderResult.Exists, await reopened.ExecuteOrderAsync(Order(reopened, 1, 70)));
            Assert.Equal(OrderResult.Ok, await reopened.ExecuteOrderAsync(Order(reopened, 3, 30)));
            Assert.Equal(OrderResult.OverWindowLimit, await reopened.ExecuteOrderAsync(Order(reopened, 4, 1)));
            Assert.Equal((UInt128)100, Credits(reopened, Payee));
        }
    }

    [Fact]
    public async Task ExecuteOrderAsync_KeysAndWindowSpending_SurviveReopeningFromASnapshot()
    {
        var policy = new SpendingPolicy { WindowLimit = 100, WindowLength = Hour, MaxPerPayment = 80 };
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            await FundAsync(engine, 10_000);
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, policy));
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 70)));
            Assert.Equal(KeyResult.Ok, await engine.RevokeKeyAsync(PhoneKeyId));
            Assert.NotEqual(0UL, await engine.TakeSnapshotAsync());
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.NotEqual(0UL, reopened.LatestSnapshotBatchNumber);
            Assert.True(reopened.TryGetKey(DeviceKeyId, out KeyInfo device));
            Assert.Equal((KeyStatus.Active, (UInt128)70, (UInt128)30), (device.Status, device.SpentInWindow, device.WindowRemaining));
            Assert.Equal(policy, device.Policy);
            Assert.True(reopened.TryGetKey(PhoneKeyId, out KeyInfo phone));
            Assert.Equal(KeyStatus.Revoked, phone.Status);

            Assert.Equal(OrderResult.OverWindowLimit, await reopened.ExecuteOrderAsync(Order(reopened, 2, 31)));
            Assert.Equal(OrderResult.KeyRevoked, await reopened.ExecuteOrderAsync(Order(reopened, 3, 1, Phone)));
            Assert.Equal(KeyResult.AlreadyRevoked, await reopened.RevokeKeyAsync(PhoneKeyId));
            Assert.Equal(OrderResult.Ok, await reopened.ExecuteOrderAsync(Order(reopened, 4, 30)));
            Assert.Equal((UInt128)100, Credits(reopened, Payee));
        }
    }

    [Fact]
    public async Task ExecuteOrdersAsync_LargeBatchWithBadSignaturesUnknownKeysAndPolicyRefusals_GivesEachItsResultAndAppliesOnlyTheGoodOnes()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 1_000_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { MaxPerPayment = 50 }));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));

        // 150 orders: more than the 64 from which the edge verifies on every core. Some are co-signed, so the batch is
        // journaled as co-signed orders (1024 bytes each).
        var orders = new PaymentOrder[150];
        var expected = new OrderResult[orders.Length];
        for (int i = 0; i < orders.Length; i++)
        {
            ulong id = 1_000 + (ulong)i;
            PaymentOrder good = Order(engine, id, (ulong)(i % 50) + 1);
            (orders[i], expected[i]) =
                i % 7 == 0 ? (PaymentOrder.Sign(Device, engine.InstanceId + 1, Tr(id, Payer, Payee, 10), ulong.MaxValue), OrderResult.BadSignature)
                : i % 11 == 0 ? (Order(engine, id, 10, Stranger), OrderResult.KeyNotFound)
                : i % 5 == 0 ? (Order(engine, id, 51), OrderResult.OverPaymentLimit)
                : i % 13 == 0 ? (good.WithCoSignature(CoSignature.SignEd25519(Phone, good, engine.InstanceId)), OrderResult.Ok)
                : i % 17 == 0 ? (good.WithCoSignature(CoSignature.SignEd25519(Stranger, good, engine.InstanceId)), OrderResult.CoSignerNotFound)
                : i % 19 == 0 ? (good.WithCoSignature(CoSignature.SignEd25519(Phone, good, engine.InstanceId + 1)), OrderResult.BadCoSignature)
                : (good, OrderResult.Ok);
        }

        orders[^1] = default;
        expected[^1] = OrderResult.BadSignature;
        UInt128 paid = 0;
        for (int i = 0; i < orders.Length; i++)
        {
            paid += expected[i] == OrderResult.Ok ? orders[i].Amount : UInt128.Zero;
        }

        var results = new OrderResult[orders.Length];
        int failed = await engine.ExecuteOrdersAsync(orders, results);

        Assert.Equal(expected, results);
        Assert.Equal(expected.Count(r => r != OrderResult.Ok), failed);
        Assert.Equal(paid, Credits(engine, Payee));
        Assert.False(engine.TryGetTransfer(1_000, out _));
        Assert.True(engine.TryGetTransfer(1_001, out Transfer applied));
        Assert.Equal(orders[1].ToTransfer() with { Timestamp = applied.Timestamp }, applied);
        Conservation.AssertConserved(engine.ReadAllAccounts());
    }

    [Fact]
    public async Task TryGetKey_AfterEachRelease_ReportsStatusPolicySpendingAndWhatRemains()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.False(engine.TryGetKey(DeviceKeyId, out _));
        var policy = new SpendingPolicy { WindowLimit = 100, WindowLength = Hour, MaxPerPayment = 80 };
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, policy));

        Assert.True(engine.TryGetKey(DeviceKeyId, out KeyInfo key));
        Assert.Equal((DeviceKeyId, Payer, KeyKind.Ed25519, KeyStatus.Active), (key.KeyId, key.AccountId, key.Kind, key.Status));
        Assert.Equal(policy, key.Policy);
        Assert.Equal((UInt128.Zero, (UInt128)100), (key.SpentInWindow, key.WindowRemaining));

        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 40)));
        Assert.True(engine.TryGetTransfer(1, out Transfer first));
        Assert.True(engine.TryGetKey(DeviceKeyId, out key));
        Assert.Equal(((UInt128)40, (UInt128)60, first.Timestamp), (key.SpentInWindow, key.WindowRemaining, key.AsOf));

        var lower = new SpendingPolicy { WindowLimit = 50, WindowLength = Hour };
        Assert.Equal(KeyResult.Ok, await engine.UpdateKeyPolicyAsync(DeviceKeyId, lower));
        Assert.True(engine.TryGetKey(DeviceKeyId, out key));
        Assert.Equal(lower, key.Policy);
        Assert.Equal(((UInt128)40, (UInt128)10), (key.SpentInWindow, key.WindowRemaining));

        Assert.Equal(OrderResult.OverWindowLimit, await engine.ExecuteOrderAsync(Order(engine, 2, 11)));
        Assert.True(engine.TryGetKey(DeviceKeyId, out KeyInfo unchanged));
        Assert.Equal(key, unchanged);
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 3, 10)));
        Assert.True(engine.TryGetKey(DeviceKeyId, out key));
        Assert.Equal(((UInt128)50, UInt128.Zero), (key.SpentInWindow, key.WindowRemaining));

        Assert.Equal(KeyResult.Ok, await engine.UpdateKeyPolicyAsync(DeviceKeyId, SpendingPolicy.Unlimited));
        Assert.True(engine.TryGetKey(DeviceKeyId, out key));
        Assert.Equal((UInt128.Zero, UInt128.MaxValue), (key.SpentInWindow, key.WindowRemaining));

        Assert.Equal(KeyResult.Ok, await engine.RevokeKeyAsync(DeviceKeyId));
        Assert.True(engine.TryGetKey(DeviceKeyId, out key));
        Assert.Equal((KeyStatus.Revoked, UInt128.Zero), (key.Status, key.WindowRemaining));
        Assert.False(engine.TryGetKey(KeyIds.Of(Stranger.VerificationKey), out _));
    }

    [Fact]
    public async Task RevokeKeyAsync_KeyFundingAnOpenChannel_ClosesItAndRefusesTheKeysLaterOrdersAndOpens()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
        ChannelConfig byDevice = Channel(engine, Device, salt: 1);
        ChannelConfig byPhone = Channel(engine, Phone, salt: 2);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(Device, byDevice, 300)));
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(Phone, byPhone, 300)));
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 10)));

        Assert.Equal(KeyResult.Ok, await engine.RevokeKeyAsync(DeviceKeyId));

        Assert.True(engine.TryGetKey(DeviceKeyId, out KeyInfo revoked));
        Assert.True(engine.TryGetChannel(byDevice.Id, out ChannelInfo closing));
        Assert.Equal(ChannelStatus.Closing, closing.Status);
        Assert.Equal(revoked.AsOf + byDevice.SettleDelay, closing.CloseDeadline);
        Assert.True(engine.TryGetChannel(byPhone.Id, out ChannelInfo open));
        Assert.Equal(ChannelStatus.Open, open.Status);

        Assert.Equal(OrderResult.KeyRevoked, await engine.ExecuteOrderAsync(Order(engine, 2, 10)));
        Assert.Equal(OrderResult.Exists, await engine.ExecuteOrderAsync(Order(engine, 1, 10)));
        Assert.Equal(ChannelResult.KeyRevoked, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(Device, Channel(engine, Device, salt: 3), 100)));
        Assert.Equal(ChannelResult.ChannelClosing, await engine.TopUpChannelAsync(new ChannelTopUp(50, byDevice.Id, 10)));
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 3, 10, Phone)));
        Assert.Equal((UInt128)(10_000 - 600 - 20), Net(engine, Payer));
    }

    [Fact]
    public async Task ExecuteOrderAsync_CoSignedByTheAccountsOtherEd25519Key_AppliesAboveTheThresholdAndReplays()
    {
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            await FundAsync(engine, 10_000);
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { StepUpThreshold = 100 }));
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
            PaymentOrder big = Order(engine, 1, 500);
            PaymentOrder another = Order(engine, 2, 500);

            Assert.Equal(OrderResult.StepUpRequired, await engine.ExecuteOrderAsync(big));
            Assert.Equal(OrderResult.CoSignerNotFound, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Stranger, big, engine.InstanceId))));
            Assert.Equal(OrderResult.CoSignerIsSigner, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Device, big, engine.InstanceId))));
            Assert.Equal(OrderResult.BadCoSignature, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Phone, another, engine.InstanceId))));
            Assert.Equal(OrderResult.BadCoSignature, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Phone, big, engine.InstanceId + 1))));
            Assert.Equal(UInt128.Zero, Credits(engine, Payee));

            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Phone, big, engine.InstanceId))));

            // A batch with one co-signed order journals every order at 1024 bytes.
            var results = new OrderResult[2];
            Assert.Equal(0, await engine.ExecuteOrdersAsync(new[] { Order(engine, 3, 20), another.WithCoSignature(CoSignature.SignEd25519(Phone, another, engine.InstanceId)) }, results));
            Assert.Equal((UInt128)1_020, Credits(engine, Payee));
        }

        var coSigned = new List<int>();
        await using (var store = new FileLedgerStore(Directory))
        {
            await store.OpenAsync();
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                if (batch.Header.Operation == BatchOperation.ExecuteCoSignedOrders)
                {
                    Assert.Equal(PaymentOrder.CoSignedSize, batch.Header.EventSize);
                    coSigned.Add(batch.Header.EventCount);
                }
            }
        }

        Assert.Equal(new[] { 1, 2 }, coSigned);
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal((UInt128)1_020, Credits(reopened, Payee));
        Assert.Equal(OrderResult.Exists, await reopened.ExecuteOrderAsync(Order(reopened, 1, 500).WithCoSignature(CoSignature.SignEd25519(Phone, Order(reopened, 1, 500), reopened.InstanceId))));
    }

    [Fact]
    public async Task OpenChannelAsync_CoSignedByThePhone_OpensAboveTheThreshold()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { StepUpThreshold = 600 }));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
        ChannelOpenRequest request = ChannelOpenRequest.Sign(Device, Channel(engine, Device, salt: 1), 700);

        Assert.Equal(ChannelResult.StepUpRequired, await engine.OpenChannelAsync(request));
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(request.WithCoSignature(CoSignature.SignEd25519(Phone, request))));
        Assert.True(engine.TryGetChannel(request.ChannelId, out ChannelInfo info));
        Assert.Equal((UInt128)700, info.Deposited);
    }

    [Fact]
    public async Task OpenChannelsAsync_CoSignedAndPlainOpensMixed_GivesEachItsResult()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { StepUpThreshold = 600 }));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
        ChannelOpenRequest Open(int salt, UInt128 deposit) => ChannelOpenRequest.Sign(Device, Channel(engine, Device, (ulong)salt), deposit);
        ChannelOpenRequest elsewhere = Open(9, 700);

        ChannelOpenRequest[] requests =
        [
            Open(1, 100),
            Open(2, 700).WithCoSignature(CoSignature.SignEd25519(Phone, Open(2, 700))),
            Open(3, 700),
            Open(4, 700).WithCoSignature(CoSignature.SignEd25519(Stranger, Open(4, 700))),
            Open(5, 700).WithCoSignature(CoSignature.SignEd25519(Phone, elsewhere)),
            Open(6, 700).WithCoSignature(CoSignature.SignEd25519(Device, Open(6, 700))),
            Open(7, 200),
        ];
        ChannelResult[] expected =
        [
            ChannelResult.Ok, ChannelResult.Ok, ChannelResult.StepUpRequired, ChannelResult.CoSignerNotFound,
            ChannelResult.BadCoSignature, ChannelResult.CoSignerIsSigner, ChannelResult.Ok,
        ];
        var results = new ChannelResult[requests.Length];

        Assert.Equal(4, await engine.OpenChannelsAsync(requests, results));

        Assert.Equal(expected, results);
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i] == ChannelResult.Ok, engine.TryGetChannel(requests[i].ChannelId, out _));
        }

        Assert.Equal((UInt128)(10_000 - 1_000), Net(engine, Payer));
    }

    [Fact]
    public async Task ExecuteOrderAsync_EightCallersRacingARevocation_NothingAppliesFromItsBatchOnAndNothingIsLost()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 1_000_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, SpendingPolicy.Unlimited));
        const int Callers = 8;
        const int PerCaller = 40;
        PaymentOrder[][] orders = [.. Enumerable.Range(0, Callers).Select(c => Enumerable.Range(0, PerCaller).Select(j => Order(engine, (ulong)((c * 1_000) + j + 1), (ulong)(j % 9) + 1)).ToArray())];
        var results = new OrderResult[Callers, PerCaller];
        var submittedAfterRevocation = new bool[Callers, PerCaller];
        var revoked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int completed = 0;

        Task revoker = Task.Run(async () =>
        {
            while (Volatile.Read(ref completed) < Callers * PerCaller / 3)
            {
                await Task.Delay(1);
            }

            Assert.Equal(KeyResult.Ok, await engine.RevokeKeyAsync(DeviceKeyId));
            revoked.SetResult();
        });
        Task[] callers = [.. Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            for (int j = 0; j < PerCaller; j++)
            {
                // Each caller's last order goes in once the revocation has completed: it must be refused.
                if (j == PerCaller - 1)
                {
                    await revoked.Task;
                }

                submittedAfterRevocation[c, j] = revoked.Task.IsCompleted;
                results[c, j] = await engine.ExecuteOrderAsync(orders[c][j]);
                Interlocked.Increment(ref completed);
            }
        }))];
        await Task.WhenAll([.. callers, revoker]);

        Assert.True(engine.TryGetKey(DeviceKeyId, out KeyInfo key));
        Assert.Equal(KeyStatus.Revoked, key.Status);
        ulong revokedAt = key.AsOf;
        int ok = 0, refused = 0;
        UInt128 paid = 0;
        for (int c = 0; c < Callers; c++)
        {
            for (int j = 0; j < PerCaller; j++)
            {
                bool applied = engine.TryGetTransfer(orders[c][j].Id, out Transfer transfer);
                if (results[c, j] == OrderResult.Ok)
                {
                    Assert.True(applied, $"order {orders[c][j].Id} was Ok but has no transfer");
                    Assert.True(transfer.Timestamp < revokedAt, $"order {orders[c][j].Id} applied at {transfer.Timestamp}, the key was revoked at {revokedAt}");
                    Assert.False(submittedAfterRevocation[c, j], $"order {orders[c][j].Id} was submitted after the revocation completed, yet applied");
                    ok++;
                    paid += orders[c][j].Amount;
                }
                else
                {
                    Assert.Equal(OrderResult.KeyRevoked, results[c, j]);
                    Assert.False(applied);
                    refused++;
                }
            }
        }

        Assert.Equal(Callers * PerCaller, ok + refused);
        Assert.True(ok >= Callers * PerCaller / 3, $"only {ok} orders applied before the revocation");
        Assert.True(refused >= Callers, $"only {refused} orders were refused");
        Assert.Equal(paid, Credits(engine, Payee));
        Conservation.AssertConserved(engine.ReadAllAccounts());
    }

    [Fact]
    public async Task ExecuteOrderAsync_EverySingleBitFlipOfAnOrder_IsRefusedAndMovesNothing()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, SpendingPolicy.Unlimited));
        PaymentOrder good = PaymentOrder.Sign(Device, engine.InstanceId, Tr(77, Payer, Payee, 500) with { UserData128 = 5, UserData64 = 6, UserData32 = 7 }, ulong.MaxValue - 1);
        byte[] record = new byte[PaymentOrder.Size];
        good.Encode(record);

        Account[] before = engine.ReadAllAccounts();

        int parsed = await FlipEveryBitAsync(engine, record, Enumerable.Range(0, PaymentOrder.Size * 8));

        Assert.True(parsed > 1_000, $"only {parsed} flips parsed: the test would not exercise the signature");
        Assert.Equal(before, engine.ReadAllAccounts());
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(good));
        Assert.Equal((UInt128)500, Credits(engine, Payee));
    }

    [Fact]
    public async Task ExecuteOrderAsync_EverySingleBitFlipOfACoSignedOrdersSignedPartAndCoSignatureHead_IsRefusedAndMovesNothing()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));
        PaymentOrder order = Order(engine, 77, 500);
        PaymentOrder good = order.WithCoSignature(CoSignature.SignEd25519(Phone, order, engine.InstanceId));
        byte[] record = new byte[PaymentOrder.CoSignedSize];
        good.Encode(record);

        Account[] before = engine.ReadAllAccounts();

        // Bytes 0..191 (the signed fields and the signature), then the co-signature's first 96 bytes (kind, reserved, key id, signature).
        int parsed = await FlipEveryBitAsync(engine, record, Enumerable.Range(0, (192 + 96) * 8));

        Assert.True(parsed > 1_500, $"only {parsed} flips parsed: the test would not exercise the signatures");
        Assert.Equal(before, engine.ReadAllAccounts());
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(good));
        Assert.Equal((UInt128)500, Credits(engine, Payee));
    }

    /// <summary>
    /// Regression (bug): recovery computes each key's window spending with <c>IdentityBook.SpentInWindow</c>, which evicts
    /// from the writer's window at the ledger's last timestamp. A policy update that lengthens the window afterwards then
    /// counts fewer payments in the recovered engine than in a replay of the same journal, so the engine answers (and
    /// moves money) differently from what its own journal replays to.
    /// </summary>
    [Fact]
    public async Task ExecuteOrderAsync_WindowLengthenedAfterReopen_AgreesWithTheJournalReplay()
    {
        var clock = new ManualClock();
        OrderResult answered;
        UInt128 paidAsAnswered;
        await using (LedgerEngine engine = await OpenClockedEngineAsync(clock))
        {
            await FundAsync(engine, 10_000);
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { WindowLimit = 100, WindowLength = Hour }));
            clock.Nanoseconds += Second;
            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 60)));
            clock.Nanoseconds += 2 * Hour;
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(2, Bank, Other, 1)));
        }

        await using (LedgerEngine reopened = await OpenClockedEngineAsync(clock))
        {
            clock.Nanoseconds += Second;
            Assert.Equal(KeyResult.Ok, await reopened.UpdateKeyPolicyAsync(DeviceKeyId, new SpendingPolicy { WindowLimit = 100, WindowLength = 24 * Hour }));
            clock.Nanoseconds += Second;
            answered = await reopened.ExecuteOrderAsync(Order(reopened, 3, 50));
            paidAsAnswered = Credits(reopened, Payee);
        }

        (LedgerStateMachine replay, List<uint[]> orderResults) = await ReplayAsync();
        Assert.True(replay.TryGetAccount(Payee, out Account payee));
        Assert.Equal((answered, paidAsAnswered), ((OrderResult)orderResults[^1][0], payee.CreditsPosted));

        // What the engine told its caller must survive the next recovery, which replays the same journal.
        await using LedgerEngine again = await OpenClockedEngineAsync(clock);
        Assert.Equal(paidAsAnswered, Credits(again, Payee));
    }

    /// <summary>
    /// Regression (bug): <see cref="KeyInfo.SpentInWindow"/> is documented as what the key spent in the window that ended
    /// at <see cref="KeyInfo.AsOf"/>. A policy update (or a revocation) logs the window's running sum without evicting the
    /// payments that left the window by then, so the key reports spending older than its window.
    /// </summary>
    [Fact]
    public async Task TryGetKey_PolicyUpdatedAfterThePaymentsLeftTheWindow_ReportsTheSpendingOfTheWindowEndingAtAsOf()
    {
        var clock = new ManualClock();
        await using LedgerEngine engine = await OpenClockedEngineAsync(clock);
        await FundAsync(engine, 10_000);
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { WindowLimit = 100, WindowLength = Hour }));
        clock.Nanoseconds += Second;
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 60)));
        clock.Nanoseconds += 2 * Hour;

        Assert.Equal(KeyResult.Ok, await engine.UpdateKeyPolicyAsync(DeviceKeyId, new SpendingPolicy { WindowLimit = 100, WindowLength = Hour, MaxPerPayment = 90 }));

        Assert.True(engine.TryGetKey(DeviceKeyId, out KeyInfo key));
        Assert.Equal(clock.Nanoseconds, key.AsOf);
        Assert.Equal((UInt128.Zero, (UInt128)100), (key.SpentInWindow, key.WindowRemaining));
    }

    /// <summary>
    /// Regression (bug): <see cref="KeyInfo.AsOf"/> is documented as the ledger time of the key's last change. After a
    /// reopen, every key reports the ledger's last timestamp instead (the time of an unrelated later batch).
    /// </summary>
    [Fact]
    public async Task TryGetKey_AfterReopen_ReportsWhatItReportedBefore()
    {
        var clock = new ManualClock();
        KeyInfo before;
        await using (LedgerEngine engine = await OpenClockedEngineAsync(clock))
        {
            await FundAsync(engine, 10_000);
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, new SpendingPolicy { WindowLimit = 100, WindowLength = Hour }));
            clock.Nanoseconds += Second;
            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, 1, 60)));
            Assert.True(engine.TryGetKey(DeviceKeyId, out before));
            clock.Nanoseconds += Second;
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(2, Bank, Other, 1)));
        }

        await using LedgerEngine reopened = await OpenClockedEngineAsync(clock);
        Assert.True(reopened.TryGetKey(DeviceKeyId, out KeyInfo after));
        Assert.Equal(before, after);
    }

    /// <summary>Flips each of <paramref name="bits"/> in turn: each flipped record must fail to parse or be refused; returns how many parsed.</summary>
    private static async Task<int> FlipEveryBitAsync(LedgerEngine engine, byte[] record, IEnumerable<int> bits)
    {
        int parsed = 0;
        foreach (int bit in bits)
        {
            byte[] flipped = (byte[])record.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            if (!PaymentOrder.TryParse(flipped, out PaymentOrder order, out _))
            {
                continue;
            }

            parsed++;
            OrderResult result = await engine.ExecuteOrderAsync(order);
            Assert.True(result != OrderResult.Ok, $"bit {bit} (byte {bit / 8}): the flipped order was applied");
        }

        return parsed;
    }

    /// <summary>Replays the journal on a fresh state machine through the operations' own codecs (what recovery does); returns it and every order batch's results.</summary>
    private async Task<(LedgerStateMachine Ledger, List<uint[]> OrderResults)> ReplayAsync()
    {
        var ledger = new LedgerStateMachine();
        var orderResults = new List<uint[]>();
        await using var store = new FileLedgerStore(Directory);
        await store.OpenAsync();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            Assert.True(OperationRegistry.Default.TryFind(batch.Header.Operation, out Operation operation));
            int count = batch.Header.EventCount;
            OperationStaging staging = operation.CreateStaging(count);
            staging.Decode(batch.Events.Span, count);
            staging.Apply(ledger, batch.Header.Timestamp, count);
            if (staging is OperationStaging<PaymentOrder, OrderResult> orders)
            {
                orderResults.Add([.. orders.Results[..count].Select(r => (uint)r)]);
            }
        }

        return (ledger, orderResults);
    }

    private ValueTask<LedgerEngine> OpenClockedEngineAsync(ManualClock clock) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Directory), TimeProvider = clock, ClockPulses = false });

    private static PaymentOrder Order(LedgerEngine engine, UInt128 id, UInt128 amount, SigningKey? key = null) =>
        PaymentOrder.Sign(key ?? Device, engine.InstanceId, Tr(id, Payer, Payee, amount), ulong.MaxValue);

    private static ChannelConfig Channel(LedgerEngine engine, SigningKey payerKey, UInt128 salt) =>
        ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, payerKey.VerificationKey, ulong.MaxValue - 1, Hour, salt);

    private static async Task FundAsync(LedgerEngine engine, UInt128 amount)
    {
        var results = new CreateAccountResult[4];
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee), Acct(Other) }, results));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100_000, Bank, Payer, amount)));
    }

    private static UInt128 Credits(LedgerEngine engine, UInt128 account)
    {
        Assert.True(engine.TryGetAccount(account, out Account a));
        return a.CreditsPosted;
    }

    private static UInt128 Net(LedgerEngine engine, UInt128 account)
    {
        Assert.True(engine.TryGetAccount(account, out Account a));
        return a.CreditsPosted - a.DebitsPosted;
    }
}
