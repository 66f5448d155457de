using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace Micropay.Core.Storage;

// Read-only access to a store's files without opening the store (no lock, no truncation, no fsync): listing the segments
// and snapshots, reading a segment's header and walking its records, resynchronizing past damage. For an offline auditor
// (Engine's AuditVerifier), which must report what it finds and change nothing. Built on the same framing and checksum
// code as the store's own open (FileLedgerStore.Format.cs), never a copy of it.
public sealed partial class FileLedgerStore
{
    /// <summary>The segment files in <paramref name="directory"/> (by the first batch in their name), in batch order.</summary>
    internal static List<(ulong First, string Path)> ListSegmentFiles(StoreFileSystem fs, string directory) =>
        ListNumberedFiles(fs, directory, SegmentPrefix, SegmentExtension);

    /// <summary>The snapshot files in <paramref name="directory"/> (by the batch in their name), in batch order.</summary>
    internal static List<(ulong Batch, string Path)> ListSnapshotFiles(StoreFileSystem fs, string directory) =>
        ListNumberedFiles(fs, directory, SnapshotPrefix, SnapshotExtension);

    private static List<(ulong Number, string Path)> ListNumberedFiles(StoreFileSystem fs, string directory, string prefix, string extension)
    {
        var files = new List<(ulong Number, string Path)>();
        foreach (string path in fs.EnumerateFiles(directory, prefix + "*" + extension))
        {
            if (TryParseNumberedName(Path.GetFileName(path), prefix, extension, out ulong number))
            {
                files.Add((number, path));
            }
        }

        files.Sort((a, b) => a.Number.CompareTo(b.Number));
        return files;
    }

    /// <summary>Reads and checks a segment's file header; returns null when it is sound, else what is wrong and where (<paramref name="badOffset"/>).</summary>
    internal static string? ReadSegmentHeader(StoreFile file, out ulong salt, out ulong firstBatchNumber, out long badOffset)
    {
        salt = 0;
        firstBatchNumber = 0;
        badOffset = 0;
        long length = file.Length;
        if (length < FileHeaderSize)
        {
            return $"the file is {length} bytes, shorter than its {FileHeaderSize}-byte header";
        }

        Span<byte> header = stackalloc byte[FileHeaderSize];
        return ReadFully(file, header, 0) != FileHeaderSize ? "the file header cannot be read whole" : ParseFileHeader(header, out salt, out firstBatchNumber, out badOffset);
    }

    /// <summary>
    /// Walks the records of a segment whose header is sound (<see cref="ReadSegmentHeader"/>), from its first record to
    /// its end, reading only: each whole record whose checksum verifies and whose batch parses and matches its frame, and
    /// each stretch of damage (from a bad record to the next record that verifies, or to the end of the file), once.
    /// A returned batch's memory is valid until the enumeration moves on.
    /// </summary>
    internal static IEnumerable<ScannedRecord> ScanSegment(StoreFile file, ulong salt)
    {
        long length = file.Length;
        long offset = FileHeaderSize;
        using var scanner = new RecordScanner(file, salt);
        while (offset < length)
        {
            RecordStatus status = scanner.TryRead(offset, length, out ulong frameBatch, out ReadOnlyMemory<byte> payload);
            string? problem;
            long end;
            if (status == RecordStatus.Ok)
            {
                CommitBatchParseResult parse = CommitBatch.TryParse(payload, out CommitBatch batch);
                if (parse == CommitBatchParseResult.Ok && batch.BatchNumber == frameBatch)
                {
                    yield return new ScannedRecord(offset, FrameSize + payload.Length, frameBatch, true, batch, null);
                    offset += FrameSize + payload.Length;
                    continue;
                }

                // The frame is sound, so the damage is this record only.
                problem = parse != CommitBatchParseResult.Ok
                    ? $"the record's checksum verifies but its batch does not parse ({parse})"
                    : $"the frame says batch {frameBatch} but the batch header says {batch.BatchNumber}";
                end = offset + FrameSize + payload.Length;
            }
            else
            {
                problem = Describe(status);
                long next = FindValidRecord(file, salt, offset + 1, length);
                end = next < 0 ? length : next;
            }

            ulong? named = ReadFrameBatchNumber(file, offset, length);
            yield return new ScannedRecord(offset, end - offset, named ?? 0, named is not null, default, problem);
            offset = end;
        }
    }

