using System.Buffers.Binary;
using System.Globalization;

namespace Micropay.Core.Storage;

// Opening: take the directory lock, verify every segment, cut a torn tail, refuse anything else that is wrong.
//
// What open checks, and why not more: every record's frame, CRC-32C, batch header and batch number, in every segment,
// so a torn tail is cut and damage anywhere else is refused (a snapshot is a cache: the journal under it must stay
// sound, since an older snapshot or a full replay may need it). The SHA-256 chain is recomputed only from the latest
// intact snapshot's batch onward (from batch 1 with VerifyHashChainOnOpen or without a snapshot): the store needs the
// hash of that batch to check the next batch's PreviousBatchHash, and the last batch's hash for the next append. A
// chain link below the snapshot could only be wrong in a record that was rewritten with a valid CRC, which is
// tampering, not a crash or a disk fault, and SHA-256 of a whole large journal would be the largest part of opening it.
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                CloseHandles();
                throw new LedgerStoreException($"The ledger store '{_directory}' cannot be opened: {e.Message}", e);
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
            _lockFile = _fs.Lock(path);
        }
        catch (IOException e)
        {
            throw new LedgerStoreException(
                $"The ledger store '{_directory}' is in use: another process (or another FileLedgerStore) holds its lock file '{path}' ({e.Message}).", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new LedgerStoreException($"The ledger store's lock file '{path}' cannot be opened.", e);
        }
    }

    private LedgerStoreState Recover(CancellationToken cancellationToken)
    {
        bool removeMarker = CheckWriteFailedMarker();
        List<(ulong First, string Path)> files = ListSegmentFiles(_fs, _directory);
        LedgerSnapshot? snapshot = FindLatestSnapshot(takeRecovered: false);
        ulong latestSnapshot = snapshot?.BatchNumber ?? 0;

        // Batches from this one on get their SHA-256 recomputed and chain-checked (see the file comment).
        ulong hashFrom = _verifyHashChainOnOpen || latestSnapshot == 0 ? 1 : latestSnapshot;
        var segments = new List<Segment>(files.Count);
        ulong last = 0;
        BatchHash lastHash = BatchHash.Zero;
        DiscardedJournalTail? discarded = null;
        StoreFile? activeFile = null;
        try
        {
            for (int i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                bool isLast = i == files.Count - 1;
                (ulong nameFirst, string path) = files[i];
                // Read-write even for sealed segments: each is fsync'd below, and Windows flushes only writable handles.
                StoreFile file = OpenSegment(path, FileAccess.ReadWrite);
                try
                {
                    Segment segment = VerifySegment(file, path, nameFirst, isFirst: i == 0, isLast, latestSnapshot, hashFrom, ref last, ref lastHash, ref discarded);
                    segments.Add(segment);

                    // Recovery trusts every record it just read, so it must be durable before it is reported: a process
                    // killed between an append's write and its fsync leaves the record in the page cache only, and a
                    // power cut after this open would otherwise take back a batch the engine has replayed and served.
                    SyncSegment(file, path);
                }
                finally
                {
                    if (isLast)
                    {
                        activeFile = file;
                    }
                    else
                    {
                        file.Dispose();
                    }
                }
            }

            bool holdsNoBatch = segments.Count > 0 && last < segments[0].FirstBatchNumber;
            if (holdsNoBatch && last > 0)
            {
                // Compacted down to segments that hold no batch (CompactAsync keeps the last batch's segment, so only a
                // journal compacted otherwise looks like this): the last batch's hash, which the next append must carry,
                // is gone with its segment.
                throw new LedgerStoreCorruptedException(
                    segments[0].Path,
                    FileHeaderSize,
                    $"the journal starts at batch {segments[0].FirstBatchNumber} but holds no batch, so the hash of batch {last}, which the next batch must carry, is unknown");
            }

            if (latestSnapshot > last)
            {
                throw new LedgerStoreCorruptedException(
                    SnapshotPath(latestSnapshot), 0, $"the snapshot is of batch {latestSnapshot} but the journal ends at batch {last}");
            }

            DeleteLeftoverTemporaryFiles();

            // The directory entries recovery relies on (segment and snapshot renames, the truncation's file, deletions of
            // leftovers) become durable before the state is reported, and so does the store directory's own entry in its
            // parent: the constructor syncs the parent when it creates the directory, but a process killed in between
            // leaves a directory that every later constructor finds and a power cut can still take away, segments and all
            // (the disk-model tests found this). Then a marker from an earlier boot has done its job.
            SyncDirectoryAtOpen(_directory);
            if (Path.GetDirectoryName(_directory) is { } parent)
            {
                SyncDirectoryAtOpen(parent);
            }

            if (removeMarker)
            {
                _fs.Delete(LocationOf(WriteFailedMarkerName));
                SyncDirectoryAtOpen(_directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            activeFile?.Dispose();
            snapshot?.Dispose();
            throw new LedgerStoreException($"The ledger store '{_directory}' cannot be opened: {e.Message}", e);
        }
        catch
        {
            activeFile?.Dispose();
            snapshot?.Dispose();
            throw;
        }

        lock (_recoveredSnapshotLock)
        {
            _recoveredSnapshot = snapshot;
        }

        _activeFile = activeFile;
        _startSegmentOnAppend = true;
        _lastBatchHash = lastHash;
        _segments = [.. segments];
        Volatile.Write(ref _lastBatchNumber, last);
        return new LedgerStoreState(last, lastHash, latestSnapshot) { DiscardedTail = discarded };
    }

    private static void SyncSegment(StoreFile file, string path)
    {
        try
        {
            file.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException(
                $"The segment '{path}' cannot be made durable (fsync failed), so what it holds cannot be reported as durable.", e);
        }
    }

    private void SyncDirectoryAtOpen(string directory)
    {
        try
        {
            _fs.SyncDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The directory '{directory}' cannot be made durable (fsync failed), so the store's state cannot be reported as durable.", e);
        }
    }

    private Segment VerifySegment(
        StoreFile handle,
        string path,
        ulong nameFirst,
        bool isFirst,
        bool isLast,
        ulong latestSnapshot,
        ulong hashFrom,
        ref ulong last,
        ref BatchHash lastHash,
        ref DiscardedJournalTail? discarded)
    {
        long length = handle.Length;
        if (length < FileHeaderSize)
        {
            throw new LedgerStoreCorruptedException(path, 0, $"the file is {length} bytes, shorter than its {FileHeaderSize}-byte header");
        }

        Span<byte> header = stackalloc byte[FileHeaderSize];
        if (ReadFully(handle, header, 0) != FileHeaderSize)
        {
            throw new LedgerStoreCorruptedException(path, 0, "the file header cannot be read whole");
        }

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
                    if (isLast && length - offset > FrameSize + MaxPayloadLength)
                    {
                        // Only one append is ever in flight and a failed one stops the store, so a torn tail is at most one
                        // record: anything longer is damage, whatever it holds (and is not read into memory to find out).
                        throw new LedgerStoreCorruptedException(
                            path, offset, $"{Describe(status)}, and the {length - offset} bytes from there are more than one record can hold ({FrameSize + MaxPayloadLength})");
                    }

                    if (status != RecordStatus.BadReserved && isLast && FindValidRecord(handle, salt, offset + 1, length) < 0)
                    {
                        // A torn tail: the append that wrote it never completed, so it was never acknowledged. Reported,
                        // since a flipped bit in an acknowledged last record looks exactly the same.
                        discarded = new DiscardedJournalTail(path, offset, length - offset, ReadFrameBatchNumber(handle, offset, length), Describe(status));
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

    /// <summary>The batch number in the frame at <paramref name="offset"/>, when a frame with the record magic lies there whole; else null.</summary>
    private static ulong? ReadFrameBatchNumber(StoreFile handle, long offset, long length)
    {
        if (length - offset < FrameSize)
        {
            return null;
        }

        Span<byte> frame = stackalloc byte[FrameSize];
        return ReadFully(handle, frame, offset) == FrameSize && BinaryPrimitives.ReadUInt32LittleEndian(frame) == RecordMagic
            ? BinaryPrimitives.ReadUInt64LittleEndian(frame[8..])
            : null;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns how many bytes were read.</summary>
    private static int ReadFully(StoreFile file, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = file.Read(buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    private static void TruncateTornTail(StoreFile handle, string path, long offset)
    {
        try
        {
            handle.SetLength(offset);
            handle.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The torn tail of '{path}' at offset {offset} cannot be truncated.", e);
        }
    }

    private StoreFile OpenSegment(string path, FileAccess access)
    {
        try
        {
            // Readers, the appender and compaction share segment files; FileShare.Delete lets compaction remove a
            // segment that a reader still has open (the reader keeps reading the unlinked file).
            return _fs.OpenFile(path, FileMode.Open, access, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The segment file '{path}' cannot be opened.", e);
        }
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
        // A *.tmp file is a segment, snapshot or marker whose creation never finished (it is renamed into place only once
        // complete and fsync'd), so nothing durable is lost by removing it.
        foreach (string path in _fs.EnumerateFiles(_directory, "*.tmp"))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith(SegmentPrefix, StringComparison.Ordinal) || name.StartsWith(SnapshotPrefix, StringComparison.Ordinal) ||
                name.StartsWith(WriteFailedMarkerName, StringComparison.Ordinal))
            {
                try
                {
                    _fs.Delete(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Harmless to leave; the next open tries again.
                }
            }
        }
    }
}
