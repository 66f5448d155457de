using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Storage;

/// <summary>
/// The data behind one or more <see cref="InMemoryLedgerStore"/> instances: the journal of batches and the latest
/// snapshot. It outlives the stores that use it, so a test can dispose a store and open a new one over the same
/// backing to "reopen" it and see everything that was acknowledged.
/// </summary>
/// <remarks>
/// <para>"Durable" for an in-memory store means "in the backing": the data survives disposing a store, not the
/// process. Use <see cref="FileLedgerStore"/> when the journal must survive a crash.</para>
/// <para>Thread-safe: appends and snapshot writes are serialized by a lock; readers take no lock.</para>
/// </remarks>
internal sealed class InMemoryLedgerStoreBacking
{
    // Invariants, memory ordering and linearization point (readers are lock-free, writers hold _appendLock):
    // - Entries [0, _count) of _entries are written once, before _count covers them, and never change again; a
    //   grown _entries array holds copies of all of them before it is published.
    // - Bytes a published entry points at (in a chunk) are written once, before the entry is published, and never
    //   change again. New batches go after the used part of the current chunk or into a new chunk, never over
    //   published bytes.
    // - The writer publishes with Volatile.Write, entries array first, then _count. A reader reads _count with
    //   Volatile.Read first, then _entries; so every entry below the count it read is initialised in the array it
    //   read. The linearization point of an append is the Volatile.Write of _count.
    // - A snapshot is an immutable object published with one Volatile.Write of _snapshot (its linearization point).

    // Chunks start small (tests make many tiny stores) and double up to MaxChunkSize, so steady-state appends
    // allocate one chunk per several thousand events, not one object per batch.
    private const int InitialChunkSize = 16 * 1024;
    private const int MaxChunkSize = 4 * 1024 * 1024;
    private const int InitialEntryCapacity = 64;

    // Serializes writers (appends, snapshot writes) and OpenAsync's read of the state.
    private readonly Lock _appendLock = new();

    // Written under _appendLock, published with Volatile.Write; read lock-free by readers (see invariants).
    private Entry[] _entries = new Entry[InitialEntryCapacity];

    // The number of durable batches; written under _appendLock with Volatile.Write, read with Volatile.Read.
    private int _count;

    // The chunk new batches are copied into, and how much of it is used. Protected by _appendLock.
    private byte[] _chunk = new byte[InitialChunkSize];
    private int _chunkUsed;

    // SHA-256 of the last durable batch (zero when empty). Protected by _appendLock.
    private BatchHash _lastHash;

    // The latest snapshot (null when none). Written under _appendLock with Volatile.Write, read lock-free.
    private SnapshotRecord? _snapshot;

    /// <summary>Creates an empty backing: no batches, no snapshot.</summary>
    public InMemoryLedgerStoreBacking()
    {
    }

    internal LedgerStoreState GetState()
    {
        lock (_appendLock)
        {
            return new LedgerStoreState((ulong)_count, _lastHash, _snapshot?.BatchNumber ?? 0);
        }
    }

