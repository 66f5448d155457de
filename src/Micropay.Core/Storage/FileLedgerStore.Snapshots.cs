using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace Micropay.Core.Storage;

// Snapshots and compaction.
//
// A snapshot file, snapshot-{batch, 20 digits}.snap, is a 64-byte header followed by the state bytes. Version 2 (written
// since the open-time work):
// offset size field
//      0    4 Magic        "MPSS" (0x4D 0x50 0x53 0x53)
//      4    2 Version      2
//      6    2 HeaderSize   64
//      8    8 BatchNumber  the last batch the snapshot includes; also in the file name
//     16    8 StateLength  the number of state bytes after the header (any length: past 2 GiB only a mapping reads it)
//     24   16 Checksum     XxHash128 (System.IO.Hashing, seed 0) of header bytes 0..23 || state, as its 16-byte
//                          big-endian canonical form (XxHash128.GetCurrentHash)
//     40   24 Reserved     0
//     64    n State
//
// Version 1 (still read, never written) differs only in the checksum: bytes 24..55 hold the SHA-256 of header bytes
// 0..23 || state, and bytes 56..63 are reserved (0).
//
// Why XxHash128 and not SHA-256: the snapshot is a cache of state the hash-chained journal already proves; its checksum
// only has to catch a torn or rotten file, and XxHash128 does that at memory speed where SHA-256 of a large snapshot
// would take a large share of the open budget (benchmarks/README.md). 128 bits make an undetected random corruption
// (probability 2^-128) no concern.
//
// It is written as snapshot-{batch}.tmp, fsync'd, renamed into place and the directory fsync'd, so after a crash it is
// wholly there or absent; a damaged one (disk fault) fails its checksum and the previous snapshot is used instead.
// Large snapshots are read through a memory mapping (SnapshotMapping), not copied into a new array, and returned as that
// mapping, in windows, owned by the LedgerSnapshot the caller disposes; a state of any length is returned that way (or,
// where the file system cannot map, in arrays of at most MapWindowBytes each).
public sealed partial class FileLedgerStore
{
    internal const string SnapshotPrefix = "snapshot-";
    internal const string SnapshotExtension = ".snap";
    internal const int SnapshotHeaderSize = 64;
    private const uint SnapshotMagic = 0x5353_504D; // "MPSS"
    private const ushort SnapshotVersion = 2;
    private const ushort SnapshotVersionSha256 = 1;
    private const int SnapshotChecksumOffset = 24;

    /// <summary>
    /// States at least this long are memory-mapped; shorter ones are read into an array, which costs little at that
    /// size and leaves the caller nothing to keep alive. Internal so tests can map small snapshots.
    /// </summary>
    internal const int DefaultMapSnapshotsFrom = 16 * 1024 * 1024;

    // Set by tests before OpenAsync; read-only afterwards.
    internal int MapSnapshotsFrom { get; set; } = DefaultMapSnapshotsFrom;

    // The most bytes one segment of a returned state holds: a mapped state's windows, or the arrays of a state read
    // without a mapping (1 GiB, under a span's limit). Set by tests (small segments cut small states in several).
    internal int MapWindowBytes { get; set; } = SnapshotMapping.DefaultWindowBytes;

    // How many snapshots ReadLatestSnapshotAsync returned as a mapping of their file; for tests that check a caller (the
    // engine, through a decorator or not) got the mapped read. Interlocked.
    private int _mappedSnapshotsReturned;

    // The snapshot that OpenAsync verified (it had to, to know which batches the snapshot covers), kept so that the
    // ReadLatestSnapshotAsync which follows (the engine's recovery) does not map and verify it again; handed out once
    // (under the lock), since its receiver disposes it. Disposed with the store if never handed out.
    private LedgerSnapshot? _recoveredSnapshot;
    private readonly Lock _recoveredSnapshotLock = new();

    // Why the snapshots passed over by the last search were rejected (file and reason), for error messages that need
    // a snapshot: with a compacted journal a damaged snapshot is fatal, and the error should say which file and why.
    private List<string> _rejectedSnapshots = [];

    /// <summary>The number of snapshots <see cref="ReadLatestSnapshotAsync"/> returned as a mapping of their file.</summary>
    internal int MappedSnapshotsReturned => Volatile.Read(ref _mappedSnapshotsReturned);

    /// <inheritdoc />
    /// <remarks>
    /// The state, of any length, is written segment after segment into one file (<c>snapshot-{batch}.snap</c>, a 64-byte
    /// header then the state) with one XxHash128 over all of it; the write runs synchronously on the calling thread.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchNumber"/> is 0 or above the last durable batch.</exception>
    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            WriteSnapshot(batchNumber, state, cancellationToken);
            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private void WriteSnapshot(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken)
    {
        ThrowIfNotOpen();
        ulong last = Volatile.Read(ref _lastBatchNumber);
        if (batchNumber == 0 || batchNumber > last)
        {
            throw new ArgumentOutOfRangeException(
                nameof(batchNumber), batchNumber, $"A snapshot must be of a durable batch, 1 to {last}.");
        }

        lock (_snapshotLock)
        {
            WriteSnapshotCore(batchNumber, state, cancellationToken);
            PruneSnapshots(batchNumber);
        }
    }

