using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Storage;

namespace Micropay.Core.Audit;

/// <summary>
/// The ledger's audit log on disk: an RFC 9162 Merkle tree over every committed event, kept as a compact range in
/// memory (the O(log n) frontier that gives the current root) and as hash tiles in files, so a proof for any leaf costs
/// O(log n) reads and never a rescan, and compaction of the journal never makes an old leaf unprovable (its leaf bytes
/// are kept here too).
/// </summary>
/// <remarks>
/// <para>Files in the audit directory (all append-only, little-endian):</para>
/// <list type="bullet">
/// <item><c>hashes-L.bin</c>, L = 0..7: the hashes of the complete subtrees of 256^L leaves, left to right, 32 bytes
/// each. Level 0 is every leaf hash. Cut into runs of 256 they are exactly C2SP tlog-tiles' hash tiles of height 8
/// (tile <c>L/N</c> is bytes <c>[N*8192, N*8192 + W*32)</c> of <c>hashes-L.bin</c>).</item>
/// <item><c>entries.bin</c>: every leaf's bytes (<see cref="AuditLeaf"/>), back to back; a batch's leaves all have one size.</item>
/// <item><c>batches.bin</c>: one 40-byte record per journal batch, batch n at <c>(n - 1) * 40</c>: first leaf index (8),
/// first event timestamp (8), offset of its first leaf in entries.bin (8), event count (4), event size (4), operation
/// code (2), zeros (6).</item>
/// <item><c>checkpoints.bin</c>: every signed checkpoint, each as length (4), the last batch it covers (8), the
/// signed note's UTF-8 bytes, then the CRC-32C (4) of everything before it in the record. Records appended since the
/// last flush may come back from a power cut with any of their sectors lost (zeros) and later ones kept: the CRC tells
/// such a torn record from a written one, and recovery cuts the file at the first torn record.</item>
/// </list>
/// <para>One writer (the engine's apply thread) appends; any thread reads below the published size. The files are
/// made durable (<see cref="Flush"/>) before every snapshot, which is what lets the journal before a snapshot be
/// compacted. After a crash they may hold less or more than the journal: recovery truncates them to the snapshot's
/// state (checking the tiles against the snapshot's frontier first) and replay appends the rest again.</para>
/// </remarks>
internal sealed class AuditLog : ISubtreeHashes, IDisposable
{
    /// <summary>The height of a tile: 8, so 256 hashes per tile.</summary>
    public const int TileHeight = 8;

    /// <summary>The size of a batch record in batches.bin.</summary>
    public const int BatchRecordSize = 40;

    private const int HashSize = MerkleHashes.Size;
    private const int MaxLevels = 8;
    private const int MaxHeight = 63;

    private readonly string _directory;
    private readonly StoreFileSystem _fs;
    private readonly StoreFile[] _levels = new StoreFile[MaxLevels];
    private readonly StoreFile _entries;
    private readonly StoreFile _batches;
    private readonly StoreFile _checkpoints;

    // Writer state (the apply thread, or recovery before the threads start).
    private readonly byte[] _frontier = new byte[(MaxHeight + 1) * HashSize];
    private readonly long[] _levelCounts = new long[MaxLevels];
    private readonly byte[][] _pending = new byte[MaxLevels][];
    private readonly int[] _pendingCount = new int[MaxLevels];
    private byte[] _entryBuffer = [];
    private byte[] _scratch = new byte[1 + AuditLeaf.HeaderSize + 256];
    private long _size;
    private long _entriesLength;
    private ulong _batchCount;
    private long _checkpointsLength;

    // Readers read below these (release-stored by the writer after the bytes are written).
    private long _publishedSize;
    private ulong _publishedBatches;

    private AuditLog(string directory, StoreFileSystem fs)
    {
        _directory = directory;
        _fs = fs;
        _entries = Open("entries.bin");
        _batches = Open("batches.bin");
        _checkpoints = Open("checkpoints.bin");
        for (int level = 0; level < MaxLevels; level++)
        {
            _levels[level] = Open($"hashes-{level}.bin");
            _pending[level] = new byte[HashSize * 64];
        }
    }

