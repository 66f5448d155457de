using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Micropay.Core.Storage;

// Opening: take the directory lock, verify every segment, cut a torn tail, refuse anything else that is wrong.
//
// What open checks, and why not more: every record's frame, CRC-32C, batch header and batch number, in every segment,
// so a torn tail is cut and damage anywhere else is refused (a snapshot is a cache: the journal under it must stay
// sound, since an older snapshot or a full replay may need it). The SHA-256 chain is recomputed only from the latest
// intact snapshot's batch onward (from batch 1 with VerifyHashChainOnOpen or without a snapshot): the store needs the
// hash of that batch to check the next batch's PreviousBatchHash, and the last batch's hash for the next append. A
// chain link below the snapshot could only be wrong in a record that was rewritten with a valid CRC, which is
// tampering, not a crash or a disk fault, and SHA-256 (~1.4 GB/s here) was the largest part of opening a large journal.
public sealed partial class FileLedgerStore
{
    /// <inheritdoc />
    public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_opened)
            {
                throw new InvalidOperationException("The store is already open.");
            }

            AcquireDirectoryLock();
            try
            {
                LedgerStoreState state = Recover(cancellationToken);
                Volatile.Write(ref _opened, true);
                return new ValueTask<LedgerStoreState>(state);
            }
            catch
            {
                CloseHandles();
                throw;
            }
        }
    }

    private void AcquireDirectoryLock()
    {
        string path = LocationOf(LockFileName);
        try
        {
            // FileShare.None: on Windows a sharing-mode lock; on Unix .NET takes an exclusive advisory flock(), which
            // another process (or another FileStream in this one) honouring the same protocol cannot also take.
            _lockFile = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException e)
        {
            throw new LedgerStoreException(
                $"The ledger store '{_directory}' is in use: another process (or another FileLedgerStore) holds its lock file '{path}'.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new LedgerStoreException($"The ledger store's lock file '{path}' cannot be opened.", e);
        }
    }

    private LedgerStoreState Recover(CancellationToken cancellationToken)
    {
        List<(ulong First, string Path)> files = ListSegmentFiles();
        StoredSnapshot? snapshot = FindLatestSnapshot(takeRecovered: false, map: true);
        ulong latestSnapshot = snapshot?.BatchNumber ?? 0;

        // Batches from this one on get their SHA-256 recomputed and chain-checked (see the file comment).
        ulong hashFrom = _verifyHashChainOnOpen || latestSnapshot == 0 ? 1 : latestSnapshot;
        var segments = new List<Segment>(files.Count);
        ulong last = 0;
        BatchHash lastHash = BatchHash.Zero;
        SafeFileHandle? activeHandle = null;
        try
        {
            for (int i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool isLast = i == files.Count - 1;
                (ulong nameFirst, string path) = files[i];
                SafeFileHandle handle = OpenSegmentHandle(path, isLast ? FileAccess.ReadWrite : FileAccess.Read);
                try
                {
                    Segment segment = VerifySegment(handle, path, nameFirst, isFirst: i == 0, isLast, latestSnapshot, hashFrom, ref last, ref lastHash);
                    segments.Add(segment);
                }
                finally
                {
                    if (isLast)
                    {
                        activeHandle = handle;
                    }
                    else
                    {
                        handle.Dispose();
                    }
                }
            }

            if (latestSnapshot > last)
            {
                throw new LedgerStoreCorruptedException(
                    SnapshotPath(latestSnapshot), 0, $"the snapshot is of batch {latestSnapshot} but the journal ends at batch {last}");
            }
        }
        catch
        {
            activeHandle?.Dispose();
            snapshot?.Release();
            throw;
        }

        lock (_recoveredSnapshotLock)
        {
            _recoveredSnapshot = snapshot;
        }

        DeleteLeftoverTemporaryFiles();
        _activeHandle = activeHandle;
        _lastBatchHash = lastHash;
        _segments = [.. segments];
        Volatile.Write(ref _lastBatchNumber, last);
        return new LedgerStoreState(last, lastHash, latestSnapshot);
    }

    private Segment VerifySegment(
        SafeFileHandle handle,
        string path,
        ulong nameFirst,
        bool isFirst,
        bool isLast,
        ulong latestSnapshot,
        ulong hashFrom,
        ref ulong last,
        ref BatchHash lastHash)
    {
        long length = RandomAccess.GetLength(handle);
        if (length < FileHeaderSize)
        {
            throw new LedgerStoreCorruptedException(path, 0, $"the file is {length} bytes, shorter than its {FileHeaderSize}-byte header");
        }

        Span<byte> header = stackalloc byte[FileHeaderSize];
        RandomAccess.Read(handle, header, 0);
        string? headerProblem = ParseFileHeader(header, out ulong salt, out ulong first, out long badOffset);
        if (headerProblem is not null)
        {
            throw new LedgerStoreCorruptedException(path, badOffset, headerProblem);
        }

        if (first != nameFirst)
        {
            throw new LedgerStoreCorruptedException(path, 16, $"the header's first batch number {first} does not match the file name");
        }

        if (isFirst)
        {
            // After compaction the journal starts above batch 1; that is only sound if a snapshot covers the rest.
            if (first > 1 && latestSnapshot < first - 1)
            {
                List<string> rejected = Volatile.Read(ref _rejectedSnapshots);
                string why = rejected.Count == 0 ? "" : "; snapshots rejected: " + string.Join("; ", rejected);
                throw new LedgerStoreCorruptedException(
                    path, 16, $"the journal starts at batch {first}, but no intact snapshot covers batches 1 to {first - 1}{why}");
            }

            last = first - 1;
        }
        else if (first != last + 1)
        {
            throw new LedgerStoreCorruptedException(
                path,
                16,
                first > last + 1
                    ? $"gap: the previous segment ends at batch {last}, this one starts at batch {first}"
                    : $"duplicate: the previous segment ends at batch {last}, this one starts again at batch {first}");
        }

        long offset = FileHeaderSize;
        using (var scanner = new RecordScanner(handle, salt))
        {
            while (offset < length)
            {
                RecordStatus status = scanner.TryRead(offset, length, out ulong frameBatch, out ReadOnlyMemory<byte> payload);
                if (status != RecordStatus.Ok)
                {
                    if (status != RecordStatus.BadReserved && isLast && !AnyValidRecordAfter(handle, salt, offset + 1, length))
                    {
                        // A torn tail: the append that wrote it never completed, so it was never acknowledged.
                        TruncateTornTail(handle, path, offset);
                        length = offset;
                        break;
                    }

                    string where = isLast ? "valid records follow it" : "the segment is not the last one";
                    throw new LedgerStoreCorruptedException(path, offset, $"{Describe(status)}, and {where}");
                }

                VerifyBatch(path, offset, frameBatch, payload, isFirstOfJournal: isFirst && last == first - 1, hashFrom, ref last, ref lastHash);
                offset += FrameSize + payload.Length;
            }
        }

        if (!isLast && last < first)
        {
            throw new LedgerStoreCorruptedException(path, FileHeaderSize, "the segment holds no batch but is not the last one");
        }

        return new Segment(path, first, salt, length, last);
    }

    private static void VerifyBatch(
        string path,
        long offset,
        ulong frameBatch,
        ReadOnlyMemory<byte> payload,
        bool isFirstOfJournal,
        ulong hashFrom,
        ref ulong last,
        ref BatchHash lastHash)
    {
        CommitBatchParseResult parse = CommitBatch.TryParse(payload, out CommitBatch batch);
        if (parse != CommitBatchParseResult.Ok)
        {
            throw new LedgerStoreCorruptedException(path, offset + FrameSize, $"the record's checksum verifies but its batch does not parse ({parse})");
        }

        ulong number = batch.BatchNumber;
        if (number != frameBatch)
        {
            throw new LedgerStoreCorruptedException(path, offset, $"the frame says batch {frameBatch} but the batch header says {number}");
        }

        if (number != last + 1)
        {
            throw new LedgerStoreCorruptedException(
                path,
                offset,
                number > last + 1
                    ? $"gap: batch {number} follows batch {last}"
                    : $"duplicate: batch {number} follows batch {last}");
        }

        // The first batch of a compacted journal chains to a batch that is gone, and the batch at hashFrom chains to
        // one whose hash was not computed; every later batch (and batch 1, to the zero hash) must chain.
        bool previousHashKnown = number == 1 || (number > hashFrom && !isFirstOfJournal);
        if (previousHashKnown && batch.Header.PreviousBatchHash != lastHash)
        {
            throw new LedgerStoreCorruptedException(
                path, offset + FrameSize + 32, $"broken hash chain: batch {number}'s previous batch hash is not the hash of batch {last}");
        }

        last = number;
        lastHash = number >= hashFrom ? BatchHash.Compute(payload.Span) : default;
    }

    /// <summary>Whether any record with a verifying checksum starts in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    private static bool AnyValidRecordAfter(SafeFileHandle handle, ulong salt, long start, long end)
    {
        if (end - start < FrameSize)
        {
            return false;
        }

        // Only on the rare path of a bad record: reads the rest of the (size-bounded) segment at once.
        int count = checked((int)(end - start));
        byte[] rest = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            int total = 0;
            while (total < count)
            {
                int read = RandomAccess.Read(handle, rest.AsSpan(total, count - total), start + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            ReadOnlySpan<byte> data = rest.AsSpan(0, total);
            ReadOnlySpan<byte> magic = [0x4D, 0x50, 0x52, 0x43];
            var crc = new Crc32(Crc32ParameterSet.Crc32C);
            int position = 0;
            while (true)
            {
                int found = data[position..].IndexOf(magic);
                if (found < 0)
                {
                    return false;
                }

                position += found;
                if (IsValidRecordAt(data[position..], crc, salt))
                {
                    return true;
                }

                position++;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rest);
        }
    }

    private static void TruncateTornTail(SafeFileHandle handle, string path, long offset)
    {
        try
        {
            RandomAccess.SetLength(handle, offset);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The torn tail of '{path}' at offset {offset} cannot be truncated.", e);
        }
    }

    private static SafeFileHandle OpenSegmentHandle(string path, FileAccess access)
    {
        try
        {
            // Readers, the appender and compaction share segment files; FileShare.Delete lets compaction remove a
            // segment that a reader still has open (the reader keeps reading the unlinked file).
            return File.OpenHandle(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The segment file '{path}' cannot be opened.", e);
        }
    }

    private List<(ulong First, string Path)> ListSegmentFiles()
    {
        var files = new List<(ulong First, string Path)>();
        foreach (string path in Directory.EnumerateFiles(_directory, SegmentPrefix + "*" + SegmentExtension))
        {
            if (TryParseNumberedName(Path.GetFileName(path), SegmentPrefix, SegmentExtension, out ulong first))
            {
                files.Add((first, path));
            }
        }

        files.Sort((a, b) => a.First.CompareTo(b.First));
        return files;
    }

    private static bool TryParseNumberedName(string fileName, string prefix, string extension, out ulong number)
    {
        number = 0;
        return fileName.Length == prefix.Length + 20 + extension.Length &&
            fileName.StartsWith(prefix, StringComparison.Ordinal) &&
            fileName.EndsWith(extension, StringComparison.Ordinal) &&
            ulong.TryParse(fileName.AsSpan(prefix.Length, 20), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    private void DeleteLeftoverTemporaryFiles()
    {
        // A *.tmp file is a segment or snapshot whose creation never finished (it is renamed into place only once
        // complete and fsync'd), so nothing durable is lost by removing it.
        foreach (string path in Directory.EnumerateFiles(_directory, "*.tmp"))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith(SegmentPrefix, StringComparison.Ordinal) || name.StartsWith(SnapshotPrefix, StringComparison.Ordinal))
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Harmless to leave; the next open tries again.
                }
            }
        }
    }
}
