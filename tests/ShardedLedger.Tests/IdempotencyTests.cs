using Micropay.Core.Ledger;

namespace ShardedLedger.Tests;

/// <summary>A payment submitted or driven more than once is one payment.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class IdempotencyTests(ClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task PayAsync_SameBatchTwice_AnswersTheSameAndMovesMoneyOnce()
    {
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(Cluster, block, 8, 1_000, block);
        Payment[] batch = Enumerable.Range(0, 30)
            .Select(i => new Payment(block + 1_000 + (uint)i, books.Customers[i % 8], books.Customers[(i + 1 + (i / 8)) % 8], (UInt128)(50 + (i * 37 % 400))))
            .Where(p => p.Payer != p.Payee)
            .ToArray();

        PaymentOutcome[] first = await Cluster.Client.PayAsync(batch);
        books.Apply(batch, first);
        PaymentOutcome[] second = await Cluster.Client.PayAsync(batch);

        Assert.Equal(first.Select(o => o.Status), second.Select(o => o.Status));
        Assert.Contains(first, o => o.Status == PaymentStatus.Committed);
        Assert.Empty(await books.MismatchesAsync(Cluster));
        Assert.True((await Cluster.Client.AuditAsync(Cluster.Journal)).Holds);
    }

    [Fact]
    public async Task PayAsync_SameCrossShardPaymentConcurrently_IsOnePayment()
    {
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(Cluster, block, 4, 1_000, block);
        var payment = new Payment(block + 1_000, books.Customers[0], books.Customers[1], 700); // shards 0 and 1 of 4

        PaymentOutcome[][] outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Cluster.Client.PayAsync([payment])));

        // Paid twice it would exceed the payer's 1,000: exactly one payment of 700 moved.
        Assert.All(outcomes, o => Assert.Equal(PaymentStatus.Committed, o[0].Status));
        books.Apply([payment], [outcomes[0][0]]);
        Assert.Empty(await books.MismatchesAsync(Cluster));
        Assert.True((await Cluster.Client.AuditAsync(Cluster.Journal)).Holds);
    }

    [Fact]
    public async Task RecoverAsync_ResolutionReplayedAfterACrashBeforeTheEndWasJournaled_PostsOnce()
    {
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(Cluster, block, 4, 1_000, block);
        Payment[] batch = [new(block + 1_000, books.Customers[0], books.Customers[1], 300), new(block + 1_001, books.Customers[2], books.Customers[3], 2_000)];
        PaymentOutcome[] outcomes = await Cluster.Client.PayAsync(batch);
        Assert.Equal([PaymentStatus.Committed, PaymentStatus.Aborted], outcomes.Select(o => o.Status));
        books.Apply(batch, outcomes);

        // As if the coordinator had died after posting and voiding but before journaling the end: the rows go back to
        // their decision, owned by an activation that no longer exists, and recovery drives them again.
        await using (var connection = await Npgsql.NpgsqlDataSource.Create(Cluster.Settings.ConnectionString).OpenConnectionAsync())
        await using (var command = new Npgsql.NpgsqlCommand(
            $"UPDATE {PaymentJournal.Table} SET state = state - 2, driver = gen_random_uuid() WHERE cluster = $1 AND state IN (3, 4) AND payment_id = ANY($2)",
            connection))
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = Cluster.Settings.Cluster });
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = batch.Select(p => Big(p.Id)).ToArray() });
            Assert.Equal(2, await command.ExecuteNonQueryAsync());
        }

        int coordinator = Cluster.Map.ShardOf(books.Customers[0]);
        int other = Cluster.Map.ShardOf(books.Customers[2]);
        Assert.Equal(2, await Cluster.Client.RecoverAsync(coordinator == other ? [coordinator] : [coordinator, other]));

        Assert.Empty(await books.MismatchesAsync(Cluster));
        ConservationReport report = await Cluster.Client.AuditAsync(Cluster.Journal);
        Assert.True(report.Holds, report.ToString());
    }

    [Fact]
    public async Task PayAsync_IdReusedWithOtherFields_IsRefusedAndMovesNothing()
    {
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(Cluster, block, 4, 1_000, block);
        var payment = new Payment(block + 1_000, books.Customers[0], books.Customers[1], 100);
        PaymentOutcome[] first = await Cluster.Client.PayAsync([payment]);
        books.Apply([payment], first);

        PaymentOutcome[] reused = await Cluster.Client.PayAsync([payment with { Amount = 200 }]);

        Assert.Equal(PaymentStatus.Committed, first[0].Status);
        Assert.Equal(PaymentStatus.IdReused, reused[0].Status);
        Assert.Empty(await books.MismatchesAsync(Cluster));
    }

    [Fact]
    public async Task PayAsync_MalformedPayments_AreRefusedWithArgumentException()
    {
        UInt128 block = Ids.Block();
        await Assert.ThrowsAsync<ArgumentException>(() => Cluster.Client.PayAsync([new Payment(0, block + 1, block + 2, 1)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Cluster.Client.PayAsync([new Payment(block, block + 1, block + 2, 0)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Cluster.Client.PayAsync([new Payment(block, ShardMap.BridgeAccount(0), block + 2, 1)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Cluster.Client.PayAsync([new Payment(ShardMap.PaymentIdLimit, block + 1, block + 2, 1)]));
    }

    private static byte[] Big(UInt128 value)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return bytes;
    }
}
