using System.Buffers;
using Xunit;

namespace Micropay.Core.Storage.Specification;

// Readers running while an appender appends (the one concurrency the contract allows).
public abstract partial class LedgerStoreSpecification
{
    /// <summary>Readers running during appends only ever see whole, in-order, correctly chained batches, a prefix of
    /// the journal that includes every batch acknowledged before the read started.</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadBatchesAsync_DuringAppends_SeesWholeChainedPrefixes()
    {
        const int BatchCount = 120;
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        CommitBatch[] batches = TestBatches.Chain(BatchCount);
        byte[][] encoded = [.. batches.Select(TestBatches.Encode)];
        int acknowledged = 0;
        int appending = 1;

        Task appender = Task.Run(async () =>
        {
            try
            {
                foreach (CommitBatch batch in batches)
                {
                    await store.AppendAsync(batch).ConfigureAwait(false);
                    Volatile.Write(ref acknowledged, (int)batch.BatchNumber);
                }
            }
            finally
            {
                Volatile.Write(ref appending, 0);
            }
        });

        async Task<int> ReadRepeatedlyAsync(int reader)
        {
            int reads = 0;
            int highestSeen = 0;
            bool last = false;
            while (!last)
            {
                // One more read after the appender finished, so every reader also sees the complete journal.
                last = Volatile.Read(ref appending) == 0;
                int mustSee = Volatile.Read(ref acknowledged);
                ulong from = reader == 0 ? 1 : (ulong)((reads % Math.Max(mustSee, 1)) + 1);
                ulong expectedNumber = from;
                await foreach (CommitBatch batch in store.ReadBatchesAsync(from).ConfigureAwait(false))
                {
                    Assert.Equal(expectedNumber, batch.BatchNumber);
                    Assert.True(batch.BatchNumber <= BatchCount, $"Read batch {batch.BatchNumber}, which was never appended.");
                    Assert.True(
                        encoded[(int)(batch.BatchNumber - 1)].AsSpan().SequenceEqual(TestBatches.Encode(batch)),
                        $"Batch {batch.BatchNumber} read during appends differs from the batch appended.");
                    expectedNumber++;
                }

                int end = (int)(expectedNumber - 1);
                Assert.True(
                    end >= mustSee || (ulong)mustSee < from,
                    $"A read from batch {from} ended at {end}, though batch {mustSee} was acknowledged before it started.");
                if (from == 1)
                {
                    Assert.True(end >= highestSeen, $"A later read from batch 1 saw fewer batches ({end}) than an earlier one ({highestSeen}).");
                    highestSeen = end;
                }

                reads++;
            }

            return highestSeen;
        }

        Task<int>[] readers = [.. Enumerable.Range(0, 3).Select(reader => Task.Run(() => ReadRepeatedlyAsync(reader)))];
        await appender;
        int[] seen = await Task.WhenAll(readers);

        Assert.Equal(BatchCount, seen[0]);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>Readers of the latest snapshot during snapshot writes see whole snapshots, never going backwards
    /// (without the capability, every write throws <see cref="NotSupportedException"/> and readers always see
    /// null).</summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task ReadLatestSnapshotAsync_DuringSnapshotWrites_SeesWholeSnapshots()
    {
        const int BatchCount = 30;
        (ILedgerStore store, _) = await OpenAtAsync(CreateLocation());
        await AppendAllAsync(store, TestBatches.Chain(BatchCount));
        int writing = 1;

        Task writer = Task.Run(async () =>
        {
            try
            {
                for (ulong number = 1; number <= BatchCount; number++)
                {
                    byte[] state = TestBatches.SnapshotState(number, 2048 + (int)number);
                    if (SnapshotsExpected)
                    {
                        await store.WriteSnapshotAsync(number, state).ConfigureAwait(false);
                    }
                    else
                    {
                        await AssertSnapshotWriteNotSupportedAsync(store, number, state).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref writing, 0);
            }
        });

        async Task<ulong> ReadRepeatedlyAsync()
        {
            ulong highest = 0;
            bool last = false;
            while (!last)
            {
                last = Volatile.Read(ref writing) == 0;
                using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync().ConfigureAwait(false);
                if (snapshot is { } found)
                {
                    Assert.True(SnapshotsExpected, $"A store without snapshots returned a snapshot of batch {found.BatchNumber}.");
                    Assert.True(found.BatchNumber >= highest, $"The latest snapshot went back from {highest} to {found.BatchNumber}.");
                    Assert.True(
                        TestBatches.SnapshotState(found.BatchNumber, 2048 + (int)found.BatchNumber).AsSpan().SequenceEqual(found.State.ToArray()),
                        $"Snapshot {found.BatchNumber} read during writes differs from the snapshot written.");
                    highest = found.BatchNumber;
                }
            }

            return highest;
        }

        Task<ulong>[] readers = [.. Enumerable.Range(0, 2).Select(_ => Task.Run(ReadRepeatedlyAsync))];
        await writer;
        ulong[] seen = await Task.WhenAll(readers);

        Assert.All(seen, highest => Assert.Equal(SnapshotsExpected ? BatchCount : 0UL, highest));
    }
}
