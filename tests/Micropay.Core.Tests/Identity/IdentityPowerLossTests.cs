using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Storage.Disk;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// Keys and orders through the Durable engine on a <see cref="SimulatedDisk"/> that loses, keeps or tears whatever was
/// not fsync'd when the power is cut: every key operation and order the engine acknowledged survives the cut, no order it
/// refused appears, and the key's window after the reboot still counts every payment the acknowledged ones made. The
/// same run on a disk whose fsyncs do nothing (a planted bug) loses acknowledged orders, which shows the test can fail.
/// </summary>
public sealed class IdentityPowerLossTests
{
    private const string StoreDirectory = "/simulated/store";
    private const ulong Hour = 3600UL * 1_000_000_000;
    private const ulong WindowLimit = 1_500;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;
    private int _acknowledgedOrders;

    private static readonly byte[] DeviceSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");

    [Fact]
    public async Task PowerCut_AtRandomMoments_EveryAcknowledgedKeyOperationAndOrderSurvives()
    {
        int lost = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            lost += await RunAsync(seed, lyingDisk: false);
        }

        Assert.Equal(0, lost);
        Assert.True(_acknowledgedOrders >= 50, $"only {_acknowledgedOrders} orders were acknowledged before the power cuts: too few to test anything");
    }

    [Fact]
    public async Task PowerCut_OnADiskThatDropsFsyncs_LosesAcknowledgedOrders_SoTheTestCanFail()
    {
        int lost = 0;
        for (int seed = 0; seed < 12 && lost == 0; seed++)
        {
            lost += await RunAsync(seed, lyingDisk: true);
        }

        Assert.True(lost > 0, "a disk that drops every fsync lost nothing: the test above could not fail");
    }

    /// <summary>One life: open, register the key, pay orders from 4 callers until the power is cut at a random step; reboot, reopen, check. Returns how many acknowledged facts were lost.</summary>
    private async Task<int> RunAsync(int seed, bool lyingDisk)
    {
        var random = new Random(seed);
        var disk = new SimulatedDisk(seed, "/simulated");
        StoreFileSystem files = lyingDisk ? new LyingDisk(disk, liesAbout: _ => true, dropFlush: () => true) : disk;
        using SigningKey device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
        var policy = new SpendingPolicy { WindowLimit = WindowLimit, WindowLength = Hour };
        var acknowledged = new List<(PaymentOrder Order, OrderResult Result)>();
        bool keyAcknowledged = false;

        LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(StoreDirectory, new FileLedgerStoreOptions(), files) });
        UInt128 instance = engine.InstanceId;
        try
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee) }, new CreateAccountResult[3]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(1, 1, Payer, 1_000_000)));
            Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, device.VerificationKey, policy));
            keyAcknowledged = true;

            // The power goes after a random number of further disk operations, while 4 callers pay.
            disk.CutPowerAfter(random.Next(0, 120));
            Task[] callers = [.. Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
            {
                for (int i = 0; ; i++)
                {
                    PaymentOrder order = PaymentOrder.Sign(device, instance, Tr((UInt128)(((ulong)(c + 1) << 32) | (uint)i), Payer, Payee, (UInt128)(1 + ((c + i) % 90))), ulong.MaxValue);
                    OrderResult result = await engine.ExecuteOrderAsync(order);
                    lock (acknowledged)
                    {
                        acknowledged.Add((order, result));
                    }
                }
            }))];
            await Task.WhenAny(Task.WhenAll(callers), Task.Delay(TimeSpan.FromSeconds(30)));
        }
        catch (Exception e) when (e is LedgerEngineException or LedgerStoreException or IOException or ObjectDisposedException)
        {
            // The power cut reached the engine: what was acknowledged before it is what counts.
        }
        finally
        {
            try
            {
                await engine.DisposeAsync();
            }
            catch (Exception e) when (e is LedgerEngineException or LedgerStoreException or IOException)
            {
                // The engine faulted on the dead disk.
            }
        }

        disk.CutPower();
        disk.Restart();
        LedgerEngine reopened;
        try
        {
            reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(StoreDirectory, new FileLedgerStoreOptions(), files) });
        }
        catch (LedgerStoreCorruptedException) when (lyingDisk)
        {
            // The lying disk kept a segment's directory entry but not its bytes: the store refuses to open, which loses
            // everything acknowledged (on the honest disk this fails the test).
            return Math.Max(1, acknowledged.Count);
        }

        await using LedgerEngine disposeReopened = reopened;
        int lost = 0;
        if (keyAcknowledged && !reopened.TryGetKey(KeyIds.Of(device.VerificationKey), out _))
        {
            lost++;
        }

        UInt128 paid = UInt128.Zero;
        foreach ((PaymentOrder order, OrderResult result) in acknowledged)
        {
            bool exists = reopened.TryGetTransfer(order.Id, out _);
            if (result == OrderResult.Ok)
            {
                _acknowledgedOrders++;
                lost += exists ? 0 : 1;
                paid += order.Amount;
            }
            else
            {
                Assert.Equal(OrderResult.OverWindowLimit, result);
                Assert.False(exists, $"seed {seed}: order {order.Id} was refused but its transfer exists");
            }
        }

        if (lost == 0 && keyAcknowledged)
        {
            // The window after the reboot counts at least every acknowledged payment: what is left is at most the limit minus them.
            Assert.True(reopened.TryGetKey(KeyIds.Of(device.VerificationKey), out KeyInfo key));
            Assert.True(key.SpentInWindow >= paid, $"seed {seed}: the window counts {key.SpentInWindow}, less than the {paid} acknowledged");
            Assert.True(key.SpentInWindow <= WindowLimit);
            OrderResult over = await reopened.ExecuteOrderAsync(PaymentOrder.Sign(device, instance, Tr(999_999, Payer, Payee, WindowLimit - key.SpentInWindow + 1), ulong.MaxValue));
            Assert.Equal(OrderResult.OverWindowLimit, over);
        }

        return lost;
    }
}