    /// <summary>
    /// Reads and checks the snapshot file of <paramref name="batchNumber"/> at <paramref name="path"/> without a store
    /// (read-only, into arrays); returns null with the snapshot, which the caller disposes, or why it cannot be used.
    /// </summary>
    internal static string? TryReadSnapshotFile(StoreFileSystem fs, string path, ulong batchNumber, out LedgerSnapshot? snapshot)
    {
        snapshot = null;
        try
        {
            using StoreFile handle = fs.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return TryReadSnapshot(handle, batchNumber, mapFrom: int.MaxValue, SnapshotMapping.DefaultWindowBytes, out snapshot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the file cannot be read ({e.Message})";
        }
    }

    /// <summary>
    /// The offset of the first record with a verifying checksum that starts in [<paramref name="start"/>,
    /// <paramref name="end"/>), or -1. Searches for the record magic chunk by chunk (so a damaged length field cannot
    /// hide a good record), and checks each candidate whole.
    /// </summary>
    private static long FindValidRecord(StoreFile handle, ulong salt, long start, long end)
    {
        const int ChunkSize = 1 << 20;
        ReadOnlySpan<byte> magic = [0x4D, 0x50, 0x52, 0x43];
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkSize + magic.Length - 1);
        var crc = new Crc32(Crc32ParameterSet.Crc32C);
        try
        {
            for (long at = start; end - at >= FrameSize; at += ChunkSize)
            {
                // Each chunk overlaps the next by the magic's length less one, so a magic across the boundary is found once.
                int read = ReadFully(handle, chunk.AsSpan(0, (int)Math.Min(ChunkSize + magic.Length - 1, end - at)), at);
                ReadOnlySpan<byte> data = chunk.AsSpan(0, read);
                int position = 0;
                while (true)
                {
                    int found = data[position..].IndexOf(magic);
                    if (found < 0 || position + found >= ChunkSize)
                    {
                        break;
                    }

                    position += found;
                    if (IsValidRecordAt(handle, crc, salt, at + position, end))
                    {
                        return at + position;
                    }

                    position++;
                }

                if (read < Math.Min(ChunkSize, end - at))
                {
                    break;
                }
            }

            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Whether a whole record whose checksum verifies starts at <paramref name="offset"/> and ends by <paramref name="end"/>.</summary>
    private static bool IsValidRecordAt(StoreFile handle, Crc32 crc, ulong salt, long offset, long end)
    {
        Span<byte> frame = stackalloc byte[FrameSize];
        if (end - offset < FrameSize || ReadFully(handle, frame, offset) != FrameSize)
        {
            return false;
        }

        long length = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(frame) != RecordMagic || !IsPlausiblePayloadLength(length) || offset + FrameSize + length > end)
        {
            return false;
        }

        byte[] record = ArrayPool<byte>.Shared.Rent(checked((int)(FrameSize + length)));
        try
        {
            int total = ReadFully(handle, record.AsSpan(0, (int)(FrameSize + length)), offset);
            return total == FrameSize + length && IsValidRecordAt(record.AsSpan(0, total), crc, salt);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }
}

/// <summary>
/// What <see cref="FileLedgerStore.ScanSegment"/> found at one place of a segment: a sound record (<see cref="Problem"/>
/// null, <see cref="Batch"/> set) or a stretch of damage.
/// </summary>
/// <param name="Offset">Where the record (or the damage) starts in the file.</param>
/// <param name="Length">The record's length with its frame, or the damaged stretch's (up to the next sound record or the file's end).</param>
/// <param name="BatchNumber">The batch number its frame names (for damage, only when <paramref name="BatchNumberKnown"/>: a frame with the record magic lies there).</param>
/// <param name="BatchNumberKnown">Whether <paramref name="BatchNumber"/> was read from a frame.</param>
/// <param name="Batch">The parsed batch of a sound record (its memory valid until the scan moves on).</param>
/// <param name="Problem">What is wrong, for damage; null for a sound record.</param>
internal readonly record struct ScannedRecord(long Offset, long Length, ulong BatchNumber, bool BatchNumberKnown, CommitBatch Batch, string? Problem);
