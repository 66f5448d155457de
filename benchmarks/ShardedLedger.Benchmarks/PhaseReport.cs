using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Ledger;

namespace ShardedLedger.Benchmarks;

/// <summary>
/// <c>--phases [payments]</c>: where a cross-shard batch's time goes, phase by phase, on a 2-shard local cluster. Runs
/// each phase of the coordinator's protocol by hand (the journal's three transactions, the two rounds of shard calls)
/// for one batch of payments from shard 0 to shard 1, five times, and prints the median of each. Not a BenchmarkDotNet
/// benchmark: it explains <see cref="CrossShardBenchmarks"/>' figures, it does not replace them.
/// </summary>
internal static class PhaseReport
{
    public static async Task<int> RunAsync(TextWriter output, int payments)
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(await BenchmarkPostgres.ConnectionStringAsync(), shardCount: 2, silos: 2);
        UInt128[] customers = [2, 3]; // shard 0 pays shard 1
        await cluster.Client.CreateAccountsAsync(customers, AccountFlags.None);
        var timings = new Dictionary<string, List<double>>();
        UInt128 next = 1_000_000;
        for (int round = 0; round < 5; round++)
        {
            Payment[] batch = Enumerable.Range(0, payments).Select(_ => new Payment(next++, customers[0], customers[1], 1)).ToArray();
            UInt128[] ids = batch.Select(p => p.Id).ToArray();
            await Time(timings, "journal: intents (1 transaction)", () => cluster.Journal.RecordIntentsAsync(7, Guid.NewGuid(), batch));
            Transfer[] payerHolds = batch.Select(p => Hold(p.Id, PaymentStep.PayerHold, p.Payer, ShardMap.BridgeAccount(0), p.Amount)).ToArray();
            Transfer[] payeeHolds = batch.Select(p => Hold(p.Id, PaymentStep.PayeeHold, ShardMap.BridgeAccount(1), p.Payee, p.Amount)).ToArray();
            await Time(timings, "shards: holds (2 calls in parallel)", () => Task.WhenAll(Call(cluster, 0, payerHolds), Call(cluster, 1, payeeHolds)));
            await Time(timings, "journal: decision (1 transaction)", () => cluster.Journal.DecideAsync(ids, ids.Select(_ => JournalState.Committing).ToArray(), new CreateTransferResult[ids.Length]));
            Transfer[] payerPosts = batch.Select(p => Post(p.Id, PaymentStep.PayerHold, PaymentStep.PayerResolution)).ToArray();
            Transfer[] payeePosts = batch.Select(p => Post(p.Id, PaymentStep.PayeeHold, PaymentStep.PayeeResolution)).ToArray();
            await Time(timings, "shards: posts (2 calls in parallel)", () => Task.WhenAll(Call(cluster, 0, payerPosts), Call(cluster, 1, payeePosts)));
            await Time(timings, "journal: end (1 transaction)", () => cluster.Journal.FinishAsync(ids));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"One batch of {payments:N0} cross-shard payments, shard 0 to shard 1, median of 5 (ms):"));
        double total = 0;
        foreach ((string phase, List<double> ms) in timings)
        {
            double median = ms.Order().ElementAt(ms.Count / 2);
            total += median;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {phase,-38} {median,8:0.0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"total",-38} {total,8:0.0}  ({payments / total * 1000:N0} payments/s)"));
        return 0;
    }

    private static async Task Time(Dictionary<string, List<double>> timings, string phase, Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work();
        if (!timings.TryGetValue(phase, out List<double>? list))
        {
            timings[phase] = list = [];
        }

        list.Add(clock.Elapsed.TotalMilliseconds);
    }

    private static async Task Call(LocalCluster cluster, int shard, Transfer[] transfers)
    {
        CreateTransferResult[] results = await cluster.Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(shard).CreateTransfersAsync(Records.Encode(transfers));
        if (results.Any(r => r != CreateTransferResult.Ok))
        {
            throw new InvalidOperationException($"A phase's transfer failed: {results.First(r => r != CreateTransferResult.Ok)}.");
        }
    }

    private static Transfer Hold(UInt128 payment, PaymentStep step, UInt128 debit, UInt128 credit, UInt128 amount) => new()
    {
        Id = ShardMap.TransferId(payment, step),
        DebitAccountId = debit,
        CreditAccountId = credit,
        Amount = amount,
        LedgerId = ShardMap.LedgerId,
        Code = TransferCodes.CrossShardHold,
        Flags = TransferFlags.Pending,
        UserData128 = payment,
    };

    private static Transfer Post(UInt128 payment, PaymentStep hold, PaymentStep resolution) => new()
    {
        Id = ShardMap.TransferId(payment, resolution),
        PendingId = ShardMap.TransferId(payment, hold),
        Amount = UInt128.MaxValue,
        Flags = TransferFlags.PostPendingTransfer,
        UserData128 = payment,
    };
}
