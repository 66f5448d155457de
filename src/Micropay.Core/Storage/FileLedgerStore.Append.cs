using System.Buffers;
using System.Security.Cryptography;

namespace Micropay.Core.Storage;

// Appending: one write and one fsync per batch, into a pooled buffer, under the write lock.
public sealed partial class FileLedgerStore
{
    /// <inheritdoc />
    /// <remarks>The write and fsync run synchronously on the calling thread; the returned task is already complete.</remarks>
    public ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            AppendCore(batch);
            return default;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private void AppendCore(in CommitBatch batch)
    {
        lock (_writeLock)
        {
            ThrowIfNotOpen();
            ThrowIfBroken();
            ulong number = batch.BatchNumber;
            if (number == 0)
            {
                throw new ArgumentException("The batch is uninitialized (batch number 0).", nameof(batch));
            }

            ulong last = _lastBatchNumber;
            if (number <= last)
            {
                VerifyRetry(batch);
                return;
            }

            if (number != last + 1)
            {
                throw new ArgumentException($"Batch {number} would leave a gap: the next batch must be {last + 1}.", nameof(batch));
            }

            if (batch.Header.PreviousBatchHash != _lastBatchHash)
            {
                throw new ArgumentException(
                    $"Batch {number}'s previous batch hash is not the hash of batch {last} ({_lastBatchHash}).", nameof(batch));
            }

            int recordLength = FrameSize + batch.EncodedLength;
            if (_writeBuffer.Length < recordLength)
            {
                // Grows rarely (to the largest batch seen); the steady state reuses it and allocates nothing.
                if (_writeBuffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(_writeBuffer);
                }

                _writeBuffer = ArrayPool<byte>.Shared.Rent(recordLength);
            }

            batch.Encode(_writeBuffer.AsSpan(FrameSize, batch.EncodedLength));
            WriteRecordLocked(number, _writeBuffer, batch.EncodedLength, overlap: null);
        }
    }

    /// <inheritdoc />
    int IEncodedBatchAppender.RecordPrefixSize => FrameSize;

