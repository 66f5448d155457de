using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ShardedLedger.Tests;

/// <summary>Random traffic across shards, in-shard and cross-shard, affordable or not, in concurrent batches.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class CrossShardConservationProperties(ClusterFixture fixture)
{
    private const int Customers = 12;
    private const long Balance = 1_000;

    public static class Traffic
    {
        // Up to 3 batches sent at once, each of up to 40 payments: customer indexes and amounts (some above any
        // balance, so some payments abort on the payer's limit).
        public static Arbitrary<(int Payer, int Payee, int Amount)[][]> Batches() =>
            (from payer in Gen.Choose(0, Customers - 1)
             from payee in Gen.Choose(0, Customers - 1)
             from amount in Gen.Choose(1, 1_500)
             select (payer, payee, amount))
                .ArrayOf()
                .Select(a => a.Take(40).ToArray())
                .ArrayOf()
                .Select(b => b.Take(3).ToArray())
                .ToArbitrary();
    }

    [Property(MaxTest = 12, Arbitrary = [typeof(Traffic)])]
    public bool RandomTraffic_MoneyIsConservedAcrossShards_AndBalancesFollowTheOutcomes((int Payer, int Payee, int Amount)[][] batches) =>
        Check(batches).GetAwaiter().GetResult();

    private async Task<bool> Check((int Payer, int Payee, int Amount)[][] batches)
    {
        LocalCluster cluster = fixture.Cluster;
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(cluster, block, Customers, Balance, block);
        UInt128 nextId = block + 1_000;
        Payment[][] payments = batches
            .Select(batch => batch.Where(p => p.Payer != p.Payee).Select(p => new Payment(nextId++, books.Customers[p.Payer], books.Customers[p.Payee], (UInt128)p.Amount)).ToArray())
            .Where(b => b.Length > 0)
            .ToArray();

        // The batches run concurrently: each customer's limit is checked by its own shard, in whatever order the
        // shards see the holds, so the model follows the outcomes rather than predicting them.
        PaymentOutcome[][] outcomes = await Task.WhenAll(payments.Select(b => cluster.Client.PayAsync(b)));
        for (int i = 0; i < payments.Length; i++)
        {
            Assert.All(outcomes[i], o => Assert.True(o.Status is PaymentStatus.Committed or PaymentStatus.Aborted, o.ToString()));
            books.Apply(payments[i], outcomes[i]);
        }

        ConservationReport report = await cluster.Client.AuditAsync(cluster.Journal);
        List<string> mismatches = await books.MismatchesAsync(cluster);
        Assert.True(report.Holds, report.ToString());
        Assert.Empty(mismatches);
        return true;
    }
}
