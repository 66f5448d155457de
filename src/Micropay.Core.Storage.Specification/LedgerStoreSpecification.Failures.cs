using System.Buffers;
using Xunit;

namespace Micropay.Core.Storage.Specification;

// Real failures of the store's own durable write, armed through FailNextDurableWriteAsync (unlike the fault tests,
// whose wrapper fails above a store that stays healthy). The contract: the append throws LedgerStoreException; that
// instance refuses every later append, because it cannot know what its storage holds; its reads never show the failed
// batch unless it is durable; and a reopened store holds the batches before the failed one, or those and the failed
// batch, whole, and carries on from there. Each test also disposes the failed instance, which must release the
// storage for the reopen.
public abstract partial class LedgerStoreSpecification
{
    /// <summary>An append whose durable write fails inside the store throws <see cref="LedgerStoreException"/>, and a
    /// reopened store holds the batches before it, or those and the failed batch.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_DurableWriteFails_ThrowsLedgerStoreException()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);

        await AppendFailingAsync(store, batches[2]);

        await ReopenAfterFailureAsync(store, location, batches, failedIndex: 2);
    }

    /// <summary>After its durable write failed, the same instance refuses every append with
    /// <see cref="LedgerStoreException"/> (the identical retry, a different batch with that number, the next batch) and
    /// stores none of them: only reopening decides whether the failed batch is durable.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_AfterDurableWriteFailed_SameInstanceRefusesAppends()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        await AppendFailingAsync(store, batches[2]);
        CommitBatch conflicting = TestBatches.Create(3, batches[2].Header.PreviousBatchHash, batches[2].Header.EventCount, variant: 7);

        await AssertRefusedAsync(store, batches[2], "the identical retry of batch 3");
        await AssertRefusedAsync(store, conflicting, "a different batch 3");
        await AssertRefusedAsync(store, batches[3], "batch 4, chained to the failed batch 3");
        await AssertRefusedAsync(store, batches[2], "the identical retry of batch 3, asked a second time");

        await ReopenAfterFailureAsync(store, location, batches, failedIndex: 2);
    }

    /// <summary>After a failed durable write, a reopened store reports the batches before it, or those and the failed
    /// batch, whole (number, hash, bytes), and what was durable before the failure is intact: the earlier batches,
    /// read from the start or the middle, and the latest snapshot.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task OpenAsync_AfterDurableWriteFailed_ReportsTheBatchesBeforeItOrWithIt()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..3]);
        ulong snapshotBatchNumber = 0;
        if (SnapshotsExpected)
        {
            await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));
            snapshotBatchNumber = 2;
        }

        await AppendFailingAsync(store, batches[3]);
        (store, bool failedBatchDurable) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 3, snapshotBatchNumber);

        AssertBatches(failedBatchDurable ? batches[1..] : batches[1..3], await ReadAllAsync(store, 2));
        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        if (SnapshotsExpected)
        {
            Assert.NotNull(snapshot);
            Assert.Equal(2UL, snapshot.BatchNumber);
            Assert.Equal(TestBatches.SnapshotState(2), snapshot.State.ToArray());
        }
        else
        {
            Assert.Null(snapshot);
        }
    }

    /// <summary>After a failed durable write and a reopen, appending the failed batch again completes (an idempotent
    /// retry if it turned out durable, a plain append if not), the journal continues, and it survives another reopen
    /// exactly.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_AfterDurableWriteFailedAndReopen_RetryOfFailedBatchCompletesAndJournalContinues()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(5);
        await AppendAllAsync(store, batches[..2]);
        await AppendFailingAsync(store, batches[2]);
        (store, _) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 2);

        await store.AppendAsync(batches[2]);
        await AppendAllAsync(store, batches[3..]);

        AssertBatches(batches, await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>After a failed durable write and a reopen, a different batch with the failed batch's number is a
    /// conflict if the failed one turned out durable (<see cref="LedgerStoreException"/>, nothing changes), and an
    /// ordinary append if it did not (nothing left of the failed write stands in its way); either way the journal
    /// continues from the batch that is durable.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_AfterDurableWriteFailedAndReopen_DifferentBatchAcceptedOnlyIfFailedOneIsAbsent()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);
        await AppendFailingAsync(store, batches[2]);
        (store, bool failedBatchDurable) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 2);

        // More events than the failed batch: a longer record, over whatever the failed write may have left behind.
        CommitBatch other = TestBatches.Create(3, TestBatches.Hash(batches[1]), batches[2].Header.EventCount + 2, variant: 7);
        CommitBatch[] expected;
        if (failedBatchDurable)
        {
            await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(other));
            expected = batches;
        }
        else
        {
            await store.AppendAsync(other);
            expected = [.. batches[..2], other];
        }

        CommitBatch next = TestBatches.Chain(1, TestBatches.Hash(expected[2]), firstBatchNumber: 4)[0];
        await store.AppendAsync(next);
        expected = [.. expected, next];
        AssertBatches(expected, await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(expected), state);
        AssertBatches(expected, await ReadAllAsync(store));
    }

    /// <summary>Until it is reopened, a store whose durable write failed shows the failed batch to readers only if that
    /// batch is durable (the reopened store then has it): reads never report durable a batch that is not. Such a store
    /// may instead refuse reads with <see cref="LedgerStoreException"/>.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_AfterDurableWriteFailed_ShowsTheFailedBatchOnlyIfDurable()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(3);
        await AppendAllAsync(store, batches[..2]);
        await AppendFailingAsync(store, batches[2]);

        List<CommitBatch>? fromStart = await ReadUnlessRefusedAsync(store, 1);
        List<CommitBatch>? fromFailed = await ReadUnlessRefusedAsync(store, 3);
        (store, bool failedBatchDurable) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 2);

        // Not showing a batch that is durable is fine (a reader sees a prefix); showing one that is not never is.
        if (fromStart is not null)
        {
            Assert.True(
                fromStart.Count == 2 || (fromStart.Count == 3 && failedBatchDurable),
                $"Before the reopen, reads of the store whose write of batch 3 failed returned {fromStart.Count} batches; the reopened store holds {(failedBatchDurable ? 3 : 2)}.");
            AssertBatches(batches[..fromStart.Count], fromStart);
        }

        if (fromFailed is not null)
        {
            Assert.True(
                fromFailed.Count == 0 || (fromFailed.Count == 1 && failedBatchDurable),
                $"Before the reopen, reads from batch 3 of the store whose write of it failed returned {fromFailed.Count} batches, but the reopened store {(failedBatchDurable ? "holds" : "does not hold")} batch 3.");
            AssertBatches(batches[2..(2 + fromFailed.Count)], fromFailed);
        }
    }

    /// <summary>A failed durable write of the very first batch leaves a store that reopens empty or holding that batch,
    /// and the journal then starts normally.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_DurableWriteFailsOnFirstBatch_ReopenedStoreIsEmptyOrHoldsIt()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(2);

        await AppendFailingAsync(store, batches[0]);
        (store, _) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 0);

        await AppendAllAsync(store, batches);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>A failed durable write of a large batch (4096 events, 512 KiB, which a store may write in several
    /// steps) leaves it whole or absent after a reopen, never in part, and the journal continues.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_DurableWriteFailsOnLargeBatch_ReopenedStoreHoldsItWholeOrNotAtAll()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch first = TestBatches.Create(1, BatchHash.Zero, 2);
        CommitBatch large = TestBatches.Create(2, TestBatches.Hash(first), 4096);
        CommitBatch last = TestBatches.Create(3, TestBatches.Hash(large), 1);
        CommitBatch[] batches = [first, large, last];
        await store.AppendAsync(first);

        await AppendFailingAsync(store, large);
        (store, _) = await ReopenAfterFailureAsync(store, location, batches, failedIndex: 1);

        await AppendAllAsync(store, batches[1..]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Durable writes that fail again and again, each on a new instance after a reopen, each leave the journal
    /// at the batches before the failed one or with it; recovering from a failed write leaves the store able to fail,
    /// and recover, once more, and the journal ends exact.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendAsync_DurableWriteFailsRepeatedlyAcrossReopens_JournalEndsExact()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        CommitBatch[] batches = TestBatches.Chain(6);
        await store.AppendAsync(batches[0]);
        int next = 1;

        for (int round = 0; round < 3; round++)
        {
            // The first batch not yet durable: the same one again if the last failure left it out.
            await AppendFailingAsync(store, batches[next]);
            (store, bool failedBatchDurable) = await ReopenAfterFailureAsync(store, location, batches, next);
            if (failedBatchDurable)
            {
                next++;
            }
        }

        await AppendAllAsync(store, batches[next..]);
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    // Arms the adapter's failure and appends the batch, which must then throw LedgerStoreException.
    private async Task AppendFailingAsync(ILedgerStore store, CommitBatch batch)
    {
        if (!await FailNextDurableWriteAsync(store).ConfigureAwait(false))
        {
            Assert.Fail(
                $"{GetType().Name} does not implement FailNextDurableWriteAsync, which this test needs to make the store's own durable " +
                "write fail. Override it to make the next write fail inside the adapter (an I/O error, a lost connection, a failed " +
                "commit) and return true, or override this test with [Fact(Skip = \"why\")] if your store cannot fail that way.");
        }

        Exception? thrown = await Record.ExceptionAsync(async () => await store.AppendAsync(batch).ConfigureAwait(false)).ConfigureAwait(false);
        if (thrown is null)
        {
            Assert.Fail(
                $"FailNextDurableWriteAsync returned true, yet the append of batch {batch.BatchNumber} completed: the armed failure must make " +
                "that append throw LedgerStoreException (a store never acknowledges a write that failed).");
        }

        if (thrown is not LedgerStoreException)
        {
            Assert.Fail(
                $"The append of batch {batch.BatchNumber}, whose durable write failed, threw {thrown.GetType().FullName} instead of " +
                $"LedgerStoreException: {thrown.Message}");
        }
    }

    // On the instance whose write failed: the append must be refused with LedgerStoreException.
    private static async Task AssertRefusedAsync(ILedgerStore store, CommitBatch batch, string what)
    {
        Exception? thrown = await Record.ExceptionAsync(async () => await store.AppendAsync(batch).ConfigureAwait(false)).ConfigureAwait(false);
        if (thrown is not LedgerStoreException)
        {
            Assert.Fail(
                $"After its durable write failed, the store {(thrown is null ? "accepted" : $"threw {thrown.GetType().FullName} for")} {what}. " +
                "It must refuse every append with LedgerStoreException until it is disposed: it cannot know whether the failed batch is " +
                "durable, and only reopening decides.");
        }
    }

    // Reads on the instance whose write failed; null when the store refuses reads (LedgerStoreException), which it may.
    private static async Task<List<CommitBatch>?> ReadUnlessRefusedAsync(ILedgerStore store, ulong fromBatchNumber)
    {
        try
        {
            return await ReadAllAsync(store, fromBatchNumber).ConfigureAwait(false);
        }
        catch (LedgerStoreException)
        {
            return null;
        }
    }

    // Disposes the store whose append of batches[failedIndex] failed and opens a new one at its location, which must
    // report, and read back, batches[..failedIndex] or batches[..(failedIndex + 1)], whole. Returns the new store and
    // whether the failed batch turned out durable.
    private async Task<(ILedgerStore Store, bool FailedBatchDurable)> ReopenAfterFailureAsync(
        ILedgerStore store, string location, CommitBatch[] batches, int failedIndex, ulong latestSnapshotBatchNumber = 0)
    {
        (store, LedgerStoreState state) = await ReopenAsync(store, location).ConfigureAwait(false);

        // A store may report the torn tail its recovery cut (DiscardedTail); only what is durable is compared.
        LedgerStoreState durable = state with { DiscardedTail = null };
        LedgerStoreState without = StateAfter(batches[..failedIndex], latestSnapshotBatchNumber);
        LedgerStoreState with = StateAfter(batches[..(failedIndex + 1)], latestSnapshotBatchNumber);
        ulong failed = batches[failedIndex].BatchNumber;
        Assert.True(
            durable == without || durable == with,
            $"After the durable write of batch {failed} failed, the reopened store reports {durable}; it must report {without} " +
            $"(batch {failed} is not durable) or {with} (it is), and nothing else.");
        bool failedBatchDurable = durable == with;
        AssertBatches(batches[..(failedBatchDurable ? failedIndex + 1 : failedIndex)], await ReadAllAsync(store).ConfigureAwait(false));
        return (store, failedBatchDurable);
    }
}
