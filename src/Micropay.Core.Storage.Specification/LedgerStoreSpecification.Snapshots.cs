using Xunit;

namespace Micropay.Core.Storage.Specification;

// Snapshots, or their absence when the store does not offer them.
public abstract partial class LedgerStoreSpecification
{
    /// <summary>A written snapshot is the latest one read back, byte for byte (or, without the capability,
    /// writing throws <see cref="NotSupportedException"/> and reading returns null).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_ThenReadLatest_ReturnsIt()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await AppendAllAsync(store, TestBatches.Chain(3));
        byte[] state = TestBatches.SnapshotState(2);

        if (!SnapshotsExpected)
        {
            await Assert.ThrowsAsync<NotSupportedException>(async () => await store.WriteSnapshotAsync(2, state));
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

        await store.WriteSnapshotAsync(2, state);

        LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(2UL, snapshot.Value.BatchNumber);
        Assert.Equal(state, snapshot.Value.State.ToArray());
    }

    /// <summary>Of several snapshots, the newest is the latest.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_Several_NewestWins()
    {
        if (!SnapshotsExpected)
        {
            return;
        }

        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(6));

        await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));
        await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4, 3000));
        await store.WriteSnapshotAsync(5, TestBatches.SnapshotState(5, 10));

        LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(5UL, snapshot.Value.BatchNumber);
        Assert.Equal(TestBatches.SnapshotState(5, 10), snapshot.Value.State.ToArray());
    }

    /// <summary>A snapshot survives a reopen, and open reports its batch number.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_ThenReopen_SnapshotSurvivesAndOpenReportsIt()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(5);
        await AppendAllAsync(store, batches);
        if (!SnapshotsExpected)
        {
            (store, LedgerStoreState withoutSnapshots) = await ReopenAsync(store, location);
            Assert.Equal(StateAfter(batches), withoutSnapshots);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

        await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3));
        await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4, 5000));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter(batches, latestSnapshotBatchNumber: 4), state);
        LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(4UL, snapshot.Value.BatchNumber);
        Assert.Equal(TestBatches.SnapshotState(4, 5000), snapshot.Value.State.ToArray());
    }

    /// <summary>A snapshot does not disturb the journal: batches are still read from 1 and appends continue.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_ThenAppend_JournalContinues()
    {
        if (!SnapshotsExpected)
        {
            return;
        }

        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(6);
        await AppendAllAsync(store, batches[..3]);

        await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3));
        await AppendAllAsync(store, batches[3..]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter(batches, latestSnapshotBatchNumber: 3), state);
        AssertBatches(batches[3..], await ReadAllAsync(store, 4));
    }

    /// <summary>A store keeps its own copy of a snapshot: changing the caller's buffer afterwards changes nothing.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_CallerReusesBufferAfterCompletion_StoredSnapshotUnchanged()
    {
        if (!SnapshotsExpected)
        {
            return;
        }

        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(2));
        byte[] buffer = TestBatches.SnapshotState(2);

        await store.WriteSnapshotAsync(2, buffer);
        buffer.AsSpan().Fill(0xFF);

        LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(TestBatches.SnapshotState(2), snapshot.Value.State.ToArray());
        (store, _) = await ReopenAsync(store, location);
        snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(TestBatches.SnapshotState(2), snapshot.Value.State.ToArray());
    }

    /// <summary>A token cancelled before writing a snapshot cancels it: the snapshot is absent and the previous one stays latest.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_CancelledToken_ThrowsOperationCanceledExceptionAndSnapshotIsAbsent()
    {
        if (!SnapshotsExpected)
        {
            return;
        }

        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(4));
        await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4), CancelledToken()));

        Assert.Equal(2UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(2UL, state.LatestSnapshotBatchNumber);
        Assert.Equal(2UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
    }

    /// <summary>A snapshot must follow a durable batch: one for batch 0 or past the last batch is a caller bug,
    /// rejected with an <see cref="ArgumentException"/> and not stored.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_BatchNotDurable_ThrowsArgumentExceptionAndStoresNothing()
    {
        if (!SnapshotsExpected)
        {
            return;
        }

        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(3));

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.WriteSnapshotAsync(0, TestBatches.SnapshotState(0)));

        Assert.Null(await store.ReadLatestSnapshotAsync());
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(0UL, state.LatestSnapshotBatchNumber);
        Assert.Null(await store.ReadLatestSnapshotAsync());
    }

    /// <summary>Without any snapshot written, reading the latest returns null.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadLatestSnapshotAsync_NoneWritten_ReturnsNull()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(3));

        Assert.Null(await store.ReadLatestSnapshotAsync());
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(0UL, state.LatestSnapshotBatchNumber);
        Assert.Null(await store.ReadLatestSnapshotAsync());
    }
}