    private void WriteSnapshotCore(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken)
    {
        string path = SnapshotPath(batchNumber);
        string temporary = Path.ChangeExtension(path, ".tmp");
        Span<byte> header = stackalloc byte[SnapshotHeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, SnapshotMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], SnapshotVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], SnapshotHeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], batchNumber);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], state.Length);
        SnapshotChecksum(header, state, header.Slice(SnapshotChecksumOffset, 16));
        bool renamed = false;
        try
        {
            using (StoreFile file = _fs.OpenFile(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                file.Write(header, 0);
                long offset = SnapshotHeaderSize;
                foreach (ReadOnlyMemory<byte> segment in state)
                {
                    file.Write(segment.Span, offset);
                    offset += segment.Length;
                }

                cancellationToken.ThrowIfCancellationRequested();
                file.Flush();
            }

            cancellationToken.ThrowIfCancellationRequested();
            _fs.Move(temporary, path, overwrite: true);
            renamed = true;
            _fs.SyncDirectory(_directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new LedgerStoreException($"The snapshot of batch {batchNumber} cannot be written to '{path}'.", e);
        }
        catch (OperationCanceledException) when (!renamed)
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Deletes snapshots older than the newest <c>SnapshotsToKeep</c> (never the one just written). Best effort.</summary>
    private void PruneSnapshots(ulong written)
    {
        if (_snapshotsToKeep == 0)
        {
            return;
        }

        var numbers = new List<ulong>();
        foreach (string path in _fs.EnumerateFiles(_directory, SnapshotPrefix + "*" + SnapshotExtension))
        {
            if (TryParseNumberedName(Path.GetFileName(path), SnapshotPrefix, SnapshotExtension, out ulong number) && number != written)
            {
                numbers.Add(number);
            }
        }

        // The one just written counts as kept; the newest others fill the rest of the allowance.
        numbers.Sort();
        int deletable = numbers.Count - (_snapshotsToKeep - 1);
        for (int i = 0; i < deletable; i++)
        {
            // A file that cannot be deleted now is retried after the next snapshot.
            TryDelete(SnapshotPath(numbers[i]));
        }
    }

    private static void SnapshotChecksum(ReadOnlySpan<byte> header, ReadOnlySequence<byte> state, Span<byte> destination)
    {
        var hash = new XxHash128();
        hash.Append(header[..SnapshotChecksumOffset]);
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            hash.Append(segment.Span);
        }

        hash.GetCurrentHash(destination);
    }

    private static void SnapshotSha256(ReadOnlySpan<byte> header, ReadOnlySequence<byte> state, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header[..SnapshotChecksumOffset]);
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            hash.AppendData(segment.Span);
        }

        hash.GetHashAndReset(destination);
    }

    /// <inheritdoc />
    /// <remarks>
    /// <para>A state of 16 MiB or more is returned as a read-only (copy-on-write) memory mapping of the snapshot file, in
    /// windows of up to 1 GiB, not as a copy: the pages come from the page cache, so a large snapshot costs no fresh memory
    /// (the kernel must fault in and zero fresh pages for a copy, which on a virtual machine with free page reporting made
    /// copying a large snapshot the largest cost of an engine's open). The returned <see cref="LedgerSnapshot"/> owns the
    /// mapping: it stays valid until disposed, even after this store is disposed or the file deleted (a pruned snapshot),
    /// and is unmapped when disposed. A smaller state is an array, as is any state on a file system that cannot map (in
    /// arrays of up to 1 GiB). A state of any length is returned.</para>
    /// <para>The first read after <see cref="OpenAsync"/> returns the snapshot the open verified, without reading it
    /// again; later reads read and verify the file (every byte against its checksum) before returning it.</para>
    /// <para><b>I/O errors under a mapping.</b> A mapped page is read from the disk when first touched; if that read fails
    /// the operating system signals the process (SIGBUS on Unix), which .NET does not turn into an exception: the process
    /// ends, where a copied read would have thrown an <see cref="IOException"/>. The checksum pass reads every page before
    /// the snapshot is returned, so only a page the kernel dropped from its cache since, and then fails to read again, can
    /// do this.</para>
    /// </remarks>
    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerSnapshot?>(cancellationToken);
        }

        try
        {
            ThrowIfNotOpen();
            LedgerSnapshot? found = FindLatestSnapshot(takeRecovered: true);
            if (found?.Owner is SnapshotMapping)
            {
                Interlocked.Increment(ref _mappedSnapshotsReturned);
            }

            return new ValueTask<LedgerSnapshot?>(found);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<LedgerSnapshot?>(e);
        }
    }

    /// <summary>
    /// The newest snapshot that reads back intact, or null; the caller owns it (and its mapping, if it is one). With
    /// <paramref name="takeRecovered"/>, the one verified by OpenAsync is returned (once) instead of being read again
    /// when it is still the newest.
    /// </summary>
    private LedgerSnapshot? FindLatestSnapshot(bool takeRecovered)
    {
        List<ulong> numbers = [.. ListSnapshotFiles(_fs, _directory).Select(f => f.Batch)];
        var rejected = new List<string>();
        try
        {
            for (int i = numbers.Count - 1; i >= 0; i--)
            {
                if (takeRecovered && TakeRecoveredSnapshot(numbers[i]) is { } recovered)
                {
                    return recovered;
                }

                string? problem = TryReadSnapshot(numbers[i], out LedgerSnapshot? snapshot);
                if (problem is null)
                {
                    return snapshot;
                }

                rejected.Add($"'{SnapshotPath(numbers[i])}': {problem}");
            }

            return null;
        }
        finally
        {
            Volatile.Write(ref _rejectedSnapshots, rejected);
        }
    }

    private LedgerSnapshot? TakeRecoveredSnapshot(ulong batchNumber)
    {
        lock (_recoveredSnapshotLock)
        {
            if (_recoveredSnapshot is { } recovered && recovered.BatchNumber == batchNumber)
            {
                _recoveredSnapshot = null;
                return recovered;
            }

            return null;
        }
    }

    private void DropRecoveredSnapshot()
    {
        LedgerSnapshot? recovered;
        lock (_recoveredSnapshotLock)
        {
            recovered = _recoveredSnapshot;
            _recoveredSnapshot = null;
        }

        // Never handed out, so nobody else can be using it.
        recovered?.Dispose();
    }

    /// <summary>Reads and verifies the snapshot of <paramref name="batchNumber"/>; returns null, or why it cannot be used.</summary>
    private string? TryReadSnapshot(ulong batchNumber, out LedgerSnapshot? snapshot)
    {
        snapshot = null;
        string path = SnapshotPath(batchNumber);
        StoreFile handle;
        try
        {
            handle = _fs.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Deleted (pruned meanwhile) or unreadable: treated like a damaged snapshot, the previous one is used.
            return $"the file cannot be opened ({e.Message})";
        }

        using (handle)
        {
            try
            {
                return TryReadSnapshot(handle, batchNumber, MapSnapshotsFrom, MapWindowBytes, out snapshot);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"the file cannot be read ({e.Message})";
            }
        }
    }

    /// <summary>
    /// Reads and verifies a snapshot file: a state of <paramref name="mapFrom"/> bytes or more is mapped (when the file
    /// system can), anything else read into arrays of at most <paramref name="windowBytes"/>. Reads only.
    /// </summary>
    private static string? TryReadSnapshot(StoreFile handle, ulong batchNumber, int mapFrom, int windowBytes, out LedgerSnapshot? snapshot)
    {
        snapshot = null;
        long fileLength = handle.Length;
        if (fileLength < SnapshotHeaderSize)
        {
            return $"the file is {fileLength} bytes, shorter than its {SnapshotHeaderSize}-byte header (torn or truncated)";
        }

        Span<byte> header = stackalloc byte[SnapshotHeaderSize];
        if (ReadFully(handle, header, 0) != SnapshotHeaderSize)
        {
            return "the header cannot be read whole";
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        int reservedFrom = version == SnapshotVersionSha256 ? SnapshotChecksumOffset + 32 : SnapshotChecksumOffset + 16;
        string? problem =
            BinaryPrimitives.ReadUInt32LittleEndian(header) != SnapshotMagic ? "the magic is not \"MPSS\"" :
            version is not (SnapshotVersion or SnapshotVersionSha256) ? $"unsupported snapshot version {version}" :
            BinaryPrimitives.ReadUInt16LittleEndian(header[6..]) != SnapshotHeaderSize ? "the header size is not 64" :
            BinaryPrimitives.ReadUInt64LittleEndian(header[8..]) != batchNumber ? "the header's batch number does not match the file name" :
            header[reservedFrom..].IndexOfAnyExcept((byte)0) >= 0 ? "the header's reserved bytes are not zero" :
            length < 0 ? $"the header gives a negative state length ({length})" :
            length != fileLength - SnapshotHeaderSize
                ? $"the header gives {length} state bytes but the file holds {fileLength - SnapshotHeaderSize} (torn or truncated)"
                : null;
        if (problem is not null)
        {
            return problem;
        }

        // A large state is mapped (see ReadLatestSnapshotAsync); a small one, or any where the file system cannot map, is
        // read into arrays of at most windowBytes each, so no length is too large for either.
        ReadOnlySequence<byte> state;
        SnapshotMapping? mapping = null;
        if (length >= mapFrom && length > 0 && handle.TryMap(SnapshotHeaderSize, length) is { } mapped)
        {
            mapping = mapped;
            state = mapping.CreateSequence(windowBytes);
        }
        else
        {
            var parts = new List<ReadOnlyMemory<byte>>((int)Math.Max(1, (length + windowBytes - 1) / windowBytes));
            for (long offset = 0; offset < length; offset += windowBytes)
            {
                byte[] bytes = GC.AllocateUninitializedArray<byte>((int)Math.Min(windowBytes, length - offset));
                if (ReadFully(handle, bytes, SnapshotHeaderSize + offset) != bytes.Length)
                {
                    return "the state cannot be read whole";
                }

                parts.Add(bytes);
            }

            state = Sequences.Join(parts);
        }

        bool intact;
        if (version == SnapshotVersionSha256)
        {
            Span<byte> hash = stackalloc byte[32];
            SnapshotSha256(header, state, hash);
            intact = hash.SequenceEqual(header.Slice(SnapshotChecksumOffset, 32));
        }
        else
        {
            Span<byte> checksum = stackalloc byte[16];
            SnapshotChecksum(header, state, checksum);
            intact = checksum.SequenceEqual(header.Slice(SnapshotChecksumOffset, 16));
        }

        if (!intact)
        {
            mapping?.Dispose();
            return version == SnapshotVersionSha256
                ? "the SHA-256 (format version 1) does not match: the file is damaged"
                : "the XxHash128 checksum does not match: the file is damaged";
        }

        snapshot = new LedgerSnapshot(batchNumber, state, mapping);
        return null;
    }

    private string SnapshotPath(ulong batchNumber) =>
        LocationOf(SnapshotPrefix + batchNumber.ToString("D20", CultureInfo.InvariantCulture) + SnapshotExtension);

    /// <summary>
    /// Deletes the segments whose batches all lie at or below the latest intact snapshot; the segment being appended
    /// to is always kept. Never runs on its own: call it after writing a snapshot, when the disk space matters.
    /// </summary>
    /// <param name="cancellationToken">Cancels compaction before it deletes anything.</param>
    /// <returns>The number of segment files deleted.</returns>
    /// <exception cref="InvalidOperationException">The store is not open.</exception>
    /// <exception cref="LedgerStoreException">A segment cannot be deleted.</exception>
    public ValueTask<int> CompactAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            ThrowIfNotOpen();
            LedgerSnapshot? latest = FindLatestSnapshot(takeRecovered: false);
            latest?.Dispose();
            ulong covered = latest?.BatchNumber ?? 0;
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<int>(DeleteCoveredSegments(covered));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    private int DeleteCoveredSegments(ulong covered)
    {
        lock (_writeLock)
        {
            ThrowIfNotOpen();
            Segment[] segments = _segments;
            int deleted = 0;
            string step = $"the fsync of the directory '{_directory}' (before deleting)";
            try
            {
                // The snapshot that covers the segments must be durable before they go: its rename was fsync'd when it
                // was written, unless that directory fsync failed, and file systems need not order entries by themselves.
                _fs.SyncDirectory(_directory);

                // Oldest first, so that a failure part-way leaves a journal that still starts at a segment boundary.
                // The segment holding the journal's last batch is kept even when the snapshot covers it and a newer,
                // still empty segment follows (an append that failed after creating it): open needs that batch's
                // hash, which the next batch must carry and which nothing else stores (the disk-model tests found a
                // journal compacted down to an empty segment, reopened with a zero hash).
                ulong lastBatch = _lastBatchNumber;
                while (deleted < segments.Length - 1 && segments[deleted].LastBatchNumber <= covered && segments[deleted].LastBatchNumber < lastBatch)
                {
                    step = $"the deletion of the segment '{segments[deleted].Path}'";
                    _fs.Delete(segments[deleted].Path);
                    deleted++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new LedgerStoreException($"Compaction failed at {step}: {e.Message}", e);
            }
            finally
            {
                if (deleted > 0)
                {
                    Volatile.Write(ref _segments, segments[deleted..]);
                }
            }

            if (deleted > 0)
            {
                try
                {
                    // Deletions that a power cut takes back only bring back segments the snapshot covers: harmless.
                    _fs.SyncDirectory(_directory);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new LedgerStoreException($"Compaction deleted {deleted} segments but the directory '{_directory}' cannot be made durable.", e);
                }
            }

            return deleted;
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            _fs.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover *.tmp file is removed on the next open.
        }
    }
}