    /// <inheritdoc />
    BatchHash IEncodedBatchAppender.AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap)
    {
        lock (_writeLock)
        {
            ThrowIfNotOpen();
            ThrowIfBroken();
            ulong number = header.BatchNumber;
            ulong last = _lastBatchNumber;
            if (number != last + 1 || header.PreviousBatchHash != _lastBatchHash)
            {
                // The engine numbers and chains its batches from the store's state: anything else is a bug there.
                throw new InvalidOperationException($"Batch {number} does not follow batch {last} of the journal (number or previous hash).");
            }

            return WriteRecordLocked(number, record, payloadLength, overlap);
        }
    }

    private void ThrowIfBroken()
    {
        if (_broken)
        {
            throw new LedgerStoreException(
                $"An earlier write to the ledger store '{_directory}' failed, so this instance refuses appends: what is durable is " +
                "unknown until the store is opened again (dispose it and open it again; that open decides).");
        }
    }

    /// <summary>
    /// Frames, writes and fsyncs the record whose payload (an encoded batch) is at <c>buffer[FrameSize..]</c>, then makes
    /// it the journal's last batch. Returns the batch's chain hash. Under the write lock.
    /// </summary>
    /// <param name="number">The batch number (already checked to follow the last one).</param>
    /// <param name="buffer">FrameSize bytes of room, then the payload.</param>
    /// <param name="payloadLength">The payload's length.</param>
    /// <param name="overlap">
    /// Null for <see cref="AppendAsync"/>: a large batch is then hashed on another core. Otherwise the engine's work to run
    /// while the device writes: the hash is computed on this thread, then <see cref="IAppendOverlap.WhileWriting"/> runs,
    /// both between starting the payload's writeback and the fsync.
    /// </param>
    private BatchHash WriteRecordLocked(ulong number, byte[] buffer, int payloadLength, IAppendOverlap? overlap)
    {
        int recordLength = FrameSize + payloadLength;
        Segment[] segments = _segments;
        Segment? segment = segments.Length > 0 ? segments[^1] : null;
        if (segment is null || _startSegmentOnAppend || (segment.HasRecords && segment.DurableEnd + recordLength > _segmentSizeBytes))
        {
            segment = StartSegment(number, replaceEmpty: segment is { HasRecords: false });
        }

        Span<byte> record = buffer.AsSpan(0, recordLength);
        ReadOnlySpan<byte> payload = record.Slice(FrameSize, payloadLength);

        // The chain hash (SHA-256 of the encoded batch) is needed only after the write, to check the next batch. For a
        // large batch it is computed while the device writes the payload, so the append costs max(hash, write + fsync)
        // instead of their sum (SHA-256 can be as slow as the disk: benchmarks/README.md): on another core for
        // AppendAsync; on this thread for the engine, whose other core is busy applying the next batch. A small batch
        // hashes inline: a thread hop would cost more than the hash.
        bool large = payloadLength >= ParallelHashThreshold;
        bool hashInParallel = overlap is null && large && Environment.ProcessorCount > 1;
        BatchHash hash = default;
        if (hashInParallel)
        {
            _chainHasher.Start(buffer, FrameSize, payloadLength);
        }
        else if (!large)
        {
            hash = BatchHash.Compute(payload);
        }

        long offset = segment.DurableEnd;
        StoreFile file = _activeFile!;
        try
        {
            if (large && overlap is null)
            {
                // Write the payload first and start the device writing it, then compute the frame's CRC while it does
                // (the hash runs on another core), write the frame and fsync. Crash-safety is unchanged: nothing is
                // acknowledged before the fsync, and a frame without its payload (or the reverse) is a record that
                // fails its checksum, i.e. a torn tail.
                file.Write(payload, offset + FrameSize);
                file.StartWriteback(offset + FrameSize, payloadLength);
                EncodeFrame(record, _writeCrc, segment.Salt, number, payloadLength);
                file.Write(record[..FrameSize], offset);
            }
            else if (large)
            {
                // The engine's batch: its events were encoded by the engine's other thread, so they sit in the other
                // core's cache. The CRC pass reads them first (fast from user code), then one write copies the whole
                // record into the page cache; a write straight from the other core's lines is many times slower
                // (benchmarks/README.md, "Figures behind the design's reasons").
                // The hash and the engine's work then run while the device writes, before the fsync.
                EncodeFrame(record, _writeCrc, segment.Salt, number, payloadLength);
                file.Write(record, offset);
                file.StartWriteback(offset, recordLength);
                hash = BatchHash.Compute(payload);
                overlap!.WhileWriting();
            }
            else
            {
                overlap?.WhileWriting();
                EncodeFrame(record, _writeCrc, segment.Salt, number, payloadLength);
                file.Write(record, offset);
            }

            file.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string cleanup = BreakAfterFailedWrite(segment, offset);
            throw new LedgerStoreException(
                $"Writing batch {number} to '{segment.Path}' at offset {offset} failed, so the store refuses further appends; {cleanup}", e);
        }
        catch
        {
            // The engine's overlapped work failed (a bug there): the record may be written but is not acknowledged.
            BreakAfterFailedWrite(segment, offset);
            throw;
        }
        finally
        {
            // Always collect the hasher before leaving: it reads the write buffer, which the next append reuses.
            if (hashInParallel)
            {
                try
                {
                    hash = _chainHasher.Wait();
                }
                catch (LedgerStoreException)
                {
                    // Without the hash the next batch's chain cannot be checked: refuse appends until reopened.
                    _broken = true;
                    throw;
                }
            }
        }

        _lastBatchHash = hash;
        segment.DurableEnd = offset + recordLength;
        segment.LastBatchNumber = number;
        Volatile.Write(ref _lastBatchNumber, number);
        if (_dropJournalFromPageCache)
        {
            DropDurablePages(offset + recordLength);
        }

        return hash;
    }

    /// <summary>The newest bytes of the active segment kept in the page cache: the next append writes into their last page.</summary>
    private const long CachedJournalTail = 1L << 20;

    /// <summary>Pages are dropped in steps of at least this much, so the advice costs one system call per few batches.</summary>
    private const long JournalDropStep = 4L << 20;

    // Writer (under the write lock): the offset of the active segment below which its pages were dropped from the cache.
    private long _journalDroppedTo;

    /// <summary>Drops the active segment's durable pages from the page cache, but its newest <see cref="CachedJournalTail"/> bytes.</summary>
    private void DropDurablePages(long durableEnd)
    {
        long to = (durableEnd - CachedJournalTail) & ~4095L;
        if (to - _journalDroppedTo >= JournalDropStep)
        {
            _activeFile!.DropFromPageCache(_journalDroppedTo, to - _journalDroppedTo);
            _journalDroppedTo = to;
        }
    }

    /// <summary>
    /// Creates the next segment atomically (temporary file, fsync, rename, fsync the directory) and makes it active. With
    /// <paramref name="replaceEmpty"/> the new file replaces the active segment, which holds no batch and has the same name.
    /// </summary>
    private Segment StartSegment(ulong firstBatchNumber, bool replaceEmpty)
    {
        string path = LocationOf(SegmentFileName(firstBatchNumber));
        string temporary = Path.ChangeExtension(path, ".tmp");
        ulong salt = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
        StoreFile? file = null;
        try
        {
            using (StoreFile creating = _fs.OpenFile(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                Span<byte> header = stackalloc byte[FileHeaderSize];
                EncodeFileHeader(header, salt, firstBatchNumber);
                creating.Write(header, 0);
                creating.Flush();
            }

            _fs.Move(temporary, path, overwrite: replaceEmpty);
            _fs.SyncDirectory(_directory);
            file = _fs.OpenFile(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing of the journal changed: a segment that holds only its header is empty wherever it ends up (a
            // leftover *.tmp is removed on open). Refused anyway, like every failed write: the disk is not trusted.
            file?.Dispose();
            _broken = true;
            throw new LedgerStoreException($"The segment file '{path}' cannot be created, so the store refuses further appends; dispose it and open it again.", e);
        }

        if (_dropJournalFromPageCache && _activeFile is not null)
        {
            // The previous segment is sealed and durable: none of it is written again.
            _activeFile.DropFromPageCache(0, 0);
        }

        _activeFile?.Dispose();
        _activeFile = file;
        _journalDroppedTo = 0;
        _startSegmentOnAppend = false;
        var segment = new Segment(path, firstBatchNumber, salt, FileHeaderSize, firstBatchNumber - 1);
        Volatile.Write(ref _segments, replaceEmpty ? [.. _segments[..^1], segment] : [.. _segments, segment]);
        return segment;
    }

    /// <summary>A batch at or below the last durable one: a retry, accepted only if its bytes equal the stored batch.</summary>
    private void VerifyRetry(in CommitBatch batch)
    {
        ulong number = batch.BatchNumber;
        Segment[] segments = _segments;
        Segment? segment = FindSegment(segments, number);
        if (segment is null)
        {
            throw new LedgerStoreException(
                $"Batch {number} was durable but has been compacted away, so a retry of it cannot be compared with it.");
        }

        // The rare path of a retry: allocations are acceptable here.
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        using StoreFile handle = OpenSegment(segment.Path, FileAccess.Read);
        using var scanner = new RecordScanner(handle, segment.Salt);
        long offset = FileHeaderSize;
        long limit = segment.DurableEnd;
        while (offset < limit)
        {
            RecordStatus status = scanner.TryRead(offset, limit, out ulong stored, out ReadOnlyMemory<byte> payload);
            if (status != RecordStatus.Ok)
            {
                throw new LedgerStoreCorruptedException(segment.Path, offset, Describe(status));
            }

            if (stored == number)
            {
                if (payload.Span.SequenceEqual(encoded))
                {
                    return;
                }

                throw new LedgerStoreException(
                    $"Batch {number} is already durable with different contents; the retried batch is not the one that was stored.");
            }

            offset += FrameSize + payload.Length;
        }

        throw new LedgerStoreCorruptedException(segment.Path, offset, $"batch {number} should be in this segment but was not found");
    }

    /// <summary>The segment holding <paramref name="batchNumber"/>, or null when it is below the first segment.</summary>
    private static Segment? FindSegment(Segment[] segments, ulong batchNumber)
    {
        int low = 0;
        int high = segments.Length - 1;
        Segment? found = null;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            if (segments[middle].FirstBatchNumber <= batchNumber)
            {
                found = segments[middle];
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }
}
