using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Storage;

namespace Micropay.Core.Audit;

/// <summary>
/// The ledger's audit log on disk: an RFC 9162 Merkle tree over every committed event, kept as a compact range in
/// memory (the O(log n) frontier that gives the current root) and as hash tiles in files, so a proof for any leaf costs
/// O(log n) reads and never a rescan, and compaction of the journal never makes an old leaf unprovable (its hash stays
/// in the tiles). The leaves' bytes are not copied here: a leaf is the journal's event record plus its result (kept
/// here, 4 bytes) and its timestamp (from the batch record), so the audit log adds 36 bytes per event to the disk, not
/// another copy of the journal.
/// </summary>
/// <remarks>
/// <para>Files in the audit directory (all append-only, little-endian):</para>
/// <list type="bullet">
/// <item><c>hashes-L.bin</c>, L = 0..7: the hashes of the complete subtrees of 256^L leaves, left to right, 32 bytes
/// each. Level 0 is every leaf hash. Cut into runs of 256 they are exactly C2SP tlog-tiles' hash tiles of height 8
/// (tile <c>L/N</c> is bytes <c>[N*8192, N*8192 + W*32)</c> of <c>hashes-L.bin</c>).</item>
/// <item><c>results.bin</c>: every leaf's result code (4 bytes each, leaf i at <c>4 * i</c>): what the journal does not hold.</item>
/// <item><c>batches.bin</c>: one 40-byte record per journal batch, batch n at <c>(n - 1) * 40</c>: first leaf index (8),
/// first event timestamp (8), the batch number (8), event count (4), event size (4), operation code (2), zeros (6).</item>
/// <item><c>checkpoints.bin</c>: every signed checkpoint, each as length n (4), the last batch it covers (8), the
/// signed note's n UTF-8 bytes, the CRC-32C of those (4), then n again (4), so the latest is found from the end. Records
/// appended since the last flush may come back from a power cut with any of their sectors lost (zeros) and later ones
/// kept: the CRC tells such a torn record from a written one, and recovery cuts the file at the first torn record after
/// the snapshot's durable end of the file.</item>
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

    // Batches with at least this many complete 256-leaf blocks are hashed on two threads (below it, the hand-off costs
    // more than it saves).
    private const int ParallelBlocks = 4;

    private readonly string _directory;
    private readonly StoreFileSystem _fs;
    private readonly StoreFile[] _levels = new StoreFile[MaxLevels];
    private readonly StoreFile _results;
    private readonly StoreFile _batches;
    private readonly StoreFile _checkpoints;

    // Writer state (the apply thread, or recovery before the threads start).
    private readonly byte[] _frontier = new byte[(MaxHeight + 1) * HashSize];
    private readonly long[] _levelCounts = new long[MaxLevels];
    private readonly byte[][] _pending = new byte[MaxLevels][];
    private readonly int[] _pendingCount = new int[MaxLevels];
    private readonly byte[] _node = CreateNodeInput();
    private readonly LeafHasher _hasher = new();
    private readonly LeafHasher _worker = new();
    private byte[] _leafHashes = [];
    private byte[] _blockRoots = [];

    // The writer's SHA-256, reused: OpenSSL's one-shot digest sets up a context per call, which costs more than hashing
    // a leaf (measured: 530 ns one-shot against 430 ns reused for a 162-byte leaf; the hashing itself is about 100 ns).
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _size;

    private ulong _batchCount;
    private long _checkpointsLength;

    // Readers read below these (release-stored by the writer after the bytes are written).
    private long _publishedSize;
    private ulong _publishedBatches;

    private AuditLog(string directory, StoreFileSystem fs)
    {
        _directory = directory;
        _fs = fs;
        _results = Open("results.bin");
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

        if (_results.Length < size * sizeof(uint) || _batches.Length < (long)state.BatchCount * BatchRecordSize)
        {
            throw new AuditLogException(
                $"The audit log in '{_directory}' holds {_results.Length / sizeof(uint)} results and {_batches.Length / BatchRecordSize} batch records, " +
                $"but the snapshot needs {size} and {state.BatchCount}.");
        }

        _size = size;
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

        _results.SetLength(_size * sizeof(uint));
        _batches.SetLength((long)_batchCount * BatchRecordSize);
        Publish();
        LoadCheckpoints(state.CheckpointsLength);
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

        long checkpoints;
        lock (_checkpoints)
        {
            checkpoints = _checkpointsLength;
        }

        return new AuditSnapshotState(_size, _batchCount, checkpoints, frontier);
    }

    /// <summary>
    /// Appends a journal batch's events as leaves (writer only): each leaf is the event's record with its result and
    /// assigned timestamp (<see cref="AuditLeaf"/>); writes the results, the tile hashes and the batch's record to the
    /// files (not durable until <see cref="Flush"/>), and publishes them to readers.
    /// </summary>
    /// <param name="batchNumber">The batch's number: the one after the last appended.</param>
    /// <param name="operation">The batch's operation.</param>
    /// <param name="firstTimestamp">The timestamp the ledger assigned to the batch's first event (then +1 per event).</param>
    /// <param name="events">The journaled records, <paramref name="eventSize"/> bytes each.</param>
    /// <param name="eventSize">The record size.</param>
    /// <param name="results">The per-event result codes.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AppendBatch(ulong batchNumber, BatchOperation operation, ulong firstTimestamp, ReadOnlyMemory<byte> events, int eventSize, ReadOnlyMemory<uint> results)
    {
        if (batchNumber != _batchCount + 1)
        {
            throw new AuditLogException($"The audit log holds {_batchCount} batches; batch {batchNumber} cannot follow them.");
        }

        int count = results.Length;
        long firstLeaf = _size;

        // The batch's leaves that fill complete, aligned 256-leaf blocks: [firstBlock, firstBlock + 256 * blocks).
        int firstBlock = (int)Math.Min(count, (LeafHasher.BlockLeaves - (firstLeaf % LeafHasher.BlockLeaves)) % LeafHasher.BlockLeaves);
        int blocks = (count - firstBlock) / LeafHasher.BlockLeaves;
        if (_leafHashes.Length < count * HashSize)
        {
            _leafHashes = new byte[Math.Max(count, 1024) * HashSize];
        }

        if (_blockRoots.Length < blocks * HashSize)
        {
            _blockRoots = new byte[Math.Max(blocks, 4) * HashSize];
        }

        var job = new LeafJob(events, results, eventSize, operation, batchNumber, firstTimestamp, 0, count, firstBlock, _leafHashes, _blockRoots);
        if (blocks >= ParallelBlocks)
        {
            // Two halves split at a block boundary, the second on the thread pool: leaf and block hashing are independent
            // of the tree, and on two cores the other one idles while the journal's fsync runs.
            int split = firstBlock + ((blocks / 2) * LeafHasher.BlockLeaves);
            _worker.Start(job with { From = split });
            _hasher.Hash(job with { To = split });
            _worker.Wait();
        }
        else
        {
            _hasher.Hash(job);
        }

        // Join the hashes into the compact range, in order: single leaves before the first block, the blocks' roots, then
        // the leaves after the last block. Level 0 of the tiles is the leaf hashes themselves, written whole.
        int afterBlocks = firstBlock + (blocks * LeafHasher.BlockLeaves);
        for (int i = 0; i < firstBlock; i++)
        {
            AppendSubtree(0, _leafHashes.AsSpan(i * HashSize, HashSize));
        }

        for (int b = 0; b < blocks; b++)
        {
            AppendSubtree(TileHeight, _blockRoots.AsSpan(b * HashSize, HashSize));
        }

        for (int i = afterBlocks; i < count; i++)
        {
            AppendSubtree(0, _leafHashes.AsSpan(i * HashSize, HashSize));
        }

        // The batch's record last: a reader finds a batch only once its leaves are there.
        Span<byte> record = stackalloc byte[BatchRecordSize];
        record.Clear();
        BinaryPrimitives.WriteInt64LittleEndian(record, firstLeaf);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], firstTimestamp);
        BinaryPrimitives.WriteUInt64LittleEndian(record[16..], batchNumber);
        BinaryPrimitives.WriteInt32LittleEndian(record[24..], count);
        BinaryPrimitives.WriteInt32LittleEndian(record[28..], eventSize);
        BinaryPrimitives.WriteUInt16LittleEndian(record[32..], (ushort)operation);
        if (count > 0)
        {
            _results.Write(MemoryMarshal.AsBytes(results.Span), firstLeaf * sizeof(uint));
            _levels[0].Write(_leafHashes.AsSpan(0, count * HashSize), _levelCounts[0] * HashSize);
            _levelCounts[0] += count;
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

    /// <summary>Where leaf <paramref name="index"/>'s event is in the journal, and what the log holds of it (any thread, below <see cref="PublishedSize"/>).</summary>
    public LeafLocation LocateLeaf(long index)
    {
        CheckPublished(index + 1);
        BatchRecord batch = FindBatch(index);
        Span<byte> result = stackalloc byte[sizeof(uint)];
        ReadExactly(_results, result, index * sizeof(uint));
        int eventIndex = (int)(index - batch.FirstLeaf);
        return new LeafLocation(
            batch.BatchNumber, eventIndex, batch.Operation, batch.EventSize, batch.FirstTimestamp + (ulong)eventIndex, BinaryPrimitives.ReadUInt32LittleEndian(result));
    }

    /// <summary>The bytes of a leaf: what the log holds of it and its event record from the journal.</summary>
    public static byte[] BuildLeaf(in LeafLocation location, ReadOnlySpan<byte> eventRecord)
    {
        byte[] leaf = new byte[AuditLeaf.HeaderSize + eventRecord.Length];
        AuditLeaf.WriteHeader(leaf, location.Operation, location.Result, location.Timestamp, location.BatchNumber, location.EventIndex, eventRecord.Length);
        eventRecord.CopyTo(leaf.AsSpan(AuditLeaf.HeaderSize));
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

        _results.Flush();
        _batches.Flush();
        _checkpoints.Flush();
    }

    /// <summary>Appends a signed checkpoint to checkpoints.bin (not durable until <see cref="Flush"/>: the signature is deterministic, so a lost one is signed again identically).</summary>
    public void AppendCheckpoint(ulong batchNumber, string note)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(note);
        byte[] record = new byte[CheckpointFraming + bytes.Length];
        BinaryPrimitives.WriteInt32LittleEndian(record, bytes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(4), batchNumber);
        bytes.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + bytes.Length), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, record.AsSpan(0, 12 + bytes.Length)));
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(16 + bytes.Length), bytes.Length);
        lock (_checkpoints)
        {
            _checkpoints.Write(record, _checkpointsLength);
            _checkpointsLength += record.Length;
        }
    }

    /// <summary>The length of checkpoints.bin's complete records (what a snapshot taken now records as durable once flushed).</summary>
    public long CheckpointsLength
    {
        get
        {
            lock (_checkpoints)
            {
                return _checkpointsLength;
            }
        }
    }

    /// <summary>The latest intact checkpoint in checkpoints.bin when <see cref="Restore"/> ran (last batch covered, note), or null.</summary>
    public (ulong BatchNumber, string Note)? RecoveredCheckpoint { get; private set; }

    /// <summary>The bytes a checkpoint record adds to its note: length, batch number, CRC-32C, length.</summary>
    public const int CheckpointFraming = 20;

    /// <summary>Every checkpoint record in a checkpoints file's bytes up to the first torn one (cut short, or failing its CRC), oldest first (where it starts, the last batch it covers, its note), and where they end.</summary>
    public static List<(long Offset, ulong BatchNumber, string Note)> ReadCheckpointRecords(ReadOnlySpan<byte> file, out long end)
    {
        var found = new List<(long, ulong, string)>();
        int at = 0;
        while (TryReadCheckpointRecord(file[at..], out ulong batch, out ReadOnlySpan<byte> note))
        {
            found.Add((at, batch, Encoding.UTF8.GetString(note)));
            at += CheckpointFraming + note.Length;
        }

        end = at;
        return found;
    }

    // One record at the start of bytes: its lengths agree and fit, and its CRC holds.
    private static bool TryReadCheckpointRecord(ReadOnlySpan<byte> bytes, out ulong batchNumber, out ReadOnlySpan<byte> note)
    {
        batchNumber = 0;
        note = default;
        if (bytes.Length < CheckpointFraming)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (length <= 0 || length > SignedNote.MaxNoteBytes || bytes.Length - CheckpointFraming < length ||
            BinaryPrimitives.ReadInt32LittleEndian(bytes[(16 + length)..]) != length ||
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[(12 + length)..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, bytes[..(12 + length)]))
        {
            return false;
        }

        batchNumber = BinaryPrimitives.ReadUInt64LittleEndian(bytes[4..]);
        note = bytes.Slice(12, length);
        return true;
    }

    // Recovers checkpoints.bin. Below durableEnd (its length when the snapshot was taken; flushed before the snapshot was
    // written) the records are durable: only the last one is read, from its trailing length. After it, records appended
    // since may be torn by a power cut (any sector lost), so they are read one by one and the file is cut at the first
    // torn one: none of those was durable, and a lost checkpoint is signed again identically. The scan is bounded by
    // the checkpoints signed since the snapshot, so an open does not grow with the log's age.
    private void LoadCheckpoints(long durableEnd)
    {
        long length = _checkpoints.Length;
        if (durableEnd > length)
        {
            throw new AuditLogException(
                $"The audit log's checkpoints.bin in '{_directory}' holds {length} bytes, but the snapshot recorded {durableEnd} durable ones: it was cut or replaced.");
        }

        if (length - durableEnd > int.MaxValue)
        {
            throw new AuditLogException($"The audit log's checkpoints.bin in '{_directory}' holds over 2 GiB since the last snapshot.");
        }

        RecoveredCheckpoint = null;
        if (durableEnd > 0)
        {
            Span<byte> tail = stackalloc byte[4];
            ReadExactly(_checkpoints, tail, durableEnd - 4);
            int noteLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
            byte[] last = noteLength > 0 && noteLength <= SignedNote.MaxNoteBytes && noteLength + CheckpointFraming <= durableEnd
                ? new byte[noteLength + CheckpointFraming]
                : [];
            if (last.Length != 0)
            {
                ReadExactly(_checkpoints, last, durableEnd - last.Length);
            }

            if (!TryReadCheckpointRecord(last, out ulong batch, out ReadOnlySpan<byte> note))
            {
                throw new AuditLogException($"The last durable checkpoint in '{_directory}' (ending at byte {durableEnd} of checkpoints.bin) is damaged.");
            }

            RecoveredCheckpoint = (batch, Encoding.UTF8.GetString(note));
        }

        byte[] recent = new byte[length - durableEnd];
        ReadExactly(_checkpoints, recent, durableEnd);
        List<(long Offset, ulong BatchNumber, string Note)> after = ReadCheckpointRecords(recent, out long end);
        if (after.Count != 0)
        {
            RecoveredCheckpoint = (after[^1].BatchNumber, after[^1].Note);
        }

        _checkpoints.SetLength(durableEnd + end);
        _checkpointsLength = durableEnd + end;
    }

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

        _results.Dispose();
        _sha.Dispose();
        _hasher.Dispose();
        _worker.Dispose();
        _batches.Dispose();
        _checkpoints.Dispose();
    }

    // Adds a complete subtree of 2^height leaves (a leaf, or a 256-leaf block) to the compact range, whose size is a
    // multiple of 2^height: each complete pair it finishes merges one level up (the binary carry of the size). Hashes at
    // heights 8, 16, ... are the tiles' and go to the files (level 0, the leaves, is written whole per batch).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendSubtree(int height, ReadOnlySpan<byte> hash)
    {
        Span<byte> carry = stackalloc byte[HashSize];
        hash.CopyTo(carry);
        if (height != 0)
        {
            AddPending(height / TileHeight, carry);
        }

        int at = height;
        while ((_size & (1L << at)) != 0)
        {
            _frontier.AsSpan(at * HashSize, HashSize).CopyTo(_node.AsSpan(1));
            carry.CopyTo(_node.AsSpan(1 + HashSize));
            _sha.AppendData(_node);
            _sha.GetHashAndReset(carry);
            at++;
            if (at % TileHeight == 0)
            {
                AddPending(at / TileHeight, carry);
            }
        }

        carry.CopyTo(_frontier.AsSpan(at * HashSize, HashSize));
        _size += 1L << height;
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
        for (int level = 1; level < MaxLevels; level++)
        {
            if (_pendingCount[level] == 0)
            {
                continue;
            }

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

    // RFC 9162's inner-node input: 0x01, then the two children's hashes.
    private static byte[] CreateNodeInput()
    {
        byte[] input = new byte[1 + (2 * HashSize)];
        input[0] = 0x01;
        return input;
    }

    private static long LevelCount(long size, int level) => level * TileHeight >= 63 ? 0 : size >> (level * TileHeight);

    private BatchRecord FindBatch(long leaf)
    {
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
            BinaryPrimitives.ReadUInt64LittleEndian(record[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(record[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(record[28..]),
            (BatchOperation)BinaryPrimitives.ReadUInt16LittleEndian(record[32..]));
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

    private readonly record struct BatchRecord(long FirstLeaf, ulong FirstTimestamp, ulong BatchNumber, int Count, int EventSize, BatchOperation Operation);
}

/// <summary>What a snapshot records of the audit log: the tree's size and frontier (largest complete subtree first), and the files' extent.</summary>
internal readonly record struct AuditSnapshotState(long TreeSize, ulong BatchCount, long CheckpointsLength, ReadOnlyMemory<byte> Frontier)
{
    public static AuditSnapshotState Empty => new(0, 0, 0, ReadOnlyMemory<byte>.Empty);
}

/// <summary>Where a leaf's event is in the journal, with what the audit log holds of it (its operation, timestamp and result).</summary>
internal readonly record struct LeafLocation(ulong BatchNumber, int EventIndex, BatchOperation Operation, int EventSize, ulong Timestamp, uint Result);

/// <summary>The audit log's files do not hold what the journal or the snapshot says they must.</summary>
public sealed class AuditLogException : MicropayException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, and where.</param>
    public AuditLogException(string message)
        : base(message)
    {
    }
}
