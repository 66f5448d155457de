using Xunit;

namespace Micropay.Core.Storage.Specification;

// Idempotent retries and cancellation of appends.
public abstract partial class LedgerStoreSpecification
{
    /// <summary>Retrying the last batch with identical bytes completes and stores nothing twice.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_IdenticalRetryOfLastBatch_CompletesWithoutDuplicating()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches);

        await store.AppendAsync(batches[2]);
        await store.AppendAsync(new CommitBatch(batches[2].Header, batches[2].Events.ToArray()));

        AssertBatches(batches, await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Retrying an earlier durable batch with identical bytes completes and changes nothing.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_IdenticalRetryOfEarlierBatch_CompletesWithoutChange()
    {
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches);

        await store.AppendAsync(batches[0]);
        await store.AppendAsync(batches[1]);

        AssertBatches(batches, await ReadAllAsync(store));
        CommitBatch[] next = TestBatches.Chain(1, TestBatches.Hash(batches[3]), 5);
        await AppendAllAsync(store, next);
        AssertBatches([.. batches, .. next], await ReadAllAsync(store));
    }

    /// <summary>After a reopen, retrying the last durable batch completes: how a caller whose append failed, and who
    /// reopened the store, resolves an outcome that turned out durable.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_IdenticalRetryAfterReopen_Completes()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches);

        (store, _) = await ReopenAsync(store, location);
        await store.AppendAsync(batches[2]);

        AssertBatches(batches, await ReadAllAsync(store));
        (_, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
    }

    /// <summary>A batch with a durable number but different events is a conflict, not a retry: rejected, nothing changes.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_RetryWithDifferentEvents_ThrowsLedgerStoreException()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches);
        CommitBatch original = batches[2];
        CommitBatch other = TestBatches.Create(3, original.Header.PreviousBatchHash, original.Header.EventCount, variant: 1);

        // Same header, different event bytes.
        await Assert.ThrowsAsync<LedgerStoreException>(
            async () => await store.AppendAsync(new CommitBatch(original.Header, other.Events)));

        AssertBatches(batches, await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A batch with a durable number and the same events but a different header is rejected too.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_RetryWithDifferentHeader_ThrowsLedgerStoreException()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches);
        CommitBatchHeader header = batches[1].Header;
        var retimed = new CommitBatchHeader(
            header.BatchNumber, header.Operation, header.Timestamp + 1, header.EventCount, header.PreviousBatchHash, header.AuditRoot);

        await Assert.ThrowsAsync<LedgerStoreException>(
            async () => await store.AppendAsync(new CommitBatch(retimed, batches[1].Events)));

        AssertBatches(batches, await ReadAllAsync(store));
        (store, _) = await ReopenAsync(store, location);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A token cancelled before the append cancels it with nothing stored; the batch can then be appended.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_CancelledToken_ThrowsOperationCanceledExceptionAndStoresNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await store.AppendAsync(batches[2], CancelledToken()));

        AssertBatches(batches[..2], await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches[..2]), state);
        await store.AppendAsync(batches[2]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A cancelled first append leaves the store empty.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_CancelledTokenOnEmptyStore_StoreStaysEmpty()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await store.AppendAsync(TestBatches.Chain(1)[0], CancelledToken()));

        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
        Assert.Empty(await ReadAllAsync(store));
    }
}
