using Xunit;

namespace Micropay.Core.Storage.Specification;

// The encoded append (IEncodedBatchAppender), for a store that reports LedgerStoreCapabilities.EncodedAppend.
public abstract partial class LedgerStoreSpecification
{
    private bool EncodedAppendExpected => (ExpectedCapabilities & LedgerStoreCapabilities.EncodedAppend) != 0;

    /// <summary>
    /// Through <see cref="IEncodedBatchAppender.AppendEncoded"/>, mixed with <see cref="ILedgerStore.AppendAsync"/>, a
    /// small and a large batch are appended durably: each call returns the batch's chain hash, runs the overlap once on
    /// the calling thread, leaves the encoded batch unchanged, does not depend on what the prefix held, and the journal
    /// reads back (and reopens) exactly as if every batch had been appended with <see cref="ILedgerStore.AppendAsync"/>.
    /// (A store that does not report the capability has nothing to check here.)
    /// </summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendEncoded_MixedWithAppendAsync_ReturnsChainHashesAndReadsBackAsAppended()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        if (!EncodedAppendExpected)
        {
            return;
        }

        // 1,000 events (128 KB) is above the sizes where a store might write or hash differently.
        int[] eventCounts = [2, 1, 1000, 3, 0, 7];
        bool[] encoded = [false, true, true, false, true, true];
        var batches = new CommitBatch[eventCounts.Length];
        BatchHash previous = BatchHash.Zero;
        for (int i = 0; i < batches.Length; i++)
        {
            batches[i] = TestBatches.Create((ulong)(i + 1), previous, eventCounts[i]);
            previous = TestBatches.Hash(batches[i]);
        }

        for (int i = 0; i < batches.Length; i++)
        {
            if (encoded[i])
            {
                var overlap = new CountingOverlap();
                Assert.Equal(TestBatches.Hash(batches[i]), AppendEncoded(store, batches[i], overlap));
                Assert.Equal(1, overlap.Calls);
                Assert.Equal(Environment.CurrentManagedThreadId, overlap.ThreadId);
            }
            else
            {
                await store.AppendAsync(batches[i]);
            }
        }

        AssertBatches(batches, await ReadAllAsync(store));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches), state);
        AssertBatches(batches, await ReadAllAsync(store));
    }

    /// <summary>
    /// A batch that does not follow the journal's last one (a gap, a wrong previous hash, or the number of a durable
    /// batch: the encoded append has no retries) is a bug in the caller: <see cref="IEncodedBatchAppender.AppendEncoded"/>
    /// throws <see cref="InvalidOperationException"/>, writes nothing, and the store goes on with the right batch.
    /// (A store that does not report the capability has nothing to check here.)
    /// </summary>
    /// <returns>The test.</returns>
    [Fact]
    public virtual async Task AppendEncoded_BatchDoesNotFollow_ThrowsInvalidOperationExceptionAndWritesNothing()
    {
        string location = CreateLocation();
        (ILedgerStore store, _) = await OpenAtAsync(location);
        if (!EncodedAppendExpected)
        {
            return;
        }

        CommitBatch[] batches = TestBatches.Chain(4);
        await AppendAllAsync(store, batches[..2]);
        CommitBatch[] wrong =
        [
            batches[3],
            TestBatches.Create(3, TestBatches.Hash(batches[0]), 2),
            batches[1],
        ];
        foreach (CommitBatch batch in wrong)
        {
            Assert.Throws<InvalidOperationException>(() => AppendEncoded(store, batch, overlap: null));
        }

        AssertBatches(batches[..2], await ReadAllAsync(store));
        Assert.Equal(TestBatches.Hash(batches[2]), AppendEncoded(store, batches[2], overlap: null));
        (store, LedgerStoreState state) = await ReopenAsync(store, location);
        Assert.Equal(StateAfter(batches[..3]), state);
        AssertBatches(batches[..3], await ReadAllAsync(store));
    }

    // Appends through the store's encoded path, from a buffer whose prefix and tail hold junk the store must not depend on;
    // the encoded batch itself must come back unchanged.
    private static BatchHash AppendEncoded(ILedgerStore store, CommitBatch batch, IAppendOverlap? overlap)
    {
        IEncodedBatchAppender appender = Assert.IsAssignableFrom<IEncodedBatchAppender>(store);
        int prefix = appender.RecordPrefixSize;
        Assert.InRange(prefix, 0, 4096);
        byte[] record = new byte[prefix + batch.EncodedLength + 13];
        record.AsSpan().Fill(0xA5);
        byte[] encoded = TestBatches.Encode(batch);
        encoded.CopyTo(record, prefix);
        BatchHash hash = appender.AppendEncoded(batch.Header, record, encoded.Length, overlap);
        Assert.True(record.AsSpan(prefix, encoded.Length).SequenceEqual(encoded), $"AppendEncoded changed the encoded batch {batch.BatchNumber}.");
        return hash;
    }

    // Counts the calls the store makes and notes the thread of the last one.
    private sealed class CountingOverlap : IAppendOverlap
    {
        public int Calls { get; private set; }

        public int ThreadId { get; private set; }

        public void WhileWriting()
        {
            Calls++;
            ThreadId = Environment.CurrentManagedThreadId;
        }
    }
}
