using System.Buffers;
using System.Buffers.Binary;

namespace Micropay.Core.Storage.Specification;

/// <summary>
/// Builds valid, correctly chained <see cref="CommitBatch"/> values with deterministic contents, for the kit's
/// tests and for an adapter's own tests: batch N is always the same bytes for the same arguments, so a test can
/// rebuild what it expects to read back.
/// </summary>
/// <remarks>
/// <para>Event record <c>i</c> of batch <c>N</c> starts with <c>N</c> (8 bytes, little-endian) and <c>i</c>
/// (4 bytes) and the variant (4 bytes), then 112 pseudo-random bytes derived from all three; a store that mixes up
/// batches, events or offsets returns visibly wrong bytes.</para>
/// <para>Batch 1 is <see cref="BatchOperation.CreateAccounts"/>, later ones <see cref="BatchOperation.CreateTransfers"/>;
/// the timestamp is <c>N * 1000 + variant</c>.</para>
/// </remarks>
public static class TestBatches
{
    /// <summary>The number of events <see cref="Chain(int)"/> puts in batch N: <c>1 + N % 3</c>.</summary>
    /// <param name="batchNumber">The batch number.</param>
    /// <returns>1, 2 or 3.</returns>
    public static int DefaultEventCount(ulong batchNumber) => 1 + (int)(batchNumber % 3);

    /// <summary>Creates batch <paramref name="batchNumber"/> chained to <paramref name="previousBatchHash"/>.</summary>
    /// <param name="batchNumber">The batch number (1 or more).</param>
    /// <param name="previousBatchHash">The hash of the batch before (<see cref="BatchHash.Zero"/> for batch 1).</param>
    /// <param name="eventCount">How many 128-byte events; 0 is allowed.</param>
    /// <param name="variant">0 for the canonical contents; any other value changes the events and the timestamp, to
    /// make a batch with the same number but different bytes.</param>
    /// <returns>The batch; its events are a new array owned by the caller.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchNumber"/> is 0 or <paramref name="eventCount"/> is out of range.</exception>
    public static CommitBatch Create(ulong batchNumber, BatchHash previousBatchHash, int eventCount, int variant = 0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(batchNumber);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(eventCount, CommitBatch.MaxEventCount);
        var header = new CommitBatchHeader(
            batchNumber,
            batchNumber == 1 ? BatchOperation.CreateAccounts : BatchOperation.CreateTransfers,
            unchecked((batchNumber * 1000) + (ulong)(uint)variant),
            eventCount,
            previousBatchHash,
            BatchHash.Zero);
        return new CommitBatch(header, CreateEvents(batchNumber, eventCount, variant));
    }

    /// <summary>Creates batches 1 to <paramref name="count"/>, each chained to the one before, with
    /// <see cref="DefaultEventCount"/> events each.</summary>
    /// <param name="count">How many batches (0 or more).</param>
    /// <returns>The batches, index 0 being batch 1.</returns>
    public static CommitBatch[] Chain(int count) => Chain(count, BatchHash.Zero, firstBatchNumber: 1);

    /// <summary>Creates batches 1 to <paramref name="count"/>, each chained to the one before, with
    /// <paramref name="eventCount"/> events each (to fill segments or pages of a known size).</summary>
    /// <param name="count">How many batches (0 or more).</param>
    /// <param name="eventCount">How many events each batch holds (0 or more).</param>
    /// <returns>The batches, index 0 being batch 1.</returns>
    public static CommitBatch[] Chain(int count, int eventCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var batches = new CommitBatch[count];
        BatchHash previous = BatchHash.Zero;
        for (int i = 0; i < count; i++)
        {
            batches[i] = Create((ulong)i + 1, previous, eventCount);
            previous = Hash(batches[i]);
        }

        return batches;
    }

    /// <summary>Creates <paramref name="count"/> chained batches that continue a journal: the first is
    /// <paramref name="firstBatchNumber"/>, chained to <paramref name="previousBatchHash"/>.</summary>
    /// <param name="count">How many batches (0 or more).</param>
    /// <param name="previousBatchHash">The hash of the last batch already stored (e.g. <see cref="LedgerStoreState.LastBatchHash"/>).</param>
    /// <param name="firstBatchNumber">The number of the first batch to create (e.g. <c>LastBatchNumber + 1</c>).</param>
    /// <returns>The batches in order.</returns>
    public static CommitBatch[] Chain(int count, BatchHash previousBatchHash, ulong firstBatchNumber)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var batches = new CommitBatch[count];
        BatchHash previous = previousBatchHash;
        for (int i = 0; i < count; i++)
        {
            ulong number = firstBatchNumber + (ulong)i;
            batches[i] = Create(number, previous, DefaultEventCount(number));
            previous = Hash(batches[i]);
        }

