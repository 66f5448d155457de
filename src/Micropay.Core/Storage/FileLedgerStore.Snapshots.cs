using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Micropay.Core.Storage;

// Snapshots and compaction.
//
// A snapshot file, snapshot-{batch, 20 digits}.snap, is a 64-byte header followed by the state bytes:
// offset size field
//      0    4 Magic        "MPSS" (0x4D 0x50 0x53 0x53)
//      4    2 Version      1
//      6    2 HeaderSize   64
//      8    8 BatchNumber  the last batch the snapshot includes; also in the file name
//     16    8 StateLength  the number of state bytes after the header
//     24   32 Sha256       SHA-256 of header bytes 0..23 || state
//     56    8 Reserved     0
// It is written as snapshot-{batch}.tmp, fsync'd, renamed into place and the directory fsync'd, so after a crash it is
// wholly there or absent; a damaged one (disk fault) fails its checksum and the previous snapshot is used instead.
public sealed partial class FileLedgerStore
{
    internal const string SnapshotPrefix = "snapshot-";
    internal const string SnapshotExtension = ".snap";
    internal const int SnapshotHeaderSize = 64;
    private const uint SnapshotMagic = 0x5353_504D; // "MPSS"
    private const ushort SnapshotVersion = 1;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchNumber"/> is 0 or above the last durable batch.</exception>
    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
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
                WriteSnapshotCore(batchNumber, state.Span, cancellationToken);
                PruneSnapshots(batchNumber);
            }

            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private void WriteSnapshotCore(ulong batchNumber, ReadOnlySpan<byte> state, CancellationToken cancellationToken)
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
        SnapshotHash(header, state, header.Slice(24, 32));
        bool renamed = false;
        try
        {
            using (var file = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                RandomAccess.Write(file, header, 0);
                RandomAccess.Write(file, state, SnapshotHeaderSize);
                cancellationToken.ThrowIfCancellationRequested();
                RandomAccess.FlushToDisk(file);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, path, overwrite: true);
            renamed = true;
            SyncDirectory(_directory);
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
        foreach (string path in Directory.EnumerateFiles(_directory, SnapshotPrefix + "*" + SnapshotExtension))
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

    private static void SnapshotHash(ReadOnlySpan<byte> header, ReadOnlySpan<byte> state, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header[..24]);
        hash.AppendData(state);
        hash.GetHashAndReset(destination);
    }

    /// <inheritdoc />
    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerSnapshot?>(cancellationToken);
        }

        try
        {
            ThrowIfNotOpen();
            return new ValueTask<LedgerSnapshot?>(FindLatestSnapshot());
        }
        catch (Exception e)
        {
            return ValueTask.FromException<LedgerSnapshot?>(e);
        }
    }

    /// <summary>The newest snapshot that reads back intact, or null.</summary>
    private LedgerSnapshot? FindLatestSnapshot()
    {
        var numbers = new List<ulong>();
        foreach (string path in Directory.EnumerateFiles(_directory, SnapshotPrefix + "*" + SnapshotExtension))
        {
            if (TryParseNumberedName(Path.GetFileName(path), SnapshotPrefix, SnapshotExtension, out ulong number))
            {
                numbers.Add(number);
            }
        }

        numbers.Sort();
        for (int i = numbers.Count - 1; i >= 0; i--)
        {
            LedgerSnapshot? snapshot = TryReadSnapshot(numbers[i]);
            if (snapshot is not null)
            {
                return snapshot;
            }
        }

        return null;
    }

    private LedgerSnapshot? TryReadSnapshot(ulong batchNumber)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(SnapshotPath(batchNumber));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Deleted or unreadable: treated like a damaged snapshot, the previous one is used.
            return null;
        }

        if (bytes.Length < SnapshotHeaderSize)
        {
            return null;
        }

        ReadOnlySpan<byte> header = bytes.AsSpan(0, SnapshotHeaderSize);
        long length = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != SnapshotMagic ||
            BinaryPrimitives.ReadUInt16LittleEndian(header[4..]) != SnapshotVersion ||
            BinaryPrimitives.ReadUInt16LittleEndian(header[6..]) != SnapshotHeaderSize ||
            BinaryPrimitives.ReadUInt64LittleEndian(header[8..]) != batchNumber ||
            length != bytes.Length - SnapshotHeaderSize ||
            header[56..].IndexOfAnyExcept((byte)0) >= 0)
        {
            return null;
        }

        ReadOnlyMemory<byte> state = bytes.AsMemory(SnapshotHeaderSize);
        Span<byte> hash = stackalloc byte[32];
        SnapshotHash(header, state.Span, hash);
        return hash.SequenceEqual(header.Slice(24, 32)) ? new LedgerSnapshot(batchNumber, state) : null;
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
            ulong covered = FindLatestSnapshot()?.BatchNumber ?? 0;
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
            try
            {
                // Oldest first, so that a failure part-way leaves a journal that still starts at a segment boundary.
                while (deleted < segments.Length - 1 && segments[deleted].LastBatchNumber <= covered)
                {
                    File.Delete(segments[deleted].Path);
                    deleted++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new LedgerStoreException($"The segment '{segments[deleted].Path}' cannot be deleted during compaction.", e);
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
                SyncDirectory(_directory);
            }

            return deleted;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover *.tmp file is removed on the next open.
        }
    }
}
