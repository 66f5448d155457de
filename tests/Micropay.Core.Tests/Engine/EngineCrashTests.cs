using System.Diagnostics;
using System.Globalization;
using System.Text;
using Micropay.Core.Channels;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Xunit.Abstractions;
using static Micropay.Core.Tests.Conservation;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// The durable engine's promise under SIGKILL: a child process (the crash harness's <c>engine</c> mode) submits
/// transfers from several tasks and prints each result once its call completed; it is killed at random moments, and
/// after each kill the engine reopened on the same directory must hold every transfer the child printed as Ok or
/// Exists, none it printed as a failure, conserve money and keep every account within its flags. The next round goes
/// on from there.
/// </summary>
public sealed class EngineCrashTests : EngineTestKit
{
    // The crash harness's device key policy (EngineWorkload.OrderWindowLength and OrderWindowLimit).
    private const ulong OrderWindowLength = 3UL * 1_000_000_000;
    private const ulong OrderWindowLimit = 500;

    private readonly ITestOutputHelper _output;

    public EngineCrashTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public Task ChildEngineKilledAtRandomMoments_EveryAcknowledgedTransferSurvives() => KillLoopAsync(kills: 24, seed: 1);

    [Fact]
    [Trait("Category", "Stress")]
    public Task ChildEngineKilledAtRandomMoments_ManyTimes_EveryAcknowledgedTransferSurvives() => KillLoopAsync(kills: 200, seed: Environment.TickCount);

