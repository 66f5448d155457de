using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>What the conformance kit does not pin down: the in-memory store's lifecycle, shared backings and allocation.</summary>
public sealed class InMemoryLedgerStoreTests
{
    [Fact]
    public void Constructor_NullBacking_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("backing", () => new InMemoryLedgerStore(null!));
    }

    [Fact]
    public async Task AppendAsync_BeforeOpen_ThrowsInvalidOperationException()
    {
        await using var store = new InMemoryLedgerStore();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.AppendAsync(TestBatches.Chain(1)[0]));
    }

    [Fact]
    public async Task OpenAsync_Twice_ThrowsInvalidOperationException()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.OpenAsync());
    }

    [Fact]
    public async Task Members_AfterDispose_ThrowObjectDisposedException()
    {
        var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(TestBatches.Chain(1)[0]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.ReadLatestSnapshotAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.OpenAsync());
    }

    [Fact]
    public async Task ReadBatchesAsync_FromZero_ThrowsArgumentOutOfRangeException()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();

        Assert.Throws<ArgumentOutOfRangeException>("fromBatchNumber", () => store.ReadBatchesAsync(0));
    }

    [Fact]
    public async Task AppendAsync_BatchNumberZero_ThrowsArgumentException()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();

        Assert.Throws<ArgumentException>("batch", () => store.AppendAsync(default).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task Backing_SharedByTwoOpenStores_EachSeesTheOthersAppends()
    {
        var backing = new InMemoryLedgerStoreBacking();
        await using var first = new InMemoryLedgerStore(backing);
        await using var second = new InMemoryLedgerStore(backing);
        await first.OpenAsync();
        await second.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(2);

        await first.AppendAsync(batches[0]);
        await second.AppendAsync(batches[1]);

        // The chain is checked against the backing, not per store: a stale batch 2 through the first store is a retry.
        await first.AppendAsync(batches[1]);
        Assert.Equal(2, await CountAsync(first));
        Assert.Same(backing, second.Backing);
    }

    [Fact]
    public async Task AppendAsync_WriteFailedBeforeBacking_RefusesAppendsAndANewStoreLacksTheBatch()
    {
        var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(3);
        await store.AppendAsync(batches[0]);
        store.FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.BeforeBacking);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[0]));
        Assert.Equal(1, await CountAsync(store));
        await store.DisposeAsync();

        await using var reopened = new InMemoryLedgerStore(store.Backing);
        Assert.Equal(1UL, (await reopened.OpenAsync()).LastBatchNumber);
        await AppendAsync(reopened, batches[1..]);
        Assert.Equal(3, await CountAsync(reopened));
    }

    [Fact]
    public async Task AppendAsync_WriteFailedAfterBacking_RefusesAppendsAndANewStoreHasTheBatch()
    {
        var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(3);
        await store.AppendAsync(batches[0]);
        store.FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.AfterBacking);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[2]));
        await store.DisposeAsync();

        await using var reopened = new InMemoryLedgerStore(store.Backing);
        Assert.Equal(2UL, (await reopened.OpenAsync()).LastBatchNumber);
        await AppendAsync(reopened, batches[1..]);
        Assert.Equal(3, await CountAsync(reopened));
    }

    [Fact]
    public async Task AppendAsync_ConflictingRetry_ThrowsButStoreStaysUsable()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(2);
        await store.AppendAsync(batches[0]);
        CommitBatch conflicting = TestBatches.Create(1, BatchHash.Zero, batches[0].Header.EventCount, variant: 3);

        // A refused retry wrote nothing: unlike a failed write, it leaves nothing unknown.
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(conflicting));
        await store.AppendAsync(batches[1]);

        Assert.Equal(2, await CountAsync(store));
    }

    [Fact]
    public void FailNextDurableWrite_None_ThrowsArgumentOutOfRangeException()
    {
        var store = new InMemoryLedgerStore();

        Assert.Throws<ArgumentOutOfRangeException>("failure", () => store.FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.None));
    }

    [Fact]
    public async Task WriteSnapshotAsync_OlderThanLatest_KeepsTheNewer()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        await AppendAsync(store, TestBatches.Chain(4));

        await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3));
        await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));

        Assert.Equal(3UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
    }

    [Fact]
    public async Task ReadBatchesAsync_EventsOfEarlierBatch_StayValidAfterMoreAppends()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(300);
        await store.AppendAsync(batches[0]);
        CommitBatch read = default;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            read = batch;
        }

        // Enough appends to fill several chunks and grow the index: published bytes are never moved or reused.
        await AppendAsync(store, batches[1..]);

        Assert.Equal(TestBatches.Encode(batches[0]), TestBatches.Encode(read));
    }

    [Fact]
    public async Task AppendAsync_SteadyState_AllocatesNothing()
    {
        await using var store = new InMemoryLedgerStore();
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(3000);
        AppendSynchronously(store, batches.AsSpan(0, 1000));

        // Growth (a new chunk, a larger index) allocates now and then; a per-batch allocation would show in every
        // window. So most windows of 100 appends must allocate nothing at all.
        int zeroWindows = 0;
        for (int window = 0; window < 20; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            AppendSynchronously(store, batches.AsSpan(1000 + (window * 100), 100));
            if (GC.GetAllocatedBytesForCurrentThread() == before)
            {
                zeroWindows++;
            }
        }

        Assert.True(zeroWindows >= 15, $"Only {zeroWindows} of 20 windows of 100 appends allocated nothing.");
    }

    // Synchronous on purpose: the in-memory append completes synchronously, and no async machinery may allocate here.
    private static void AppendSynchronously(InMemoryLedgerStore store, ReadOnlySpan<CommitBatch> batches)
    {
        foreach (CommitBatch batch in batches)
        {
            store.AppendAsync(batch).GetAwaiter().GetResult();
        }
    }

    private static async Task AppendAsync(InMemoryLedgerStore store, IEnumerable<CommitBatch> batches)
    {
        foreach (CommitBatch batch in batches)
        {
            await store.AppendAsync(batch);
        }
    }

    private static async Task<int> CountAsync(ILedgerStore store)
    {
        int count = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            _ = batch;
            count++;
        }

        return count;
    }
}
