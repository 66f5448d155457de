namespace Micropay.Core.Storage;

// Reading: each enumeration has its own file handles and chunk buffer, and stops at the durable end it was given.
public sealed partial class FileLedgerStore
{
    /// <inheritdoc />
    /// <remarks>
    /// The enumeration returns the batches durable when it starts (the prefix up to the last durable batch at that
    /// moment), reading in large chunks with its own handles, so it runs alongside appends. Checksums and the batch
    /// sequence are verified; the hash chain was verified when the store opened and is extended only by verified
    /// appends. When <paramref name="fromBatchNumber"/> lies below a compaction point, the enumeration starts at the
    /// first batch still stored.
    /// </remarks>
    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(fromBatchNumber);
        ThrowIfNotOpen();
        return new BatchReader(this, fromBatchNumber, cancellationToken);
    }

    /// <summary>One enumeration of <see cref="ReadBatchesAsync"/>; enumerable once per call to GetAsyncEnumerator.</summary>
    private sealed class BatchReader(FileLedgerStore store, ulong fromBatchNumber, CancellationToken readToken) : IAsyncEnumerable<CommitBatch>
    {
        public IAsyncEnumerator<CommitBatch> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
            new Enumerator(store, fromBatchNumber, readToken, cancellationToken);
    }

    private sealed class Enumerator(FileLedgerStore store, ulong fromBatchNumber, CancellationToken readToken, CancellationToken enumeratorToken)
        : IAsyncEnumerator<CommitBatch>
    {
        private bool _started;
        private ulong _target;
        private ulong _next;
        private Segment[] _segments = [];
        private int _segmentIndex;
        private StoreFile? _handle;
        private RecordScanner? _scanner;
        private long _offset;
        private long _limit;

        public CommitBatch Current { get; private set; }

        public ValueTask<bool> MoveNextAsync()
        {
            try
            {
                return new ValueTask<bool>(MoveNext());
            }
            catch (Exception e)
            {
                return ValueTask.FromException<bool>(e);
            }
        }

        private bool MoveNext()
        {
            readToken.ThrowIfCancellationRequested();
            enumeratorToken.ThrowIfCancellationRequested();
            if (!_started)
            {
                _started = true;
                store.ThrowIfNotOpen();

                // Order matters (see FileLedgerStore's fields): the last batch first, then the segments.
                _target = Volatile.Read(ref store._lastBatchNumber);
                _segments = Volatile.Read(ref store._segments);
                if (_segments.Length == 0)
                {
                    return false;
                }

                _next = Math.Max(fromBatchNumber, _segments[0].FirstBatchNumber);
                _segmentIndex = Math.Max(0, Array.IndexOf(_segments, FindSegment(_segments, _next)));
            }

            while (_next <= _target)
            {
                if (_scanner is null)
                {
                    if (_segmentIndex >= _segments.Length)
                    {
                        throw new LedgerStoreCorruptedException(
                            store._directory, 0, $"batch {_next} should be durable but no segment holds it");
                    }

                    OpenSegment(_segments[_segmentIndex]);
                }

                Segment segment = _segments[_segmentIndex];
                if (_offset >= _limit)
                {
                    long durableEnd = segment.DurableEnd;
                    if (durableEnd > _limit)
                    {
                        _limit = durableEnd;
                        continue;
                    }

                    CloseSegment();
                    _segmentIndex++;
                    continue;
                }

                RecordStatus status = _scanner!.TryRead(_offset, _limit, out ulong frameBatch, out ReadOnlyMemory<byte> payload);
                if (status != RecordStatus.Ok)
                {
                    throw new LedgerStoreCorruptedException(segment.Path, _offset, Describe(status));
                }

                CommitBatchParseResult parse = CommitBatch.TryParse(payload, out CommitBatch batch);
                if (parse != CommitBatchParseResult.Ok || batch.BatchNumber != frameBatch)
                {
                    throw new LedgerStoreCorruptedException(segment.Path, _offset, $"the record's batch does not parse or does not match its frame ({parse})");
                }

                long recordOffset = _offset;
                _offset += FrameSize + payload.Length;
                if (frameBatch < _next)
                {
                    continue;
                }

                if (frameBatch != _next)
                {
                    throw new LedgerStoreCorruptedException(segment.Path, recordOffset, $"expected batch {_next}, found batch {frameBatch}");
                }

                _next++;
                Current = batch;
                return true;
            }

            Current = default;
            return false;
        }

        private void OpenSegment(Segment segment)
        {
            try
            {
                _handle = store._fs.OpenFile(segment.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException e)
            {
                throw new LedgerStoreException($"The segment '{segment.Path}' was compacted away while being read.", e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new LedgerStoreException($"The segment '{segment.Path}' cannot be opened for reading.", e);
            }

            _scanner = new RecordScanner(_handle, segment.Salt);
            _offset = FileHeaderSize;
            _limit = segment.DurableEnd;
        }

        private void CloseSegment()
        {
            _scanner?.Dispose();
            _scanner = null;
            _handle?.Dispose();
            _handle = null;
        }

        public ValueTask DisposeAsync()
        {
            CloseSegment();
            Current = default;
            return default;
        }
    }
}
