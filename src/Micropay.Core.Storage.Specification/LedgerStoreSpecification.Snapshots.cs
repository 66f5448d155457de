using System.Buffers;
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

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(2UL, snapshot.BatchNumber);
        Assert.Equal(state, snapshot.State.ToArray());
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

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(5UL, snapshot.BatchNumber);
        Assert.Equal(TestBatches.SnapshotState(5, 10), snapshot.State.ToArray());
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
        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(4UL, snapshot.BatchNumber);
        Assert.Equal(TestBatches.SnapshotState(4, 5000), snapshot.State.ToArray());
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

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.Equal(TestBatches.SnapshotState(2), snapshot.State.ToArray());
        (store, _) = await ReopenAsync(store, location);
        using LedgerSnapshot? afterReopen = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(afterReopen);
        Assert.Equal(TestBatches.SnapshotState(2), afterReopen.State.ToArray());
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

        Assert.Equal(2UL, await LatestSnapshotBatchNumberAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(2UL, state.LatestSnapshotBatchNumber);
        Assert.Equal(2UL, await LatestSnapshotBatchNumberAsync(store));
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

    /// <summary>
    /// A snapshot of any size in any segments: one of <see cref="LargeSnapshotLength"/> bytes (larger than the store's
    /// internal buffer, chunk or page, as the test class arranges), cut into uneven segments whose boundaries fall
    /// anywhere (<see cref="TestBatches.InSegments"/>), is read back whole, byte for byte, before and after a reopen; the
    /// store kept its own copy, so the caller's buffers may change once the write completed. (Without the capability, the
    /// write throws <see cref="NotSupportedException"/> and nothing is kept.)
    /// </summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task WriteSnapshotAsync_LargerThanOneBufferInManySegments_ReadsBackWholeBeforeAndAfterReopen()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(3));
        byte[] expected = TestBatches.SnapshotState(3, LargeSnapshotLength);
        byte[] buffer = (byte[])expected.Clone();
        ReadOnlySequence<byte> state = TestBatches.InSegments(buffer);
        if (!SnapshotsExpected)
        {
            await AssertSnapshotWriteNotSupportedAsync(store, 3, state);
            (store, LedgerStoreState without) = await ReopenAsync(store, location);
            Assert.Equal(0UL, without.LatestSnapshotBatchNumber);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

        await store.WriteSnapshotAsync(3, state);
        buffer.AsSpan().Fill(0xFF);

        using (LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync())
        {
            AssertSnapshot(3, expected, snapshot);
        }

        (store, LedgerStoreState reopened) = await ReopenAsync(store, location);
        Assert.Equal(3UL, reopened.LatestSnapshotBatchNumber);
        using (LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync())
        {
            AssertSnapshot(3, expected, snapshot);
        }
    }

    /// <summary>
    /// A snapshot read is the caller's until it disposes it: its state stays valid, and unchanged, while the store writes
    /// newer snapshots (and drops older ones, this one included) and is disposed, since a store may lend memory (a mapping
    /// of a file) that it must not take back before. Uses a snapshot of <see cref="LargeSnapshotLength"/> bytes, where a
    /// store is most likely to lend. (Without the capability, every write throws <see cref="NotSupportedException"/> and
    /// no snapshot is read.)
    /// </summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadLatestSnapshotAsync_StoreWritesNewerSnapshotsAndIsDisposed_ReadSnapshotStaysValidUntilDisposed()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        await AppendAllAsync(store, TestBatches.Chain(6));
        byte[] expected = TestBatches.SnapshotState(2, LargeSnapshotLength);
        if (!SnapshotsExpected)
        {
            await AssertSnapshotWriteNotSupportedAsync(store, 2, expected);
            Assert.Null(await store.ReadLatestSnapshotAsync());
            return;
        }

        await store.WriteSnapshotAsync(2, expected);
        (store, _) = await ReopenAsync(store, location);
        LedgerSnapshot? held = await store.ReadLatestSnapshotAsync();
        try
        {
            AssertSnapshot(2, expected, held);
            foreach (ulong number in (ulong[])[3, 4, 5, 6])
            {
                await store.WriteSnapshotAsync(number, TestBatches.SnapshotState(number, LargeSnapshotLength / 2));
            }

            Assert.Equal(6UL, await LatestSnapshotBatchNumberAsync(store));
            await CloseAsync(store);
            AssertSnapshot(2, expected, held);
        }
        finally
        {
            held?.Dispose();
        }
    }

    /// <summary>The length of the snapshot the large-snapshot tests write (1 MiB and 7 bytes unless overridden).</summary>
    /// <remarks>
    /// It should exceed whatever unit the store splits or buffers a snapshot in (a chunk row, a page, an array, a window
    /// of a mapping), so that a store that keeps only the first segment, or mixes up the order of its pieces, fails. A
    /// store whose unit is larger lowers its own limit in the test class (as <c>FileLedgerStore</c>'s and the SQLite
    /// sample's tests do, through internal settings) rather than raise this, which keeps the tests fast.
    /// </remarks>
    protected virtual int LargeSnapshotLength => (1024 * 1024) + 7;

    // The snapshot is of the batch and holds exactly the bytes, whatever its segments.
    private static void AssertSnapshot(ulong batchNumber, byte[] expected, LedgerSnapshot? snapshot)
    {
        Assert.NotNull(snapshot);
        Assert.Equal(batchNumber, snapshot.BatchNumber);
        ReadOnlySequence<byte> state = snapshot.State;
        Assert.Equal(expected.LongLength, state.Length);
        long offset = 0;
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            if (!segment.Span.SequenceEqual(expected.AsSpan((int)offset, segment.Length)))
            {
                Assert.Fail($"The snapshot of batch {batchNumber} read back differs from the one written in its {segment.Length}-byte segment at offset {offset}.");
            }

            offset += segment.Length;
        }
    }

    // The latest snapshot's batch number (null for none); the snapshot read is disposed at once.
    private static async Task<ulong?> LatestSnapshotBatchNumberAsync(ILedgerStore store)
    {
        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync().ConfigureAwait(false);
        return snapshot?.BatchNumber;
    }

    // For a store without snapshots: the write is refused with NotSupportedException, as the contract says.
    private static Task AssertSnapshotWriteNotSupportedAsync(ILedgerStore store, ulong batchNumber, byte[] state) =>
        AssertSnapshotWriteNotSupportedAsync(store, batchNumber, new ReadOnlySequence<byte>(state));

    private static async Task AssertSnapshotWriteNotSupportedAsync(ILedgerStore store, ulong batchNumber, ReadOnlySequence<byte> state)
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
