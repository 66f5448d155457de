namespace Micropay.Core.Storage;

// The chain hash of large batches, computed on a thread-pool thread while the appender writes and fsyncs.
public sealed partial class FileLedgerStore
{
    /// <summary>
    /// Payloads at least this large are hashed in parallel with the write; below it a thread hop would cost more than the
    /// hash (what a 64 KiB hash takes is in benchmarks/README.md).
    /// </summary>
    private const int ParallelHashThreshold = 64 * 1024;

    /// <summary>
    /// Computes one SHA-256 at a time on the thread pool, reusing itself as the work item so that starting a hash
    /// allocates nothing.
    /// </summary>
    /// <remarks>
    /// Invariants: <see cref="Start"/> and <see cref="Wait"/> alternate, both called by the appender under the
    /// write lock. The buffer, offset and length are written before the work item is queued (the queue publishes
    /// them) and the result is read after <see cref="Wait"/> observes the event set after it was written, so no
    /// field needs more than that ordering.
    /// </remarks>
    private sealed class ChainHasher : IThreadPoolWorkItem, IDisposable
    {
        private readonly ManualResetEventSlim _done = new(initialState: false);
        private byte[] _buffer = [];
        private int _offset;
        private int _length;
        private BatchHash _result;
        private Exception? _failure;

        public void Start(byte[] buffer, int offset, int length)
        {
            _buffer = buffer;
            _offset = offset;
            _length = length;
            _failure = null;
            _done.Reset();
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        public BatchHash Wait()
        {
            _done.Wait();
            _buffer = [];
            if (_failure is not null)
            {
                throw new LedgerStoreException("Hashing the batch for the journal's hash chain failed.", _failure);
            }

            return _result;
        }

        public void Dispose() => _done.Dispose();

        void IThreadPoolWorkItem.Execute()
        {
            try
            {
                _result = BatchHash.Compute(_buffer.AsSpan(_offset, _length));
            }
            catch (Exception e)
            {
                _failure = e;
            }
            finally
            {
                _done.Set();
            }
        }
    }
}
