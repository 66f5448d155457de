using Micropay.Core.Storage.Specification;
using Npgsql;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// What a store does when its server restarts between appends (an operator's restart, a crash and recovery, a failover to
/// the same address): the writer's connection is gone, so the next append must fail with
/// <see cref="LedgerStoreException"/> and the instance must refuse every later append on either path rather than carry
/// on as if nothing happened (the plug's contract: it cannot know by itself what is durable); a new store over the same
/// data source, opened once the server is back, must find every acknowledged batch and carry on, an identical retry of
/// the failed batch included. On a server of its own (<see cref="PrivateServer"/>), since the shared one serves tests
/// running in parallel.
/// </summary>
public sealed class PostgreSqlLedgerStoreRestartTests
{
    [Fact(Timeout = 150_000)]
    public async Task AppendAsync_ServerRestartedBetweenAppends_ThrowsRefusesFurtherAppendsAndAReopenCarriesOn()
    {
        using PrivateServer server = await Task.Run(PrivateServer.Start);
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        CommitBatch[] batches = TestBatches.Chain(6);
        var options = new PostgreSqlLedgerStoreOptions { DataSource = dataSource, LedgerName = "restart" };

        await using (var store = new PostgreSqlLedgerStore(options))
        {
            await store.OpenAsync();
            for (int i = 0; i < 3; i++)
            {
                await store.AppendAsync(batches[i]);
            }

            // A reader's connection goes back to the pool before the restart: the reopen below must not trip over it.
            Assert.Equal(3, (await ReadAllAsync(store)).Count);

            await Task.Run(server.Restart);

            LedgerStoreException failed = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[3]));
            Assert.Contains("may or may not be durable", failed.Message, StringComparison.Ordinal);

            // The server is back, but this instance must not pretend to know what is durable: both paths refuse.
            LedgerStoreException refused = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[3]));
            Assert.Contains("earlier append", refused.Message, StringComparison.Ordinal);
            byte[] record = TestBatches.Encode(batches[3]);
            Assert.Throws<LedgerStoreException>(() => ((IEncodedBatchAppender)store).AppendEncoded(batches[3].Header, record, record.Length, overlap: null));
        }

        await using (var reopened = new PostgreSqlLedgerStore(options))
        {
            LedgerStoreState state = await reopened.OpenAsync();

            // The failed append's connection was dead before it was sent, so nothing of it can have committed.
            Assert.Equal(3UL, state.LastBatchNumber);
            Assert.Equal(TestBatches.Hash(batches[2]), state.LastBatchHash);

            await reopened.AppendAsync(batches[3]); // the identical retry
            byte[] record = TestBatches.Encode(batches[4]);
            Assert.Equal(TestBatches.Hash(batches[4]), ((IEncodedBatchAppender)reopened).AppendEncoded(batches[4].Header, record, record.Length, overlap: null));
            await reopened.AppendAsync(batches[5]);

            List<CommitBatch> read = await ReadAllAsync(reopened);
            Assert.Equal(batches.Length, read.Count);
            for (int i = 0; i < batches.Length; i++)
            {
                Assert.Equal(TestBatches.Encode(batches[i]), TestBatches.Encode(read[i]));
            }
        }
    }

    private static async Task<List<CommitBatch>> ReadAllAsync(ILedgerStore store)
    {
        var batches = new List<CommitBatch>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            batches.Add(new CommitBatch(batch.Header, batch.Events.ToArray()));
        }

        return batches;
    }
}
