using System.Runtime.CompilerServices;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Tests.Engine;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// A payment order's steady path must not allocate: the state machine applying a batch of orders once the key's window
/// has grown to its working size, the edge's verification of an order (and of an Ed25519 co-signature) on the calling
/// thread, and the caller's whole <c>ExecuteOrderAsync</c> on a warm engine. Measured like the ledger's and channels'
/// allocation tests (<see cref="Allocations"/>, <see cref="LedgerEngineAllocationTests.RunOnPumpThread"/>).
/// </summary>
public sealed class IdentityAllocationTests
{
    private const int BatchSize = 8;

    [Fact]
    public void ExecuteOrdersApply_WarmLedgerWithItsWindowGrown_AllocatesNothing()
    {
        const int Batches = Allocations.WarmCalls + Allocations.MeasuredCalls;
        using var kit = new IdentityTestKit(10_000_000, transferCapacity: (Batches * BatchSize) + 16);

        // Batches 1,000 ns apart and a 50,000-ns window: the window holds at most 50 batches' payments, a size it reaches
        // during the warm-up, and every check evicts as many as it adds.
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy
        {
            WindowLimit = 1_000_000, WindowLength = 50_000, MaxPerPayment = 100, StepUpThreshold = 100, AllowedPayees = [IdentityTestKit.Payee], AllowedLedgers = [1],
        }));
        PaymentOrder[][] batches = [.. Enumerable.Range(0, Batches).Select(_ => Enumerable.Range(0, BatchSize).Select(i => kit.Order((ulong)i + 1)).ToArray())];
        var results = new OrderResult[BatchSize];
        int next = 0;
        ulong at = kit.Now;

        long allocated = Allocations.OfWarm([MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            at += 1_000;
            OperationRegistry.ExecuteOrders.Apply(kit.Ledger, at, batches[next++], results);
            foreach (OrderResult result in results)
            {
                if (result != OrderResult.Ok)
                {
                    throw new InvalidOperationException($"batch {next - 1}: {result}");
                }
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(Batches * BatchSize, kit.Ledger.TransferCount - 1);
        Assert.True(IdentityBook.Of(kit.Ledger).TryGet(kit.DeviceKeyId, out KeyState key));
        Assert.Equal(50 * BatchSize, key.Window.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VerifyOrders_SmallBatchOnTheCallingThread_AllocatesNothing(bool coSigned)
    {
        using SigningKey device = SigningKey.Import([.. Enumerable.Range(0, 32).Select(i => (byte)(i + 3))], SigningKeyFormat.RawSeed);
        using SigningKey phone = SigningKey.Import([.. Enumerable.Range(0, 32).Select(i => (byte)(i + 90))], SigningKeyFormat.RawSeed);
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        Assert.Equal(KeyResult.Ok, await RegisterAsync(engine, device, phone));

        // Below the 64 orders from which the edge verifies on every core: all on the calling thread.
        PaymentOrder[] orders = [.. Enumerable.Range(1, 4).Select(i => PaymentOrder.Sign(device, engine.InstanceId, Tr((ulong)i, 2, 3, 1), ulong.MaxValue))];
        if (coSigned)
        {
            orders = [.. orders.Select(o => o.WithCoSignature(CoSignature.SignEd25519(phone, o, engine.InstanceId)))];
        }

        var results = new OrderResult[orders.Length];
        long allocated = Allocations.OfWarm([MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            int refused = engine.VerifyOrders(orders, results, out bool anyCoSigned);
            if (refused != 0 || anyCoSigned != coSigned)
            {
                throw new InvalidOperationException($"{refused} refused: {string.Join(", ", results)}");
            }
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task ExecuteOrderAsync_WarmEngineAwaitedOnTheSubmittingThread_AllocatesNothing()
    {
        const int WarmRounds = 1_500;
        const int MeasuredRounds = 1_000;
        using SigningKey device = SigningKey.Import([.. Enumerable.Range(0, 32).Select(i => (byte)(i + 3))], SigningKeyFormat.RawSeed);
        using SigningKey phone = SigningKey.Import([.. Enumerable.Range(0, 32).Select(i => (byte)(i + 90))], SigningKeyFormat.RawSeed);
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        Assert.Equal(KeyResult.Ok, await RegisterAsync(engine, device, phone));

        // Signed up front: signing is the payer's work, not what this measures.
        PaymentOrder[] orders = [.. Enumerable.Range(1, WarmRounds + MeasuredRounds).Select(i => PaymentOrder.Sign(device, engine.InstanceId, Tr((ulong)i, 2, 3, 1), ulong.MaxValue))];

        long allocated = LedgerEngineAllocationTests.RunOnPumpThread(async () =>
        {
            long before = 0;
            for (int i = 0; i < orders.Length; i++)
            {
                if (i == WarmRounds)
                {
                    before = GC.GetAllocatedBytesForCurrentThread();
                }

                OrderResult result = await engine.ExecuteOrderAsync(orders[i]);
                if (result != OrderResult.Ok)
                {
                    throw new InvalidOperationException($"order {i}: {result}");
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        Assert.Equal(0, allocated);
        Assert.True(engine.TryGetAccount(3, out Account payee));
        Assert.Equal((UInt128)orders.Length, payee.CreditsPosted);
    }

    /// <summary>Accounts 1 (bank), 2 (payer, funded) and 3 (payee), and the payer's two keys (the device's with a window).</summary>
    private static async Task<KeyResult> RegisterAsync(LedgerEngine engine, SigningKey device, SigningKey phone)
    {
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2, AccountFlags.DebitsMustNotExceedCredits), Acct(3) }, new CreateAccountResult[3]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(1_000_000, 1, 2, 1_000_000)));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(2, phone.VerificationKey, SpendingPolicy.Unlimited));
        return await engine.RegisterKeyAsync(2, device.VerificationKey, new SpendingPolicy { WindowLimit = 1_000_000, WindowLength = 1_000_000_000 });
    }
}
