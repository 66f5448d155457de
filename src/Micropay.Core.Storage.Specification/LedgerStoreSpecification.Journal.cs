using Xunit;

namespace Micropay.Core.Storage.Specification;

// Opening, the sequence rules, durability across reopen, and reading back.
public abstract partial class LedgerStoreSpecification
{
    /// <summary>A new location opens as an empty store: no batches, zero hash, no snapshot.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task OpenAsync_NewLocation_ReportsEmptyStore()
    {
        (ILedgerStore store, LedgerStoreState state) = await OpenAtAsync(CreateLocation());

        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
        Assert.Empty(await ReadAllAsync(store));
        Assert.Null(await store.ReadLatestSnapshotAsync());
    }

    /// <summary>An empty store reopened is still empty.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task OpenAsync_EmptyStoreReopened_StillEmpty()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);

        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
        Assert.Empty(await ReadAllAsync(store));
    }

    /// <summary>A token cancelled before opening cancels it.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task OpenAsync_CancelledToken_ThrowsOperationCanceledException()
    {
        ILedgerStore store = await CreateAtAsync(CreateLocation());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.OpenAsync(CancelledToken()));
    }

    /// <summary>The store reports the capabilities the test class expects.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Capabilities_Always_MatchExpectedCapabilities()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());

        Assert.Equal(ExpectedCapabilities, store.Capabilities);
    }

    /// <summary>Disposing a store twice is harmless, as for any <see cref="IAsyncDisposable"/>.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task DisposeAsync_CalledTwice_DoesNotThrow()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await store.AppendAsync(TestBatches.Chain(1)[0]);

        await CloseAsync(store);
        await store.DisposeAsync();
    }

    /// <summary>Batches appended in sequence are reported by the next open: last number and its hash.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_SequentialBatches_ReopenReportsLastNumberAndHash()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(5);

        await AppendAllAsync(store, batches);
        (_, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter(batches), state);
    }

    /// <summary>Acknowledged batches survive a reopen byte for byte.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_ThenReopen_BatchesAreDurable()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(7);

        await AppendAllAsync(store, batches);
        (store, _) = await ReopenAsync(store, location);

        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Batches are readable by the store that appended them, before any reopen.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_ThenRead_SameStoreReturnsBatches()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(4);

        await AppendAllAsync(store, batches);

        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>After a reopen the chain continues from what open reported, across several reopens.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_AfterReopen_ContinuesTheChain()
    {
        string location = CreateLocation();
        (ILedgerStore store, LedgerStoreState state) = await OpenAtAsync(location);
        var all = new List<CommitBatch>();
        for (int round = 0; round < 3; round++)
        {
            CommitBatch[] more = TestBatches.Chain(3, state.LastBatchHash, state.LastBatchNumber + 1);
            await AppendAllAsync(store, more);
            all.AddRange(more);
            (store, state) = await ReopenAsync(store, location);
            Assert.Equal(StateAfter(all), state);
        }

        AssertBatches(all, await ReadAllAsync(store));
    }

    /// <summary>The first batch must be batch 1; any other number is a gap, rejected with nothing stored.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_FirstBatchNotNumberOne_ThrowsArgumentExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);

        await Assert.ThrowsAnyAsync<ArgumentException>(
            async () => await store.AppendAsync(TestBatches.Create(2, BatchHash.Zero, 1)));

        Assert.Empty(await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
        CommitBatch[] batches = TestBatches.Chain(1);
        await AppendAllAsync(store, batches);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Batch 1 must carry the zero hash as its previous batch hash.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_FirstBatchWithNonZeroPreviousHash_ThrowsArgumentExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        BatchHash wrong = BatchHash.Compute([1, 2, 3]);

        await Assert.ThrowsAnyAsync<ArgumentException>(
            async () => await store.AppendAsync(TestBatches.Create(1, wrong, 1)));

        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
        Assert.Empty(await ReadAllAsync(store));
    }

    /// <summary>A batch number that skips ahead is rejected with nothing stored, and the right next batch still fits.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_GapInBatchNumbers_ThrowsArgumentExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);

        // Batch 4 chained to batch 3 (which was never appended) and batch 5 chained to batch 2: both leave a gap.
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.AppendAsync(batches[3]));
        await Assert.ThrowsAnyAsync<ArgumentException>(
            async () => await store.AppendAsync(TestBatches.Create(5, TestBatches.Hash(batches[1]), 1)));

        AssertBatches(batches[..2], await ReadAllAsync(store));
        await AppendAllAsync(store, batches[2..]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>The next batch must carry the last batch's hash; a wrong one is rejected with nothing stored.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_WrongPreviousHash_ThrowsArgumentExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);

        // Chained to batch 1 instead of batch 2, and to nothing.
        await Assert.ThrowsAnyAsync<ArgumentException>(
            async () => await store.AppendAsync(TestBatches.Create(3, TestBatches.Hash(batches[0]), 2)));
        await Assert.ThrowsAnyAsync<ArgumentException>(
            async () => await store.AppendAsync(TestBatches.Create(3, BatchHash.Zero, 2)));

        AssertBatches(batches[..2], await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches[..2]), state);
        await store.AppendAsync(batches[2]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Batches without events are valid and round-trip.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_BatchesWithNoEvents_RoundTrip()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch first = TestBatches.Create(1, BatchHash.Zero, 0);
        CommitBatch second = TestBatches.Create(2, TestBatches.Hash(first), 0);
        CommitBatch third = TestBatches.Create(3, TestBatches.Hash(second), 2);
        CommitBatch[] batches = [first, second, third];

        await AppendAllAsync(store, batches);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A large batch (8192 events, 1 MiB) comes back byte for byte.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_LargeBatch_RoundTripsByteForByte()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch first = TestBatches.Create(1, BatchHash.Zero, 8192);
        CommitBatch second = TestBatches.Create(2, TestBatches.Hash(first), 1);

        await AppendAllAsync(store, [first, second]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);

        Assert.Equal(StateAfter([first, second]), state);
        AssertBatches([first, second], await ReadAllAsync(store));
    }

    /// <summary>A store keeps its own copy: changing the caller's buffer after the append completed changes nothing stored.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_CallerReusesEventBufferAfterCompletion_StoredBytesUnchanged()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] expected = TestBatches.Chain(2);
        byte[] buffer = expected[0].Events.ToArray();

        await store.AppendAsync(new CommitBatch(expected[0].Header, buffer));
        buffer.AsSpan().Fill(0xFF);
        await store.AppendAsync(expected[1]);

        AssertBatches(expected, await ReadAllAsync(store));
        (store, _) = await ReopenAsync(store, location);
        AssertBatches(expected, await ReadAllAsync(store));
    }

    /// <summary>Reading from batch 1 returns the whole journal in order, each batch chained to the one before.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_FromOne_ReturnsWholeChainedJournal()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(10);
        await AppendAllAsync(store, batches);

        List<CommitBatch> read = await ReadAllAsync(store, 1);

        AssertBatches(batches, read);
        BatchHash previous = BatchHash.Zero;
        foreach (CommitBatch batch in read)
        {
            Assert.Equal(previous, batch.Header.PreviousBatchHash);
            previous = TestBatches.Hash(batch);
        }
    }

    /// <summary>Reading from a batch in the middle returns that batch and all after it.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_FromMiddle_ReturnsTheRest()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(10);
        await AppendAllAsync(store, batches);

        AssertBatches(batches[4..], await ReadAllAsync(store, 5));
        AssertBatches(batches[1..], await ReadAllAsync(store, 2));
        (store, _) = await ReopenAsync(store, location);
        AssertBatches(batches[6..], await ReadAllAsync(store, 7));
    }

    /// <summary>Reading from the last batch returns just it.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_FromLast_ReturnsOnlyLast()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(6);
        await AppendAllAsync(store, batches);

        AssertBatches(batches[5..], await ReadAllAsync(store, 6));
    }

    /// <summary>Reading from past the last batch returns nothing, and does not throw.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_PastTheEnd_ReturnsEmpty()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await AppendAllAsync(store, TestBatches.Chain(3));

        Assert.Empty(await ReadAllAsync(store, 4));
        Assert.Empty(await ReadAllAsync(store, 1_000_000));
    }

    /// <summary>Reading an empty store returns nothing.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_EmptyStore_ReturnsEmpty()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());

        Assert.Empty(await ReadAllAsync(store, 1));
        Assert.Empty(await ReadAllAsync(store, 2));
    }

    /// <summary>Reading can be repeated and gives the same answer (a read consumes nothing).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_Twice_ReturnsSameBatches()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(5);
        await AppendAllAsync(store, batches);

        AssertBatches(batches, await ReadAllAsync(store));
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A token cancelled before enumerating cancels the enumeration.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_CancelledToken_ThrowsOperationCanceledException()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await AppendAllAsync(store, TestBatches.Chain(3));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1, CancelledToken()).ConfigureAwait(false))
            {
                _ = batch;
            }
        });
    }

    /// <summary>A token cancelled during the enumeration stops it.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_TokenCancelledMidway_ThrowsOperationCanceledException()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await AppendAllAsync(store, TestBatches.Chain(50));
        using var cancellation = new CancellationTokenSource();
        int seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1, cancellation.Token).ConfigureAwait(false))
            {
                seen++;
                if (seen == 2)
                {
                    await cancellation.CancelAsync();
                }
            }
        });
        Assert.True(seen < 50, $"The enumeration went on to the end ({seen} batches) after its token was cancelled.");
    }
}
