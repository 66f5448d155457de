using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Tests.Engine;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Channels;

/// <summary>
/// Redeeming a voucher must not allocate once the engine is warm: the caller's side of <c>RedeemVoucherAsync</c> (edge
/// verification, the derived id, the pooled submission, the result), measured like the transfer allocation tests
/// (<see cref="LedgerEngineAllocationTests"/>), awaited on a single-threaded pump.
/// </summary>
public sealed class ChannelAllocationTests
{
    private const int WarmRounds = 1_500;
    private const int MeasuredRounds = 1_000;

    [Fact]
    public async Task RedeemVoucherAsync_WarmEngineAwaitedOnTheSubmittingThread_AllocatesNothing()
    {
        using SigningKey payerKey = SigningKey.Import(Enumerable.Range(0, 32).Select(i => (byte)(i + 9)).ToArray(), SigningKeyFormat.RawSeed);
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2, AccountFlags.DebitsMustNotExceedCredits), Acct(3) }, new CreateAccountResult[3]);
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 1_000_000)));
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, 2, 3, 1, payerKey.VerificationKey, ulong.MaxValue - 1, 1_000_000_000, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(payerKey, config, 1_000_000)));

        // Signed up front: signing is the payer's work, and allocates nothing either, but is not what this measures.
        Voucher[] vouchers = [.. Enumerable.Range(1, WarmRounds + MeasuredRounds)
            .Select(s => Voucher.Sign(payerKey, engine.InstanceId, config.Id, (uint)(s % 4), (ulong)s, (UInt128)s * 3, ulong.MaxValue))];

        long allocated = LedgerEngineAllocationTests.RunOnPumpThread(async () =>
        {
            long before = 0;
            for (int i = 0; i < vouchers.Length; i++)
            {
                if (i == WarmRounds)
                {
                    before = GC.GetAllocatedBytesForCurrentThread();
                }

                ChannelResult result = await engine.RedeemVoucherAsync(vouchers[i]);
                if (result != ChannelResult.Ok)
                {
                    throw new InvalidOperationException($"voucher {i}: {result}");
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        Assert.Equal(0, allocated);
        Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo info));
        Assert.True(info.PaidOut > 0);
    }
}
