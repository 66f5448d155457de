using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// The engine's fast path into the file store (<see cref="IEncodedBatchAppender"/>): the same journal as
/// <see cref="ILedgerStore.AppendAsync"/>, the same chain hash, the overlapped work run before the batch is durable, and
/// a failure of that work refusing further appends without losing what was durable.
/// </summary>
public sealed class FileLedgerStoreEncodedAppendTests : FileStoreTestKit
{
    // 1 event is below the store's parallel-hash threshold (64 KiB), 1,000 events (128 KB) above it: both write paths.
    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    public async Task AppendEncoded_ReturnsTheChainHashAndReadsBackAsAppendAsyncWould(int eventCount)
    {
        CommitBatch[] batches = TestBatches.Chain(4, eventCount);
        string fast = Path.Combine(Directory, "fast");
        string plain = Path.Combine(Directory, "plain");
        await using (FileLedgerStore store = await OpenAsync(SmallSegments(300_000), fast))
        {
            foreach (CommitBatch batch in batches)
            {
                BatchHash hash = AppendEncoded(store, batch, overlap: null);
                Assert.Equal(TestBatches.Hash(batch), hash);
            }
        }

        await using (FileLedgerStore store = await OpenAsync(SmallSegments(300_000), plain))
        {
            foreach (CommitBatch batch in batches)
            {
                await store.AppendAsync(batch);
            }
        }

        await using FileLedgerStore reopenedFast = await OpenAsync(SmallSegments(300_000), fast);
        await using FileLedgerStore reopenedPlain = await OpenAsync(SmallSegments(300_000), plain);
        List<CommitBatch> readFast = await ReadAllAsync(reopenedFast);
        List<CommitBatch> readPlain = await ReadAllAsync(reopenedPlain);
        Assert.Equal(batches.Length, readFast.Count);
        for (int i = 0; i < batches.Length; i++)
        {
            Assert.Equal(batches[i].Header, readFast[i].Header);
            Assert.True(batches[i].Events.Span.SequenceEqual(readFast[i].Events.Span), $"batch {i + 1}'s events differ");
            Assert.Equal(readPlain[i].Header, readFast[i].Header);
            Assert.True(readPlain[i].Events.Span.SequenceEqual(readFast[i].Events.Span));
        }

        // A later AppendAsync continues the chain the fast path left.
        CommitBatch next = TestBatches.Create(5, TestBatches.Hash(batches[^1]), eventCount);
        await reopenedFast.AppendAsync(next);
        Assert.Equal(5UL, reopenedFast.LastDurableBatchNumber);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    public async Task AppendEncoded_RunsTheOverlapBeforeTheBatchIsDurable(int eventCount)
    {
        CommitBatch[] batches = TestBatches.Chain(3, eventCount);
        await using FileLedgerStore store = await OpenAsync();
        var seen = new List<ulong>();
        var overlap = new RecordingOverlap(() => seen.Add(store.LastDurableBatchNumber));
        foreach (CommitBatch batch in batches)
        {
            AppendEncoded(store, batch, overlap);
        }

        // During batch n's overlap the journal's last durable batch is still n - 1.
        Assert.Equal([0UL, 1UL, 2UL], seen);
        Assert.Equal(3UL, store.LastDurableBatchNumber);
    }

    [Fact]
    public async Task AppendEncoded_OverlapThrows_RefusesLaterAppendsAndReopenKeepsOnlyDurableBatches()
    {
        CommitBatch[] batches = TestBatches.Chain(3, 1_000);
        await using (FileLedgerStore store = await OpenAsync())
        {
            AppendEncoded(store, batches[0], overlap: null);
            var failing = new RecordingOverlap(() => throw new InvalidOperationException("overlap failed"));
            InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => AppendEncoded(store, batches[1], failing));
            Assert.Equal("overlap failed", thrown.Message);
            Assert.Equal(1UL, store.LastDurableBatchNumber);
            LedgerStoreException refused = Assert.Throws<LedgerStoreException>(() => AppendEncoded(store, batches[1], overlap: null));
            Assert.Contains("open it again", refused.Message, StringComparison.Ordinal);
        }

        // Batch 2 was written but not fsynced when the overlap failed. The store cut the segment back to batch 1's end
        // before refusing, so the reopened store does not find batch 2 in the page cache and report it as durable.
        await using FileLedgerStore reopened = await OpenAsync();
        Assert.Equal(1UL, reopened.LastDurableBatchNumber);
        AppendEncoded(reopened, batches[1], overlap: null);
        AppendEncoded(reopened, batches[2], overlap: null);

        await AssertReadsBackAsync(reopened, batches);
    }

    [Fact]
    public async Task AppendEncoded_BatchThatDoesNotFollowTheJournal_ThrowsAndAppendsNothing()
    {
        CommitBatch[] batches = TestBatches.Chain(2, 1);
        await using FileLedgerStore store = await OpenAsync();
        InvalidOperationException gap = Assert.Throws<InvalidOperationException>(() => AppendEncoded(store, batches[1], overlap: null));
        Assert.Contains("does not follow batch 0", gap.Message, StringComparison.Ordinal);

        CommitBatch wrongChain = TestBatches.Create(1, TestBatches.Hash(batches[1]), 1);
        Assert.Throws<InvalidOperationException>(() => AppendEncoded(store, wrongChain, overlap: null));
        Assert.Equal(0UL, store.LastDurableBatchNumber);

        // Nothing was written, and the store still takes the right batch.
        AppendEncoded(store, batches[0], overlap: null);
        AppendEncoded(store, batches[1], overlap: null);
        await AssertReadsBackAsync(store, batches);
    }

    /// <summary>Lays the batch out as the engine does (frame room, then the encoded batch) and appends it by the fast path.</summary>
    private static BatchHash AppendEncoded(FileLedgerStore store, CommitBatch batch, IAppendOverlap? overlap)
    {
        IEncodedBatchAppender appender = store;
        byte[] record = new byte[appender.RecordPrefixSize + batch.EncodedLength + 64];
        Random.Shared.NextBytes(record);
        batch.Encode(record.AsSpan(appender.RecordPrefixSize, batch.EncodedLength));
        return appender.AppendEncoded(batch.Header, record, batch.EncodedLength, overlap);
    }

    private static async Task<List<CommitBatch>> ReadAllAsync(ILedgerStore store)
    {
        var batches = new List<CommitBatch>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            batches.Add(new CommitBatch(batch.Header, batch.Events.ToArray()));
        }

        return batches;
    }

    private sealed class RecordingOverlap(Action whileWriting) : IAppendOverlap
    {
        public void WhileWriting() => whileWriting();
    }
}