    /// <summary>Appends a batch, or accepts the identical retry of a stored one. Allocates nothing unless a chunk
    /// or the entry array is full.</summary>
    internal void Append(in CommitBatch batch, string paramName)
    {
        ulong number = batch.BatchNumber;
        int length = batch.EncodedLength;
        lock (_appendLock)
        {
            ulong count = (ulong)_count;
            if (number == 0)
            {
                ThrowArgumentException("Batch numbers start at 1; batch 0 is not a valid batch.", paramName);
            }

            if (number <= count)
            {
                // The retry of an append whose outcome the caller did not learn: fine if identical.
                if (!IsIdenticalToStored(in _entries[(int)(number - 1)], in batch))
                {
                    ThrowLedgerStoreException_RetryDiffers(number);
                }

                return;
            }

            if (number != count + 1)
            {
                ThrowArgumentException_Gap(number, count, paramName);
            }

            if (batch.Header.PreviousBatchHash != _lastHash)
            {
                ThrowArgumentException_ChainBroken(number, paramName);
            }

            if (_count == Array.MaxLength)
            {
                ThrowLedgerStoreException_Full();
            }

            if (_chunk.Length - _chunkUsed < length)
            {
                // Old chunks stay referenced by their entries; only the unused tail of the old one is wasted.
                int size = Math.Min(Math.Max(_chunk.Length * 2, InitialChunkSize), MaxChunkSize);
                _chunk = new byte[Math.Max(size, length)];
                _chunkUsed = 0;
            }

            Span<byte> destination = _chunk.AsSpan(_chunkUsed, length);
            batch.Encode(destination);
            var entry = new Entry(batch.Header, _chunk, _chunkUsed, length);
            _chunkUsed += length;
            _lastHash = BatchHash.Compute(destination);

            Entry[] entries = _entries;
            if (_count == entries.Length)
            {
                var grown = new Entry[Math.Min(entries.Length * 2L, Array.MaxLength)];
                Array.Copy(entries, grown, _count);
                entries = grown;
            }

            entries[_count] = entry;
            Volatile.Write(ref _entries, entries);
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>The batches durable now: a prefix that never changes, safe to read without a lock.</summary>
    internal JournalView GetJournal()
    {
        // Count first, then the array (see the invariants).
        int count = Volatile.Read(ref _count);
        Entry[] entries = Volatile.Read(ref _entries);
        return new JournalView(entries, count);
    }

    internal ulong LastBatchNumber => (ulong)Volatile.Read(ref _count);

    internal void WriteSnapshot(ulong batchNumber, ReadOnlySequence<byte> state, int segmentBytes, string paramName)
    {
        // Copied outside the lock: the copy is the only allocation and needs no protection. In arrays of at most
        // segmentBytes, so that no length is too large for the copy (one array ends at about 2 GiB).
        var parts = new List<ReadOnlyMemory<byte>>();
        for (long offset = 0; offset < state.Length; offset += segmentBytes)
        {
            byte[] part = GC.AllocateUninitializedArray<byte>((int)Math.Min(segmentBytes, state.Length - offset));
            state.Slice(offset, part.Length).CopyTo(part);
            parts.Add(part);
        }

        ReadOnlySequence<byte> copy = Sequences.Join(parts);
        lock (_appendLock)
        {
            if (batchNumber == 0 || batchNumber > (ulong)_count)
            {
                ThrowArgumentOutOfRangeException_SnapshotNotDurable(batchNumber, _count, paramName);
            }

            // The newest snapshot wins, unless it is older than the one kept (a late writer must not roll it back).
            SnapshotRecord? current = _snapshot;
            if (current is null || batchNumber >= current.BatchNumber)
            {
                Volatile.Write(ref _snapshot, new SnapshotRecord(batchNumber, copy));
            }
        }
    }

    internal LedgerSnapshot? ReadLatestSnapshot()
    {
        // A new owner-less snapshot per read over the shared, immutable copy: each caller disposes its own.
        SnapshotRecord? snapshot = Volatile.Read(ref _snapshot);
        return snapshot is null ? null : new LedgerSnapshot(snapshot.BatchNumber, snapshot.State);
    }

    private static bool IsIdenticalToStored(in Entry stored, in CommitBatch batch)
    {
        // Header field equality is encoded-bytes equality: the encoding is field by field with zeroed reserved bytes.
        return stored.Header == batch.Header &&
            stored.Chunk.AsSpan(stored.Offset + CommitBatchHeader.Size, stored.Length - CommitBatchHeader.Size)
                .SequenceEqual(batch.Events.Span);
    }

    [DoesNotReturn]
    private static void ThrowArgumentException(string message, string paramName) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    private static void ThrowArgumentOutOfRangeException_SnapshotNotDurable(ulong batchNumber, int count, string paramName) =>
        throw new ArgumentOutOfRangeException(
            paramName,
            batchNumber,
            $"A snapshot must follow a durable batch; batch {batchNumber} is not durable (the last durable batch is {count}).");

    [DoesNotReturn]
    private static void ThrowArgumentException_Gap(ulong number, ulong count, string paramName) =>
        throw new ArgumentException(
            $"Batch {number} would leave a gap: the last durable batch is {count}, so the next must be {count + 1}.", paramName);

    [DoesNotReturn]
    private static void ThrowArgumentException_ChainBroken(ulong number, string paramName) =>
        throw new ArgumentException(
            $"Batch {number} does not carry the hash of the last durable batch as its previous batch hash.", paramName);

    [DoesNotReturn]
    private static void ThrowLedgerStoreException_RetryDiffers(ulong number) =>
        throw new LedgerStoreException(
            $"In-memory ledger store: batch {number} is already durable with different bytes; a retry must be identical.");

    [DoesNotReturn]
    private static void ThrowLedgerStoreException_Full() =>
        throw new LedgerStoreException("In-memory ledger store: the journal holds the most batches it can.");

    /// <summary>Where one durable batch's encoded bytes are, with its parsed header.</summary>
    internal readonly struct Entry(CommitBatchHeader header, byte[] chunk, int offset, int length)
    {
        public CommitBatchHeader Header { get; } = header;

        public byte[] Chunk { get; } = chunk;

        public int Offset { get; } = offset;

        public int Length { get; } = length;

        public CommitBatch ToBatch() =>
            new(Header, new ReadOnlyMemory<byte>(Chunk, Offset + CommitBatchHeader.Size, Length - CommitBatchHeader.Size));
    }

    /// <summary>A prefix of the journal: entries [0, Count) of an array whose first Count entries never change.</summary>
    internal readonly struct JournalView(Entry[] entries, int count)
    {
        public int Count { get; } = count;

        public CommitBatch this[int index] => entries[index].ToBatch();
    }

    // Immutable, so that one reference write publishes a whole snapshot.
    private sealed class SnapshotRecord(ulong batchNumber, ReadOnlySequence<byte> state)
    {
        public ulong BatchNumber { get; } = batchNumber;

        /// <summary>The backing's copy, in one or more arrays never written again.</summary>
        public ReadOnlySequence<byte> State { get; } = state;
    }
}
