using Xunit;

namespace Micropay.Core.Storage.Specification;

// Failed and cancelled appends, through a FaultInjectingLedgerStore around the store under test. The wrapper fails an
// append before passing it on or after the store completed it: the store under test never fails and stays healthy, as
// when a transport above it loses a request or its reply. So these tests check that such an append is never reported
// durable and that retrying the identical batch resolves its unknown outcome, on the same wrapper or after a reopen.
// They do not license retrying on a store whose own write failed: that instance must refuse appends until reopened,
// which the failure tests (LedgerStoreSpecification.Failures.cs) check.
public abstract partial class LedgerStoreSpecification
{
    /// <summary>An append that fails before writing is absent after a reopen, and the batch can then be appended.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_FailBeforeWrite_BatchAbsentAfterReopenAndAppendable()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        store.InjectFault(AppendFault.FailBeforeWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[2]));

        AssertBatches(batches[..2], await ReadAllAsync(store));
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches[..2]), state);
        await AppendAllAsync(store, batches[2..]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>After an append the wrapper failed before it reached the store (which stays healthy), retrying through
    /// the same wrapper appends the batch once.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_FailBeforeWrite_RetryOnSameStoreAppendsOnce()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await store.AppendAsync(batches[0]);
        store.InjectFault(AppendFault.FailBeforeWrite);
        store.InjectFault(AppendFault.FailBeforeWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
        await store.AppendAsync(batches[1]);
        await store.AppendAsync(batches[2]);

        AssertBatches(batches, await ReadAllAsync(store));
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches), state);
    }

    /// <summary>An append whose acknowledgement the wrapper lost after the store made it durable (the store itself did
    /// not fail): the retry through the same wrapper completes without duplicating, and the chain continues.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_FailAfterWrite_RetryOnSameStoreCompletesIdempotently()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        store.InjectFault(AppendFault.FailAfterWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[2]));
        await store.AppendAsync(batches[2]);
        await store.AppendAsync(batches[3]);

        AssertBatches(batches, await ReadAllAsync(store));
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>An append whose acknowledgement was lost: after a reopen the batch is there (the inner store completed,
    /// so it is durable), the retry completes, and a conflicting retry is refused.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_FailAfterWrite_AfterReopenBatchPresentAndRetryCompletes()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        store.InjectFault(AppendFault.FailAfterWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[2]));
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);

        Assert.Equal(StateAfter(batches[..3]), state);
        await store.AppendAsync(batches[2]);
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(
            TestBatches.Create(3, batches[2].Header.PreviousBatchHash, batches[2].Header.EventCount, variant: 7)));
        await store.AppendAsync(batches[3]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A slow append cancelled before it reached the store is not reported durable and is absent after a reopen.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_DelayBeforeWriteCancelled_NotReportedDurableAndAbsentAfterReopen()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);
        store.Delay = Timeout.InfiniteTimeSpan;
        store.InjectFault(AppendFault.DelayBeforeWrite);
        using var cancellation = new CancellationTokenSource();

        Task append = store.AppendAsync(batches[2], cancellation.Token).AsTask();
        await WaitUntilAsync(() => store.FaultsInjected == 1, "the append is delayed");
        Assert.False(append.IsCompleted, "The delayed append completed before it was cancelled.");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => append);
        AssertBatches(batches[..2], await ReadAllAsync(store));
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches[..2]), state);
        await store.AppendAsync(batches[2]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>An append written but whose slow acknowledgement was cancelled is not reported durable; after a
    /// reopen it is there and the retry completes.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_DelayAfterWriteCancelled_NotReportedDurableAndRetryCompletes()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        store.Delay = Timeout.InfiniteTimeSpan;
        store.InjectFault(AppendFault.DelayAfterWrite);
        using var cancellation = new CancellationTokenSource();

        Task append = store.AppendAsync(batches[2], cancellation.Token).AsTask();
        await WaitUntilAsync(() => store.FaultsInjected == 1, "the inner append completed and the acknowledgement is delayed");
        Assert.False(append.IsCompleted, "The delayed append completed before it was cancelled.");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => append);
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches[..3]), state);
        await store.AppendAsync(batches[2]);
        await store.AppendAsync(batches[3]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A slow append that is not cancelled completes and is durable.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_DelayNotCancelled_AppendCompletesAndIsDurable()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        store.Delay = TimeSpan.FromMilliseconds(20);
        store.InjectFault(AppendFault.DelayBeforeWrite);
        store.InjectFault(AppendFault.None);
        store.InjectFault(AppendFault.DelayAfterWrite);

        await AppendAllAsync(store, batches);

        Assert.Equal(2, store.FaultsInjected);
        await CloseAsync(store);
        (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A run of appends where every other one fails in the wrapper (before or after the store wrote it) and
    /// is retried until it succeeds, sometimes after a reopen, ends with the exact journal: the idempotent-retry rule
    /// holds over many failures. (The engine itself does not retry: a failed append stops it.)</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task Fault_MixedFailuresWithRetries_JournalIsExact()
    {
        string location = CreateLocation();
        (FaultInjectingLedgerStore store, _) = await OpenFaultyAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(12);
        AppendFault[] pattern = [AppendFault.FailBeforeWrite, AppendFault.None, AppendFault.FailAfterWrite, AppendFault.None];
        int attempts = 0;
        int failures = 0;
        int index = 0;
        while (index < batches.Length)
        {
            // Programmed per attempt, so the pattern carries on across the reopens below (a new wrapper has no queue).
            store.InjectFault(pattern[attempts++ % pattern.Length]);
            try
            {
                await store.AppendAsync(batches[index]);
                index++;
            }
            catch (LedgerStoreException)
            {
                // Outcome unknown to the caller, but the store never failed (only the wrapper did), so retrying the identical
                // batch on it is legitimate; every third time the retry goes to a reopened store instead.
                failures++;
                if (failures % 3 == 0)
                {
                    await CloseAsync(store);
                    (store, LedgerStoreState state) = await OpenFaultyAtAsync(location);
                    Assert.True(
                        state.LastBatchNumber == (ulong)index || state.LastBatchNumber == (ulong)index + 1,
                        $"After a failed append of batch {index + 1} the store reopened at batch {state.LastBatchNumber}.");
                }
            }
        }

        Assert.True(failures > 0);
        AssertBatches(batches, await ReadAllAsync(store));
        await CloseAsync(store);
        (store, LedgerStoreState final) = await OpenFaultyAtAsync(location);
        Assert.Equal(StateAfter(batches), final);
        AssertBatches(batches, await ReadAllAsync(store));
    }
}