    private async Task KillLoopAsync(int kills, int seed)
    {
        var random = new Random(seed);
        var succeeded = new HashSet<UInt128>();
        var redeemedTotal = new Dictionary<UInt128, UInt128>();
        var bestPerLane = new Dictionary<(UInt128 Channel, uint Lane), UInt128>();
        var failed = new HashSet<UInt128>();
        var orderIds = new HashSet<UInt128>();
        int ordersOk = 0;
        int ordersOverLimit = 0;
        ulong durable = 0;
        UInt128 instanceId = 0;
        var clock = Stopwatch.StartNew();
        int snapshotsTaken = 0;
        for (int round = 0; round < kills; round++)
        {
            // Mostly while submitting; sometimes during start-up and recovery of the previous kill's state. Half the
            // rounds take ledger snapshots often, so later rounds recover from a snapshot plus a journal tail.
            bool waitForStart = random.Next(5) != 0;
            int delay = waitForStart ? random.Next(0, 150) : random.Next(0, 400);
            int snapshotInterval = round % 2 == 1 ? random.Next(2, 20) : 0;
            // The last round waits, before its delay, for what no round has shown yet: an acknowledged voucher redemption
            // and an order refused over the key's window limit (a loaded machine can start the child too slowly for any
            // round's random delay to reach them), so the checks below always cover both.
            bool last = round == kills - 1;
            bool waitForRedemption = last && redeemedTotal.Count == 0;
            bool waitForWindowLimit = last && ordersOverLimit == 0;
            ChildRun run = await RunAndKillAsync(
                round, snapshotInterval, waitForStart || waitForRedemption || waitForWindowLimit, delay, waitForRedemption, waitForWindowLimit);
            foreach ((UInt128 id, CreateTransferResult result) in run.Results)
            {
                if (result is CreateTransferResult.Ok or CreateTransferResult.Exists)
                {
                    succeeded.Add(id);
                }
                else
                {
                    failed.Add(id);
                }
            }

            string context = $"round {round} (seed {seed}, snapshot interval {snapshotInterval})";
            await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Directory) });

            // What was durable stays durable: the journal never loses a batch, across any number of kills.
            Assert.True(engine.ReleasedBatchNumber >= durable, $"{context}: reopened at batch {engine.ReleasedBatchNumber}, but batch {durable} was durable before");
            Assert.True(run.StartedAt is null || run.StartedAt >= durable, $"{context}: the child started at batch {run.StartedAt}, below {durable}");
            durable = engine.ReleasedBatchNumber;

            // The ledger's instance id is journaled (durably) by the first open that finds none, the child's or, if every
            // kill so far came before that, this one's; from then on no kill and no reopen changes it.
            Assert.NotEqual(UInt128.Zero, engine.InstanceId);
            instanceId = instanceId == 0 ? engine.InstanceId : instanceId;
            Assert.True(engine.InstanceId == instanceId, $"{context}: reopened with instance id {engine.InstanceId:X32}, but it was {instanceId:X32}");

            // Every voucher redemption the child was told succeeded is in the ledger (its derived transfer, paying the
            // lane's increase), and none it was told failed; each channel's payee never got more than its lanes' best.
            foreach (Redemption r in run.Redemptions)
            {
                UInt128 id = DerivedIds.Redemption(r.ChannelId, r.Lane, r.Sequence);
                bool exists = engine.TryGetTransfer(id, out Transfer redemption);
                if (r.Result == ChannelResult.Ok)
                {
                    Assert.True(exists, $"{context}: redemption of channel {r.ChannelId:X} lane {r.Lane} sequence {r.Sequence} was acknowledged but is missing");
                    Assert.Equal(r.ChannelId, redemption.UserData128);
                    redeemedTotal[r.ChannelId] = redeemedTotal.GetValueOrDefault(r.ChannelId) + redemption.Amount;
                    bestPerLane[(r.ChannelId, r.Lane)] = r.Cumulative;
                }
                else
                {
                    Assert.False(exists, $"{context}: redemption of channel {r.ChannelId:X} lane {r.Lane} sequence {r.Sequence} was refused ({r.Result}) but exists");
                }
            }

            foreach ((UInt128 channel, UInt128 total) in redeemedTotal)
            {
                UInt128 best = bestPerLane.Where(p => p.Key.Channel == channel).Aggregate(UInt128.Zero, (sum, p) => sum + p.Value);
                Assert.True(total == best, $"{context}: channel {channel:X} paid {total} for acknowledged vouchers whose lanes' best sum to {best}");
                Assert.True(engine.TryGetChannel(channel, out Micropay.Core.Channels.ChannelInfo info), $"{context}: channel {channel:X} is missing");
                Assert.True(info.PaidOut >= total, $"{context}: channel {channel:X} paid out {info.PaidOut}, less than the acknowledged {total}");
            }

            // Every order the child was told was paid is there with its amount; none refused by the key's policy is.
            orderIds.UnionWith(run.OrderIds);
            foreach (Order o in run.Orders)
            {
                bool exists = engine.TryGetTransfer(o.Id, out Transfer paid);
                if (o.Result is OrderResult.Ok or OrderResult.Exists)
                {
                    Assert.True(exists, $"{context}: order {o.Id} was acknowledged but its transfer is missing");
                    Assert.Equal(o.Amount, paid.Amount);
                    ordersOk++;
                }
                else
                {
                    Assert.True(o.Result == OrderResult.OverWindowLimit, $"{context}: order {o.Id} got {o.Result}");
                    Assert.False(exists, $"{context}: order {o.Id} was refused ({o.Result}) but its transfer exists");
                    ordersOverLimit++;
                }
            }

            // The key's window held across every kill and recovery: every order transfer in the ledger (acknowledged or
            // not), in every window of its length, adds up to at most the limit.
            AssertWindowsWithinLimit(engine, orderIds, context);

            foreach (UInt128 id in succeeded)
            {
                Assert.True(engine.TryGetTransfer(id, out _), $"{context}: transfer {id} was acknowledged but is missing after the kill");
            }

            foreach (UInt128 id in failed)
            {
                // Ids are never reused across rounds, and within one only acknowledged successes are retried.
                Assert.False(succeeded.Contains(id), $"{context}: transfer {id} was acknowledged both as a success and a failure");
                Assert.False(engine.TryGetTransfer(id, out _), $"{context}: transfer {id} was acknowledged as failed but exists");
            }

            Account[] accounts = engine.ReadAllAccounts();
            Assert.Null(ConservationBreak(accounts));
            foreach (Account account in accounts)
            {
                Assert.Null(FirstViolatedFlag(account));
            }

            if (snapshotInterval != 0)
            {
                // The child's periodic snapshots fail silently (LastSnapshotError, in a process that is then killed), so
                // a snapshot round also takes one here, where any failure (a NotSupportedException included) fails the
                // test; the next round then recovers from it.
                ulong snapshotAt = await engine.TakeSnapshotAsync();
                Assert.Equal(engine.ReleasedBatchNumber, snapshotAt);
                Assert.Null(engine.LastSnapshotError);
                Assert.Equal(snapshotAt, engine.LatestSnapshotBatchNumber);
                snapshotsTaken += snapshotAt != 0 ? 1 : 0;
            }
        }

        _output.WriteLine(
            $"{kills} kills (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s: {succeeded.Count} transfers acknowledged, " +
            $"{failed.Count} failures, {bestPerLane.Count} channel lanes paid {redeemedTotal.Values.Aggregate(UInt128.Zero, (a, b) => a + b)} by acknowledged vouchers, " +
            $"journal at batch {durable}, {snapshotsTaken} snapshots taken after a kill.");
        Assert.True(succeeded.Count > 0, "the child never acknowledged a transfer");
        Assert.True(redeemedTotal.Count > 0, "the child never acknowledged a voucher redemption");
        Assert.True(snapshotsTaken > 0, "no snapshot round had a batch to snapshot");
        _output.WriteLine($"{ordersOk} orders paid, {ordersOverLimit} refused over the window limit.");
        Assert.True(ordersOk > 0, "the child never acknowledged a paid order");
        Assert.True(ordersOverLimit > 0, "the child's orders never reached the window limit, so the window was not tested");
    }

    private static void AssertWindowsWithinLimit(LedgerEngine engine, HashSet<UInt128> orderIds, string context)
    {
        var paid = new List<(ulong At, UInt128 Amount)>();
        foreach (UInt128 id in orderIds)
        {
            if (engine.TryGetTransfer(id, out Transfer transfer))
            {
                paid.Add((transfer.Timestamp, transfer.Amount));
            }
        }

        paid.Sort((a, b) => a.At.CompareTo(b.At));
        UInt128 sum = UInt128.Zero;
        int oldest = 0;
        for (int i = 0; i < paid.Count; i++)
        {
            sum += paid[i].Amount;
            while (paid[i].At - paid[oldest].At >= OrderWindowLength)
            {
                sum -= paid[oldest++].Amount;
            }

            Assert.True(sum <= OrderWindowLimit, $"{context}: the orders in the window ending at {paid[i].At} add up to {sum}, over the limit {OrderWindowLimit}");
        }
    }

    private sealed record ChildRun(ulong? StartedAt, List<(UInt128 Id, CreateTransferResult Result)> Results, List<Redemption> Redemptions, List<UInt128> OrderIds, List<Order> Orders);

    private sealed record Order(UInt128 Id, UInt128 Amount, OrderResult Result);

    private sealed record Redemption(UInt128 ChannelId, uint Lane, ulong Sequence, UInt128 Cumulative, ChannelResult Result);

    private async Task<ChildRun> RunAndKillAsync(
        int round, int snapshotInterval, bool waitForStart, int delayMilliseconds, bool waitForRedemption = false, bool waitForWindowLimit = false)
    {
        using Process child = CrashHarnessProcess.Start(
            "engine", Directory, snapshotInterval.ToString(CultureInfo.InvariantCulture), round.ToString(CultureInfo.InvariantCulture));
        ulong? startedAt = null;
        var results = new List<(UInt128, CreateTransferResult)>();
        var redemptions = new List<Redemption>();
        var orderIds = new List<UInt128>();
        var orders = new List<Order>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var redeemed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var overLimit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(async () =>
        {
            // Only whole lines count: the kill may cut the last one short (a cut "ExistsWithDifferentAmount" could
            // otherwise read as "Exists").
            var pending = new StringBuilder();
            char[] buffer = new char[16384];
            int read;
            while ((read = await child.StandardOutput.ReadAsync(buffer)) > 0)
            {
                pending.Append(buffer, 0, read);
                string text = pending.ToString();
                int end = text.LastIndexOf('\n');
                if (end < 0)
                {
                    continue;
                }

                pending.Clear().Append(text, end + 1, text.Length - end - 1);
                foreach (string line in text[..end].Split('\n'))
                {
                    if (line.StartsWith("start ", StringComparison.Ordinal))
                    {
                        startedAt = ulong.Parse(line.AsSpan(6), CultureInfo.InvariantCulture);
                        started.TrySetResult();
                        continue;
                    }

                    if (line.StartsWith("o ", StringComparison.Ordinal) || line.StartsWith("k ", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    if (line.StartsWith("q ", StringComparison.Ordinal))
                    {
                        orderIds.Add(UInt128.Parse(line.AsSpan(2), CultureInfo.InvariantCulture));
                        continue;
                    }

                    if (line.StartsWith("p ", StringComparison.Ordinal))
                    {
                        string[] f = line.Split(' ');
                        orders.Add(new Order(UInt128.Parse(f[1], CultureInfo.InvariantCulture), UInt128.Parse(f[2], CultureInfo.InvariantCulture), Enum.Parse<OrderResult>(f[3])));
                        if (orders[^1].Result == OrderResult.OverWindowLimit)
                        {
                            overLimit.TrySetResult();
                        }

                        continue;
                    }

                    if (line.StartsWith("r ", StringComparison.Ordinal))
                    {
                        string[] f = line.Split(' ');
                        redemptions.Add(new Redemption(
                            UInt128.Parse(f[1], CultureInfo.InvariantCulture), uint.Parse(f[2], CultureInfo.InvariantCulture),
                            ulong.Parse(f[3], CultureInfo.InvariantCulture), UInt128.Parse(f[4], CultureInfo.InvariantCulture), Enum.Parse<ChannelResult>(f[5])));
                        if (redemptions[^1].Result == ChannelResult.Ok)
                        {
                            redeemed.TrySetResult();
                        }

                        continue;
                    }

                    int space = line.IndexOf(' ', StringComparison.Ordinal);
                    results.Add((UInt128.Parse(line.AsSpan(0, space), CultureInfo.InvariantCulture), Enum.Parse<CreateTransferResult>(line.AsSpan(space + 1))));
                }
            }
        });
        Task<string> errors = child.StandardError.ReadToEndAsync();

        bool exitedOnItsOwn;
        try
        {
            if (waitForStart)
            {
                await Task.WhenAny(started.Task, child.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            }

            if (waitForRedemption)
            {
                await Task.WhenAny(redeemed.Task, child.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            }

            if (waitForWindowLimit)
            {
                await Task.WhenAny(overLimit.Task, child.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            }

            await Task.Delay(delayMilliseconds);
        }
        finally
        {
            exitedOnItsOwn = child.HasExited;
            child.Kill(); // SIGKILL on Unix: no finalizers, no flush, no dispose.
            await child.WaitForExitAsync();
        }

        await reader;
        Assert.False(exitedOnItsOwn, $"the harness exited on its own with code {child.ExitCode}: {await errors}");
        return new ChildRun(startedAt, results, redemptions, orderIds, orders);
    }
}
