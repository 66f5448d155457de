using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests.Specification;

public sealed class TestBatchesTests
{
    [Fact]
    public void Chain_Batches_AreNumberedChainedAndWellFormed()
    {
        CommitBatch[] batches = TestBatches.Chain(5);

        BatchHash previous = BatchHash.Zero;
        for (int i = 0; i < batches.Length; i++)
        {
            Assert.Equal((ulong)i + 1, batches[i].BatchNumber);
            Assert.Equal(previous, batches[i].Header.PreviousBatchHash);
            Assert.Equal(TestBatches.DefaultEventCount(batches[i].BatchNumber), batches[i].Header.EventCount);
            Assert.Equal(CommitBatchParseResult.Ok, CommitBatch.TryParse(TestBatches.Encode(batches[i]), out CommitBatch parsed));
            Assert.Equal(batches[i].Header, parsed.Header);
            previous = TestBatches.Hash(batches[i]);
        }
    }

    [Fact]
    public void Chain_ContinuingFromAState_ChainsToIt()
    {
        CommitBatch[] first = TestBatches.Chain(3);

        CommitBatch[] more = TestBatches.Chain(2, TestBatches.Hash(first[2]), 4);

        Assert.Equal(TestBatches.Chain(5).Select(TestBatches.Encode), first.Concat(more).Select(TestBatches.Encode));
    }

    [Fact]
    public void Create_SameArguments_SameBytes()
    {
        Assert.Equal(
            TestBatches.Encode(TestBatches.Create(7, BatchHash.Zero, 3)),
            TestBatches.Encode(TestBatches.Create(7, BatchHash.Zero, 3)));
    }

    [Fact]
    public void Create_OtherVariant_DifferentEventsAndTimestamp()
    {
        CommitBatch canonical = TestBatches.Create(7, BatchHash.Zero, 3);
        CommitBatch variant = TestBatches.Create(7, BatchHash.Zero, 3, variant: 1);

        Assert.NotEqual(canonical.Header.Timestamp, variant.Header.Timestamp);
        Assert.False(canonical.Events.Span.SequenceEqual(variant.Events.Span));
    }

    [Fact]
    public void Create_EventsOfOneBatch_AllDiffer()
    {
        CommitBatch batch = TestBatches.Create(3, BatchHash.Zero, 4);

        var events = Enumerable.Range(0, 4).Select(i => Convert.ToHexString(batch.Events.Span.Slice(i * CommitBatch.EventSize, CommitBatch.EventSize))).ToList();
        Assert.Equal(4, events.Distinct().Count());
    }

    [Fact]
    public void SnapshotState_SameArguments_SameBytesStartingWithBatchNumber()
    {
        byte[] state = TestBatches.SnapshotState(42, 100);

        Assert.Equal(state, TestBatches.SnapshotState(42, 100));
        Assert.Equal(42UL, BitConverter.ToUInt64(state, 0));
        Assert.Equal(100, state.Length);
    }
}
