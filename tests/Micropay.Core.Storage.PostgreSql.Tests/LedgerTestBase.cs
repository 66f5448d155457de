using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>Ledgers and stores of one test, cleaned up after it: stores disposed, then every ledger's rows deleted.</summary>
public abstract class LedgerTestBase : IAsyncLifetime
{
    private readonly List<string> _ledgers = [];
    private readonly List<PostgreSqlLedgerStore> _stores = [];

    protected string NewLedger()
    {
        string ledger = TestServer.NewLedgerName(GetType().Name.ToLowerInvariant());
        _ledgers.Add(ledger);
        return ledger;
    }

    protected PostgreSqlLedgerStore Store(string ledger, int snapshotChunkBytes = 64 * 1024, int snapshotsToKeep = PostgreSqlLedgerStoreOptions.DefaultSnapshotsToKeep)
    {
        PostgreSqlLedgerStore store = TestServer.Store(ledger, snapshotChunkBytes, snapshotsToKeep);
        _stores.Add(store);
        return store;
    }

    protected async Task<PostgreSqlLedgerStore> OpenAsync(string ledger, int snapshotChunkBytes = 64 * 1024, int snapshotsToKeep = PostgreSqlLedgerStoreOptions.DefaultSnapshotsToKeep)
    {
        PostgreSqlLedgerStore store = Store(ledger, snapshotChunkBytes, snapshotsToKeep);
        await store.OpenAsync();
        return store;
    }

    protected static async Task<List<CommitBatch>> ReadAllAsync(ILedgerStore store, ulong from = 1)
    {
        var batches = new List<CommitBatch>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(from))
        {
            batches.Add(new CommitBatch(batch.Header, batch.Events.ToArray()));
        }

        return batches;
    }

    protected static void AssertSameBatches(IReadOnlyList<CommitBatch> expected, IReadOnlyList<CommitBatch> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(TestBatches.Encode(expected[i]), TestBatches.Encode(actual[i]));
        }
    }

    protected async Task WriteJournalAsync(string ledger, IEnumerable<CommitBatch> batches)
    {
        await using PostgreSqlLedgerStore store = TestServer.Store(ledger);
        await store.OpenAsync();
        foreach (CommitBatch batch in batches)
        {
            await store.AppendAsync(batch);
        }
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (PostgreSqlLedgerStore store in _stores)
        {
            await store.DisposeAsync();
        }

        foreach (string ledger in _ledgers)
        {
            await TestServer.DeleteLedgerAsync(ledger);
        }
    }
}
