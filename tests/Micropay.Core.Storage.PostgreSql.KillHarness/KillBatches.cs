using System.Buffers.Binary;
using Micropay.Core.Storage;

namespace Micropay.Core.Storage.PostgreSql.KillHarness;

/// <summary>
/// The batches the kill harness appends, a function of their number and the previous batch's hash only, so the test
/// can rebuild every batch the child acknowledged and compare it byte for byte. Every 16th batch is large (2,048 events,
/// 256 KiB), so kills also land while a large row is on its way to the server.
/// </summary>
internal static class KillBatches
{
    public static int EventCount(ulong batchNumber) => batchNumber % 16 == 0 ? 2048 : 1 + (int)(batchNumber % 5);

    public static CommitBatch Create(ulong batchNumber, BatchHash previousBatchHash)
    {
        int count = EventCount(batchNumber);
        byte[] events = new byte[count * CommitBatch.EventSize];
        for (int i = 0; i < count; i++)
        {
            Span<byte> record = events.AsSpan(i * CommitBatch.EventSize, CommitBatch.EventSize);
            BinaryPrimitives.WriteUInt64LittleEndian(record, batchNumber);
            BinaryPrimitives.WriteInt32LittleEndian(record[8..], i);
            record[12..].Fill(unchecked((byte)(batchNumber * 31 + (ulong)i)));
        }

        var header = new CommitBatchHeader(batchNumber, BatchOperation.CreateTransfers, batchNumber * 1000, count, previousBatchHash, BatchHash.Zero);
        return new CommitBatch(header, events);
    }

    public static BatchHash Hash(CommitBatch batch)
    {
        byte[] bytes = new byte[batch.EncodedLength];
        batch.Encode(bytes);
        return BatchHash.Compute(bytes);
    }
}
