namespace ShardedLedger.Tests;

/// <summary>A silo dies while payments are in flight; every payment it left in doubt is resolved, and money is conserved.</summary>
public sealed class SiloKillTests
{
    private static readonly PaymentIdRange StalledAfterHolds = new(500_000_000, 500_000_040);
    private static readonly PaymentIdRange StalledAfterDecision = new(500_000_040, 500_000_080);

    [Fact]
    public async Task KillSilo_MidTraffic_EveryInDoubtPaymentIsResolvedAndMoneyIsConserved()
    {
        await using LocalCluster cluster = await LocalCluster.StartAsync(
            await SharedPostgres.ConnectionStringAsync(), shardCount: 4, silos: 2, stallAfterHolds: StalledAfterHolds, stallAfterDecision: StalledAfterDecision);
        Books books = await Books.OpenAsync(cluster, 1, 16, 10_000, 1_000_000);

        // Background traffic on the ordinary coordinators until the kill is over.
        using var stop = new CancellationTokenSource();
        var failedCalls = new List<Payment[]>();
        var answered = new List<(Payment[] Batch, PaymentOutcome[] Outcomes)>();
        Task traffic = Task.Run(async () =>
        {
            var random = new Random(7);
            UInt128 next = 2_000_000;
            while (!stop.IsCancellationRequested)
            {
                Payment[] batch = Enumerable.Range(0, 40).Select(_ =>
                {
                    int payer = random.Next(16);
                    int payee = (payer + 1 + random.Next(15)) % 16;
                    return new Payment(next++, books.Customers[payer], books.Customers[payee], (UInt128)random.Next(1, 3_000));
                }).ToArray();
                try
                {
                    answered.Add((batch, await cluster.Client.PayAsync(batch)));
                }
                catch (Exception)
                {
                    failedCalls.Add(batch); // routed to the dying silo: outcome unknown until retried
                }
            }
        });

        // Two batches stop mid-payment on a coordinator on the secondary silo: after their holds, and after a commit decision.
        (long key, Orleans.TestingHost.SiloHandle victim) = await cluster.CoordinatorOnSecondaryAsync(10_000);
        IPaymentCoordinatorGrain doomed = cluster.Cluster.GrainFactory.GetGrain<IPaymentCoordinatorGrain>(key);
        Payment[] afterHolds = Stalled(StalledAfterHolds, books);
        Payment[] afterDecision = Stalled(StalledAfterDecision, books);
        Task lost = Task.WhenAll(doomed.PayAsync(afterHolds), doomed.PayAsync(afterDecision));
        JournalRow[] inDoubt = await WaitForInDoubtAsync(cluster, afterHolds.Length + afterDecision.Length);
        Assert.Equal(afterHolds.Length, inDoubt.Count(r => r.State == JournalState.Prepared));
        Assert.Equal(afterDecision.Length, inDoubt.Count(r => r.State == JournalState.Committing));

        await cluster.PlaceShardOnAsync(1, victim); // the kill must take a shard down with it, wherever placement put them
        ActivationInfo[] shardsBefore = await ShardActivationsAsync(cluster);
        bool[] onVictim = shardsBefore.Select(a => cluster.SiloOf(a) == victim).ToArray();
        Assert.Contains(true, onVictim);
        await cluster.KillAsync(victim);
        await Task.Delay(1_000);
        await stop.CancelAsync();
        await traffic;
        await Assert.ThrowsAnyAsync<Exception>(() => lost);

        // Recovery on every coordinator that may hold rows (the ordinary ones are keyed by payer shard), then the calls
        // that failed are retried: a retry drives each payment from whatever the journal says.
        await LocalCluster.RetryAfterFailoverAsync(() => cluster.Client.RecoverAsync([key, 0, 1, 2, 3]));
        foreach (Payment[] batch in failedCalls)
        {
            answered.Add((batch, await LocalCluster.RetryAfterFailoverAsync(() => cluster.Client.PayAsync(batch))));
        }

        foreach ((Payment[] batch, PaymentOutcome[] outcomes) in answered)
        {
            books.Apply(batch, outcomes);
        }

        // The shards of the dead silo were taken over under a higher fencing epoch; the others kept theirs or moved too.
        ActivationInfo[] shardsAfter = await ShardActivationsAsync(cluster);
        for (int s = 0; s < shardsBefore.Length; s++)
        {
            Assert.NotNull(cluster.SiloOf(shardsAfter[s]));
            Assert.True(!onVictim[s] || shardsAfter[s].Epoch > shardsBefore[s].Epoch, $"shard {s}: {shardsBefore[s]} then {shardsAfter[s]}");
        }

        JournalRow[] journal = await cluster.Journal.ReadAllAsync();
        Assert.All(journal.Where(r => StalledAfterHolds.Contains(r.Payment.Id)), r => Assert.Equal(JournalState.Aborted, r.State));
        Assert.All(journal.Where(r => StalledAfterDecision.Contains(r.Payment.Id)), r => Assert.Equal(JournalState.Committed, r.State));
        books.Apply(afterDecision, afterDecision.Select(_ => new PaymentOutcome(PaymentStatus.Committed, default)).ToArray());

        ConservationReport report = await cluster.Client.AuditAsync(cluster.Journal);
        Assert.True(report.Holds, report.ToString());
        Assert.Equal(books.Issued, report.CustomerTotal);
        Assert.Empty(await books.MismatchesAsync(cluster));
    }

    private static Task<ActivationInfo[]> ShardActivationsAsync(LocalCluster cluster) =>
        Task.WhenAll(Enumerable.Range(0, cluster.Map.ShardCount).Select(s => cluster.Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(s).GetActivationAsync()));

    // Cross-shard payments of 1 (always affordable) between neighbours: customer i is on shard i mod 4.
    private static Payment[] Stalled(PaymentIdRange range, Books books) =>
        Enumerable.Range(0, (int)(ulong)(range.End - range.First))
            .Select(i => new Payment(range.First + (uint)i, books.Customers[i % 16], books.Customers[(i + 1) % 16], 1))
            .ToArray();

    private static async Task<JournalRow[]> WaitForInDoubtAsync(LocalCluster cluster, int count)
    {
        for (int attempt = 0; attempt < 400; attempt++)
        {
            JournalRow[] rows = (await cluster.Journal.ReadAllAsync())
                .Where(r => (StalledAfterHolds.Contains(r.Payment.Id) && r.State == JournalState.Prepared) || (StalledAfterDecision.Contains(r.Payment.Id) && r.State == JournalState.Committing))
                .ToArray();
            if (rows.Length == count)
            {
                // The intents are journaled; the holds follow at once (the stall comes after them).
                await Task.Delay(500);
                return rows;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("The stalled payments never reached the journal.");
    }
}
