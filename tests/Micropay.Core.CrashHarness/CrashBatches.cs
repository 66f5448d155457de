using System.Buffers.Binary;
using Micropay.Core.Storage;

namespace Micropay.Core.CrashHarness;

/// <summary>
/// The batches the crash harness appends, derived from the batch number alone, so the test that kills the harness
/// can rebuild each one and check what survived byte for byte. Compiled into both the harness and the tests.
/// </summary>
internal static class CrashBatches
{
    /// <summary>Events in batch <paramref name="batchNumber"/>: 1 to 4.</summary>
    // Every 16th batch is large (600 events, 76.8 KB), so the store's large-batch path (payload written before its
    // frame, chain hash computed on another core) is crashed into as well as the small-batch one.
    public const int LargeEventCount = 600;

    public static int EventCount(ulong batchNumber) => batchNumber % 16 == 0 ? LargeEventCount : (int)(batchNumber % 4) + 1;

    /// <summary>Builds batch <paramref name="batchNumber"/>, chained to <paramref name="previousHash"/>.</summary>
    public static CommitBatch Create(ulong batchNumber, BatchHash previousHash)
    {
        int count = EventCount(batchNumber);
        byte[] events = new byte[count * CommitBatch.EventSize];
        FillEvents(batchNumber, events);
        var header = new CommitBatchHeader(batchNumber, BatchOperation.CreateTransfers, batchNumber * 1000, count, previousHash, BatchHash.Zero);
        return new CommitBatch(header, events);
    }

    /// <summary>Fills the event bytes of batch <paramref name="batchNumber"/> with a pattern unique to it.</summary>
    public static void FillEvents(ulong batchNumber, Span<byte> events)
    {
        for (int i = 0; i + sizeof(ulong) <= events.Length; i += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(events[i..], unchecked(batchNumber * 0x9E37_79B9_7F4A_7C15UL) ^ (ulong)i);
        }
    }

    /// <summary>The encoded bytes and hash of <paramref name="batch"/>.</summary>
    public static BatchHash Hash(in CommitBatch batch)
    {
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        return BatchHash.Compute(encoded);
    }
}