        return batches;
    }

    /// <summary>The batch's encoded bytes (header and events).</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>A new array of <see cref="CommitBatch.EncodedLength"/> bytes.</returns>
    public static byte[] Encode(CommitBatch batch)
    {
        var bytes = new byte[batch.EncodedLength];
        batch.Encode(bytes);
        return bytes;
    }

    /// <summary>The batch's hash: what the next batch must carry as its previous batch hash.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>SHA-256 of the encoded batch.</returns>
    public static BatchHash Hash(CommitBatch batch) => BatchHash.Compute(Encode(batch));

    /// <summary>Deterministic snapshot bytes for a batch number, to write and check snapshots with.</summary>
    /// <param name="batchNumber">The snapshot's batch number.</param>
    /// <param name="length">How many bytes.</param>
    /// <returns>A new array; the first 8 bytes are <paramref name="batchNumber"/> when there is room.</returns>
    public static byte[] SnapshotState(ulong batchNumber, int length = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var state = new byte[length];
        Fill(state, batchNumber ^ 0x5EED_5EED_5EED_5EEDUL);
        if (length >= sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(state, batchNumber);
        }

        return state;
    }

    /// <summary>
    /// The bytes of <paramref name="state"/> as a sequence of uneven segments: 1 byte, an empty segment, then 4,095 and
    /// 65,537 bytes in turn until the end. A store must take a state in any segments, and neither a segment's size nor its
    /// boundaries (which cut through anything) may matter to it.
    /// </summary>
    /// <param name="state">The bytes; the segments are slices of it, not copies.</param>
    /// <returns>The sequence; a single segment only when <paramref name="state"/> is at most 1 byte long.</returns>
    public static ReadOnlySequence<byte> InSegments(ReadOnlyMemory<byte> state)
    {
        var parts = new List<ReadOnlyMemory<byte>>();
        int offset = Math.Min(1, state.Length);
        parts.Add(state[..offset]);
        parts.Add(ReadOnlyMemory<byte>.Empty);
        for (int i = 0; offset < state.Length; i++)
        {
            int length = Math.Min(i % 2 == 0 ? 4095 : 65_537, state.Length - offset);
            parts.Add(state.Slice(offset, length));
            offset += length;
        }

        if (parts.Count == 2)
        {
            return new ReadOnlySequence<byte>(state);
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static byte[] CreateEvents(ulong batchNumber, int eventCount, int variant)
    {
        var events = new byte[eventCount * CommitBatch.EventSize];
        for (int i = 0; i < eventCount; i++)
        {
            Span<byte> record = events.AsSpan(i * CommitBatch.EventSize, CommitBatch.EventSize);
            BinaryPrimitives.WriteUInt64LittleEndian(record, batchNumber);
            BinaryPrimitives.WriteInt32LittleEndian(record[8..], i);
            BinaryPrimitives.WriteInt32LittleEndian(record[12..], variant);
            Fill(record[16..], unchecked((batchNumber * 0x9E37_79B9_7F4A_7C15UL) ^ ((ulong)(uint)i << 32) ^ (uint)variant));
        }

        return events;
    }

    // SplitMix64: cheap, deterministic and well spread, so neighbouring records and batches differ in every byte.
    private static void Fill(Span<byte> destination, ulong seed)
    {
        ulong state = seed;
        Span<byte> word = stackalloc byte[sizeof(ulong)];
        for (int offset = 0; offset < destination.Length; offset += sizeof(ulong))
        {
            ulong z = unchecked(state += 0x9E37_79B9_7F4A_7C15UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL);
            z ^= z >> 31;
            BinaryPrimitives.WriteUInt64LittleEndian(word, z);
            int take = Math.Min(sizeof(ulong), destination.Length - offset);
            word[..take].CopyTo(destination[offset..]);
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
