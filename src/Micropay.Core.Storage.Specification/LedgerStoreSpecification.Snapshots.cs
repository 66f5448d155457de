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
            await AssertSnapshotWriteNotSupportedAsync(store, 2, state);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

        await store.WriteSnapshotAsync(2, state);

        LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(2UL, snapshot.Value.BatchNumber);
        Assert.Equal(state, snapshot.Value.State.ToArray());
    }

    /// <summary>Of several snapshots, the newest is the latest (without the capability, each write throws
    /// <see cref="NotSupportedException"/> and there is no latest).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_Several_NewestWins()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(6));
        if (!SnapshotsExpected)
        {
            foreach (ulong number in (ulong[])[2, 4, 5])
            {
                await AssertSnapshotWriteNotSupportedAsync(store, number, TestBatches.SnapshotState(number));
            }

            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

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

    /// <summary>A snapshot does not disturb the journal: batches are still read from 1 and appends continue (without
    /// the capability, neither does the refused snapshot write).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_ThenAppend_JournalContinues()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(6);
        await AppendAllAsync(store, batches[..3]);

        if (SnapshotsExpected)
        {
            await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3));
        }
        else
        {
            await AssertSnapshotWriteNotSupportedAsync(store, 3, TestBatches.SnapshotState(3));
        }

        await AppendAllAsync(store, batches[3..]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter(batches, latestSnapshotBatchNumber: SnapshotsExpected ? 3UL : 0UL), state);
        AssertBatches(batches[3..], await ReadAllAsync(store, 4));
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A store keeps its own copy of a snapshot: changing the caller's buffer afterwards changes nothing
    /// (without the capability, the write throws <see cref="NotSupportedException"/> and nothing is kept, even across a
    /// reopen).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_CallerReusesBufferAfterCompletion_StoredSnapshotUnchanged()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(2));
        byte[] buffer = TestBatches.SnapshotState(2);
        if (!SnapshotsExpected)
        {
            await AssertSnapshotWriteNotSupportedAsync(store, 2, buffer);
            buffer.AsSpan().Fill(0xFF);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            (store, LedgerStoreState reopened) = await ReopenAsync(store, location);
            Assert.Equal(0UL, reopened.LatestSnapshotBatchNumber);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

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

    /// <summary>A token cancelled before writing a snapshot cancels it: the snapshot is absent and the previous one
    /// stays latest. (Without the capability, the cancelled write throws <see cref="OperationCanceledException"/> or
    /// <see cref="NotSupportedException"/>, and there is no snapshot.)</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_CancelledToken_ThrowsOperationCanceledExceptionAndSnapshotIsAbsent()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(4));
        if (!SnapshotsExpected)
        {
            // The contract does not say whether the token or the missing capability is checked first: either is right.
            Exception? thrown = await Record.ExceptionAsync(
                async () => await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4), CancelledToken()));
            Assert.True(
                thrown is OperationCanceledException or NotSupportedException,
                $"A cancelled snapshot write on a store without snapshots must throw OperationCanceledException or NotSupportedException, not {thrown?.GetType().FullName ?? "complete"}.");
            Assert.Null(await store.ReadLatestSnapshotAsync());
            (store, LedgerStoreState reopened) = await ReopenAsync(store, location);
            Assert.Equal(0UL, reopened.LatestSnapshotBatchNumber);
            return;
        }

        await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4), CancelledToken()));

        Assert.Equal(2UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(2UL, state.LatestSnapshotBatchNumber);
        Assert.Equal(2UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
    }

    /// <summary>A snapshot must follow a durable batch: one for batch 0 or past the last batch is a caller bug,
    /// rejected with an <see cref="ArgumentException"/> and not stored. (Without the capability, such a write throws
    /// <see cref="ArgumentException"/> or <see cref="NotSupportedException"/>, and there is no snapshot.)</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_BatchNotDurable_ThrowsArgumentExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(3));

        foreach (ulong number in (ulong[])[4, 0])
        {
            Exception? thrown = await Record.ExceptionAsync(async () => await store.WriteSnapshotAsync(number, TestBatches.SnapshotState(number)));
            if (SnapshotsExpected)
            {
                Assert.IsAssignableFrom<ArgumentException>(thrown);
            }
            else
            {
                // Both exceptions are documented for this call; a store without snapshots may check either first.
                Assert.True(
                    thrown is ArgumentException or NotSupportedException,
                    $"A snapshot of batch {number} on a store without snapshots must throw NotSupportedException (or ArgumentException), not {thrown?.GetType().FullName ?? "complete"}.");
            }
        }

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

    // For a store without snapshots: the write is refused with NotSupportedException, as the contract says.
    private static async Task AssertSnapshotWriteNotSupportedAsync(ILedgerStore store, ulong batchNumber, byte[] state)
    {
        Exception? thrown = await Record.ExceptionAsync(async () => await store.WriteSnapshotAsync(batchNumber, state).ConfigureAwait(false)).ConfigureAwait(false);
        if (thrown is not NotSupportedException)
        {
            Assert.Fail(
                $"The store reports no LedgerStoreCapabilities.Snapshots, so writing the snapshot of batch {batchNumber} must throw " +
                $"NotSupportedException; it {(thrown is null ? "completed" : $"threw {thrown.GetType().FullName}")}.");
        }
    }
}