    /// <summary>The number of leaves the writer has appended.</summary>
    public long Size => _size;

    /// <summary>The number of journal batches the writer has recorded.</summary>
    public ulong BatchCount => _batchCount;

    /// <summary>The leaves readers may prove (published after each batch).</summary>
    public long PublishedSize => Volatile.Read(ref _publishedSize);

    /// <summary>Opens (creating if needed) the audit log in <paramref name="directory"/>; its state is empty until <see cref="Restore"/>.</summary>
    public static AuditLog Open(string directory, StoreFileSystem fs)
    {
        IReadOnlyList<string> created = fs.CreateDirectory(directory);
        foreach (string made in created)
        {
            fs.SyncDirectory(Path.GetDirectoryName(made) ?? made);
        }

        var log = new AuditLog(directory, fs);
        fs.SyncDirectory(directory);
        return log;
    }

    private StoreFile Open(string name) => _fs.OpenFile(Path.Combine(_directory, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);

    /// <summary>
    /// Sets the writer to the state a snapshot recorded, after checking the files hold it: every complete subtree of
    /// the frontier is recomputed from the tiles and compared. Then cuts the files to exactly that state (replay appends
    /// the rest). An empty state (no snapshot) empties the files.
    /// </summary>
    /// <exception cref="AuditLogException">The files hold less than the snapshot, or tiles that disagree with its frontier.</exception>
    public void Restore(AuditSnapshotState state)
    {
        long size = state.TreeSize;
        for (int level = 0; level < MaxLevels; level++)
        {
            long needed = LevelCount(size, level);
            if (_levels[level].Length < needed * HashSize)
            {
                throw new AuditLogException(
                    $"The audit log in '{_directory}' holds {_levels[level].Length / HashSize} level-{level} hashes, but the snapshot's tree of {size} leaves needs {needed}: " +
                    "its tiles were lost or cut (they are made durable before every snapshot).");
            }

            _levelCounts[level] = needed;
        }

        if (_entries.Length < state.EntriesLength || _batches.Length < (long)state.BatchCount * BatchRecordSize)
        {
            throw new AuditLogException(
                $"The audit log in '{_directory}' holds {_entries.Length} bytes of leaves and {_batches.Length / BatchRecordSize} batch records, " +
                $"but the snapshot needs {state.EntriesLength} and {state.BatchCount}.");
        }

        _size = size;
        _entriesLength = state.EntriesLength;
        _batchCount = state.BatchCount;
        Array.Clear(_frontier);
        long start = 0;
        Span<byte> fromTiles = stackalloc byte[HashSize];
        int taken = 0;
        for (int height = MaxHeight; height >= 0; height--)
        {
            if ((size & (1L << height)) == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> recorded = state.Frontier.Span.Slice(taken * HashSize, HashSize);
            taken++;
            Perfect(height, start >> height, fromTiles);
            if (!fromTiles.SequenceEqual(recorded))
            {
                throw new AuditLogException(
                    $"The audit log's tiles in '{_directory}' disagree with the snapshot's tree: the subtree of leaves [{start}, {start + (1L << height)}) hashes differently. " +
                    "The tiles or the snapshot were changed.");
            }

            recorded.CopyTo(_frontier.AsSpan(height * HashSize, HashSize));
            start += 1L << height;
        }

        for (int level = 0; level < MaxLevels; level++)
        {
            _levels[level].SetLength(_levelCounts[level] * HashSize);
        }

        _entries.SetLength(_entriesLength);
        _batches.SetLength((long)_batchCount * BatchRecordSize);
        Publish();
        LoadCheckpoints();
    }

    /// <summary>The state a snapshot taken now records (the frontier's hashes, largest subtree first).</summary>
    public AuditSnapshotState CaptureState()
    {
        int count = BitOperations.PopCount((ulong)_size);
        byte[] frontier = new byte[count * HashSize];
        int taken = 0;
        for (int height = MaxHeight; height >= 0; height--)
        {
            if ((_size & (1L << height)) != 0)
            {
                _frontier.AsSpan(height * HashSize, HashSize).CopyTo(frontier.AsSpan(taken++ * HashSize));
            }
        }

        return new AuditSnapshotState(_size, _entriesLength, _batchCount, frontier);
    }

    /// <summary>
    /// Appends a journal batch's events as leaves (writer only): each leaf is the event's record with its result and
    /// assigned timestamp (<see cref="AuditLeaf"/>); writes the leaves, their hashes and the batch's record to the files
    /// (not durable until <see cref="Flush"/>), and publishes them to readers.
    /// </summary>
    /// <param name="batchNumber">The batch's number: the one after the last appended.</param>
    /// <param name="operation">The batch's operation.</param>
    /// <param name="firstTimestamp">The timestamp the ledger assigned to the batch's first event (then +1 per event).</param>
    /// <param name="events">The journaled records, <paramref name="eventSize"/> bytes each.</param>
    /// <param name="eventSize">The record size.</param>
    /// <param name="results">The per-event result codes.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AppendBatch(ulong batchNumber, BatchOperation operation, ulong firstTimestamp, ReadOnlySpan<byte> events, int eventSize, ReadOnlySpan<uint> results)
    {
        if (batchNumber != _batchCount + 1)
        {
            throw new AuditLogException($"The audit log holds {_batchCount} batches; batch {batchNumber} cannot follow them.");
        }

        int count = results.Length;
        int entrySize = AuditLeaf.HeaderSize + eventSize;
        long entriesBytes = (long)count * entrySize;
        if (_entryBuffer.Length < entriesBytes)
        {
            _entryBuffer = GC.AllocateUninitializedArray<byte>((int)entriesBytes);
        }

        if (_scratch.Length < 1 + entrySize)
        {
            _scratch = new byte[1 + entrySize];
        }

        Span<byte> leaf = _scratch.AsSpan(0, 1 + entrySize);
        leaf[0] = 0x00;
        Span<byte> hash = stackalloc byte[HashSize];
        long firstLeaf = _size;
        for (int i = 0; i < count; i++)
        {
            AuditLeaf.WriteHeader(leaf[1..], operation, results[i], firstTimestamp + (ulong)i, batchNumber, i, eventSize);
            events.Slice(i * eventSize, eventSize).CopyTo(leaf[(1 + AuditLeaf.HeaderSize)..]);
            SHA256.HashData(leaf, hash);
            leaf[1..].CopyTo(_entryBuffer.AsSpan(i * entrySize, entrySize));
            AppendHash(hash);
        }

        // The batch's record last: a reader finds a batch only once its leaves are there.
        Span<byte> record = stackalloc byte[BatchRecordSize];
        record.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(record, firstLeaf);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], firstTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(record[16..], _entriesLength);
        BinaryPrimitives.WriteInt32LittleEndian(record[24..], count);
        BinaryPrimitives.WriteInt32LittleEndian(record[28..], eventSize);
        BinaryPrimitives.WriteUInt16LittleEndian(record[32..], (ushort)operation);
        if (count > 0)
        {
            _entries.Write(_entryBuffer.AsSpan(0, (int)entriesBytes), _entriesLength);
            _entriesLength += entriesBytes;
            FlushPending();
        }

        _batches.Write(record, (long)_batchCount * BatchRecordSize);
        _batchCount++;
        Publish();
    }

    /// <summary>Writes the root of the writer's current tree.</summary>
    public void GetCurrentRoot(Span<byte> destination)
    {
        if (_size == 0)
        {
            MerkleHashes.EmptyRoot.CopyTo(destination);
            return;
        }

        // Fold the frontier from the smallest subtree (rightmost) up: MTH of a tree is the left complete subtree's hash
        // joined with the hash of the rest.
        bool first = true;
        for (int height = 0; height <= MaxHeight; height++)
        {
            if ((_size & (1L << height)) == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> subtree = _frontier.AsSpan(height * HashSize, HashSize);
            if (first)
            {
                subtree.CopyTo(destination);
                first = false;
            }
            else
            {
                MerkleHashes.Node(subtree, destination[..HashSize], destination);
            }
        }
    }

    /// <summary>Writes the root of the tree of the first <paramref name="size"/> leaves (any thread; up to <see cref="PublishedSize"/>).</summary>
    public void GetRoot(long size, Span<byte> destination)
    {
        CheckPublished(size);
        MerkleProofBuilder.Root(this, size, destination);
    }

    /// <summary>The inclusion proof of leaf <paramref name="index"/> in the tree of <paramref name="size"/> leaves (any thread).</summary>
    public byte[] GetInclusionProof(long index, long size)
    {
        CheckPublished(size);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        return MerkleProofBuilder.Inclusion(this, index, size);
    }

    /// <summary>The consistency proof between the trees of <paramref name="size1"/> and <paramref name="size2"/> leaves (any thread).</summary>
    public byte[] GetConsistencyProof(long size1, long size2)
    {
        CheckPublished(size2);
        ArgumentOutOfRangeException.ThrowIfNegative(size1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2);
        return MerkleProofBuilder.Consistency(this, size1, size2);
    }

    /// <summary>Reads a C2SP tlog-tiles hash tile: level <paramref name="level"/>, index <paramref name="index"/>, the first <paramref name="width"/> hashes (any thread).</summary>
    public byte[] ReadTile(int level, long index, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, MaxLevels);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 1 << TileHeight);
        long first = index << TileHeight;
        if (first + width > LevelCount(PublishedSize, level))
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Tile {level}/{index} has fewer than {width} hashes in the published tree.");
        }

        byte[] tile = new byte[width * HashSize];
        ReadExactly(_levels[level], tile, first * HashSize);
        return tile;
    }

    /// <summary>The bytes of leaf <paramref name="index"/> (any thread, below <see cref="PublishedSize"/>).</summary>
    public byte[] ReadLeaf(long index)
    {
        CheckPublished(index + 1);
        BatchRecord batch = FindBatch(index, byLeaf: true);
        int entrySize = AuditLeaf.HeaderSize + batch.EventSize;
        byte[] leaf = new byte[entrySize];
        ReadExactly(_entries, leaf, batch.EntriesOffset + ((index - batch.FirstLeaf) * entrySize));
        return leaf;
    }

    /// <summary>
    /// The leaf of the event the ledger stamped with <paramref name="timestamp"/> (every event has its own), or -1 when no
    /// published batch holds one (a timestamp of a system transfer a deadline made, or of a batch not yet published).
    /// </summary>
    public long FindLeafByTimestamp(ulong timestamp)
    {
        ulong batches = Volatile.Read(ref _publishedBatches);
        if (batches == 0)
        {
            return -1;
        }

        // The last batch whose first timestamp is at or before the one sought (batches' timestamps increase).
        ulong lo = 0, hi = batches - 1;
        if (ReadBatch(0).FirstTimestamp > timestamp)
        {
            return -1;
        }

        while (lo < hi)
        {
            ulong mid = lo + ((hi - lo + 1) / 2);
            if (ReadBatch(mid).FirstTimestamp <= timestamp)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        BatchRecord found = ReadBatch(lo);
        ulong offset = timestamp - found.FirstTimestamp;
        return offset < (ulong)found.Count ? found.FirstLeaf + (long)offset : -1;
    }

    /// <summary>The leaf of event <paramref name="eventIndex"/> of batch <paramref name="batchNumber"/>, or -1 when there is none.</summary>
    public long FindLeaf(ulong batchNumber, int eventIndex)
    {
        if (batchNumber == 0 || batchNumber > Volatile.Read(ref _publishedBatches) || eventIndex < 0)
        {
            return -1;
        }

        BatchRecord batch = ReadBatch(batchNumber - 1);
        return eventIndex < batch.Count ? batch.FirstLeaf + eventIndex : -1;
    }

    /// <summary>Makes every file durable (before a snapshot, which allows the journal before it to be compacted).</summary>
    public void Flush()
    {
        foreach (StoreFile level in _levels)
        {
            level.Flush();
        }

        _entries.Flush();
        _batches.Flush();
        _checkpoints.Flush();
    }

    /// <summary>Appends a signed checkpoint to checkpoints.bin (not durable until <see cref="Flush"/>: the signature is deterministic, so a lost one is signed again identically).</summary>
    public void AppendCheckpoint(ulong batchNumber, string note)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(note);
        byte[] record = new byte[12 + bytes.Length + 4];
        BinaryPrimitives.WriteInt32LittleEndian(record, bytes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(4), batchNumber);
        bytes.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + bytes.Length), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, record.AsSpan(0, 12 + bytes.Length)));
        lock (_checkpoints)
        {
            _checkpoints.Write(record, _checkpointsLength);
            _checkpointsLength += record.Length;
        }
    }

    /// <summary>The checkpoints recovered from checkpoints.bin at <see cref="Restore"/> (last batch covered, note), oldest first.</summary>
    public IReadOnlyList<(ulong BatchNumber, string Note)> RecoveredCheckpoints { get; private set; } = [];

    /// <summary>Every checkpoint record in a checkpoints file's bytes up to the first torn one (cut short, or failing its CRC), and where they end.</summary>
    public static List<(ulong BatchNumber, string Note)> ReadCheckpointRecords(ReadOnlySpan<byte> file, out long end)
    {
        var found = new List<(ulong, string)>();
        long at = 0;
        while (file.Length - at >= 16)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(file[(int)at..]);
            if (length <= 0 || length > SignedNote.MaxNoteBytes || file.Length - at - 16 < length)
            {
                break;
            }

            ReadOnlySpan<byte> record = file.Slice((int)at, 12 + length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(file[(int)(at + 12 + length)..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, record))
            {
                break;
            }

            found.Add((BinaryPrimitives.ReadUInt64LittleEndian(record[4..]), Encoding.UTF8.GetString(record[12..])));
            at += 12 + length + 4;
        }

        end = at;
        return found;
    }

    private void LoadCheckpoints()
    {
        long length = _checkpoints.Length;
        if (length > int.MaxValue)
        {
            throw new AuditLogException($"The audit log's checkpoints.bin in '{_directory}' is over 2 GiB.");
        }

        byte[] bytes = new byte[length];
        ReadExactly(_checkpoints, bytes, 0);
        RecoveredCheckpoints = ReadCheckpointRecords(bytes, out long end);

        // Torn records (appended since the last flush, then cut by a crash) are cut with everything after them: none was
        // made durable, and a lost checkpoint is signed again later.
        _checkpoints.SetLength(end);
        _checkpointsLength = end;
    }

    /// <summary>Drops checkpoints over more leaves than the recovered tree (they cannot be: checkpoints cover durable batches only; a sign of a replaced journal).</summary>
    public long CheckpointsLength => _checkpointsLength;

    /// <inheritdoc />
    public void Perfect(int height, long index, Span<byte> destination)
    {
        int level = height / TileHeight;
        int rest = height % TileHeight;
        int count = 1 << rest;
        Span<byte> hashes = stackalloc byte[count * HashSize];
        ReadExactly(_levels[level], hashes, (index << rest) * HashSize);
        for (; count > 1; count /= 2)
        {
            for (int i = 0; i < count / 2; i++)
            {
                MerkleHashes.Node(hashes.Slice(2 * i * HashSize, HashSize), hashes.Slice(((2 * i) + 1) * HashSize, HashSize), hashes.Slice(i * HashSize, HashSize));
            }
        }

        hashes[..HashSize].CopyTo(destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (StoreFile level in _levels)
        {
            level?.Dispose();
        }

        _entries.Dispose();
        _batches.Dispose();
        _checkpoints.Dispose();
    }

    // Adds a leaf hash to the compact range: each complete pair the new leaf finishes merges one level up (the binary carry
    // of the size). Hashes at heights 0, 8, 16, ... are the tiles' and go to the files.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendHash(Span<byte> carry)
    {
        AddPending(0, carry);
        int height = 0;
        while ((_size & (1L << height)) != 0)
        {
            MerkleHashes.Node(_frontier.AsSpan(height * HashSize, HashSize), carry, carry);
            height++;
            if (height % TileHeight == 0)
            {
                AddPending(height / TileHeight, carry);
            }
        }

        carry.CopyTo(_frontier.AsSpan(height * HashSize, HashSize));
        _size++;
    }

    private void AddPending(int level, ReadOnlySpan<byte> hash)
    {
        byte[] buffer = _pending[level];
        int at = _pendingCount[level] * HashSize;
        if (at == buffer.Length)
        {
            Array.Resize(ref _pending[level], buffer.Length * 2);
            buffer = _pending[level];
        }

        hash.CopyTo(buffer.AsSpan(at));
        _pendingCount[level]++;
    }

    private void FlushPending()
    {
        for (int level = 0; level < MaxLevels && _pendingCount[level] > 0; level++)
        {
            int bytes = _pendingCount[level] * HashSize;
            _levels[level].Write(_pending[level].AsSpan(0, bytes), _levelCounts[level] * HashSize);
            _levelCounts[level] += _pendingCount[level];
            _pendingCount[level] = 0;
        }
    }

    private void Publish()
    {
        Volatile.Write(ref _publishedSize, _size);
        Volatile.Write(ref _publishedBatches, _batchCount);
    }

    private void CheckPublished(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        long published = PublishedSize;
        if (size > published)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"The audit log holds {published} leaves.");
        }
    }

    private static long LevelCount(long size, int level) => level * TileHeight >= 63 ? 0 : size >> (level * TileHeight);

    private BatchRecord FindBatch(long leaf, bool byLeaf)
    {
        _ = byLeaf;
        ulong lo = 0, hi = Volatile.Read(ref _publishedBatches) - 1;
        while (lo < hi)
        {
            ulong mid = lo + ((hi - lo + 1) / 2);
            if (ReadBatch(mid).FirstLeaf <= leaf)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // Empty batches share their first leaf with the next batch: step forward to the one that holds the leaf.
        BatchRecord found = ReadBatch(lo);
        while (leaf >= found.FirstLeaf + found.Count)
        {
            found = ReadBatch(++lo);
        }

        return found;
    }

    private BatchRecord ReadBatch(ulong index)
    {
        Span<byte> record = stackalloc byte[BatchRecordSize];
        ReadExactly(_batches, record, (long)index * BatchRecordSize);
        return new BatchRecord(
            BinaryPrimitives.ReadInt64LittleEndian(record),
            BinaryPrimitives.ReadUInt64LittleEndian(record[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(record[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(record[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(record[28..]));
    }

    private void ReadExactly(StoreFile file, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int read = file.Read(destination, offset);
            if (read <= 0)
            {
                throw new AuditLogException($"The audit log in '{_directory}' ends early: a read at offset {offset} found nothing.");
            }

            destination = destination[read..];
            offset += read;
        }
    }

    private readonly record struct BatchRecord(long FirstLeaf, ulong FirstTimestamp, long EntriesOffset, int Count, int EventSize);
}

/// <summary>What a snapshot records of the audit log: the tree's size and frontier (largest complete subtree first), and the files' extent.</summary>
internal readonly record struct AuditSnapshotState(long TreeSize, long EntriesLength, ulong BatchCount, ReadOnlyMemory<byte> Frontier)
{
    public static AuditSnapshotState Empty => new(0, 0, 0, ReadOnlyMemory<byte>.Empty);
}

/// <summary>The audit log's files do not hold what the journal or the snapshot says they must.</summary>
public sealed class AuditLogException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, and where.</param>
    public AuditLogException(string message)
        : base(message)
    {
    }
}
