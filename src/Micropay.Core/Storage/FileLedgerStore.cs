using System.Buffers;
using System.IO.Hashing;

namespace Micropay.Core.Storage;

/// <summary>
/// The embedded default <see cref="ILedgerStore"/>: a directory of append-only segment files, each record framed and
/// checksummed (CRC-32C seeded with a per-file salt), batches hash-chained, one write and one fsync per append, and
/// snapshots written atomically beside them.
/// </summary>
/// <remarks>
/// <para><b>Layout of the directory.</b> <c>segment-{first batch, 20 digits}.seg</c> files hold the journal (format in
/// <c>FileLedgerStore.Format.cs</c>); <c>snapshot-{batch, 20 digits}.snap</c> files hold snapshots;
/// <c>ledger.lock</c> is held exclusively while a store has the directory open, so a second process (or a second
/// instance) is refused. <c>*.tmp</c> files are unfinished segment or snapshot creations and are removed on open.</para>
/// <para><b>Recovery.</b> <see cref="OpenAsync"/> reads every segment and checks framing, checksums and batch sequence
/// everywhere, and the SHA-256 hash chain from the latest intact snapshot's batch onward (the whole chain with
/// <see cref="FileLedgerStoreOptions.VerifyHashChainOnOpen"/>). An incomplete or damaged last record of the last segment, with no valid record after it, is a torn
/// tail from a crash: it was never acknowledged, so it is truncated. Any other damage throws
/// <see cref="LedgerStoreCorruptedException"/> naming the file and offset, and nothing is changed.</para>
/// <para><b>Threads.</b> <see cref="AppendAsync"/> does its write and fsync synchronously on the calling thread (the
/// engine calls it from its storage thread) and allocates nothing in the steady state. Readers open their own file
/// handles and see batches up to the durable end published after each fsync.</para>
/// <para><b>Compaction</b> is never automatic: <see cref="CompactAsync"/> deletes segments wholly covered by the latest
/// snapshot.</para>
/// </remarks>
public sealed partial class FileLedgerStore : ILedgerStore, IEncodedBatchAppender
{
    private const string LockFileName = "ledger.lock";

    private readonly string _directory;
    private readonly StoreFileSystem _fs;
    private readonly long _segmentSizeBytes;
    private readonly int _snapshotsToKeep;
    private readonly bool _verifyHashChainOnOpen;
    private readonly bool _dropJournalFromPageCache;

    // Serializes appends, segment creation, compaction, open and dispose. Readers never take it.
    private readonly Lock _writeLock = new();

    // Serializes snapshot writes with each other (not with appends: they touch different files).
    private readonly Lock _snapshotLock = new();

    // Protected by _writeLock.
    private IDisposable? _lockFile;
    private bool _opened;
    private bool _broken;
    private StoreFile? _activeFile;

    // Set by every open: the first append of a store's life goes to a new segment, so no file written before the open is
    // ever extended again. Why: an append that never completed may have left its bytes on the disk beyond the end of the
    // file (its data written back, its length update lost); recovery cannot see them, and a later append that extends
    // the same file could bring them back inside it, where a torn new record would expose the old, whole, verifying one
    // (the disk-model tests found a batch reported absent by one open and present, with the old contents, two opens
    // later). A new segment has a new salt, so nothing older verifies in it.
    private bool _startSegmentOnAppend;
    private BatchHash _lastBatchHash;
    private byte[] _writeBuffer = [];
    private readonly Crc32 _writeCrc = new(Crc32ParameterSet.Crc32C);
    private readonly ChainHasher _chainHasher = new();

    // Written under _writeLock, read by readers without it (Volatile). Publication order on append: the segment array
    // (when a segment starts), then the segment's DurableEnd and LastBatch, then _lastBatchNumber; a reader reads in the
    // opposite order, so every batch up to the _lastBatchNumber it saw lies within the DurableEnd it sees.
    private Segment[] _segments = [];
    private ulong _lastBatchNumber;
    private volatile bool _disposed;

    /// <summary>Creates a store over <paramref name="directory"/> (created if missing). Nothing is read until <see cref="OpenAsync"/>.</summary>
    /// <param name="directory">The store's directory.</param>
    /// <param name="options">Settings, or null for the defaults.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty, or an option is out of range.</exception>
    /// <exception cref="LedgerStoreException">The directory cannot be created.</exception>
    public FileLedgerStore(string directory, FileLedgerStoreOptions? options = null)
        : this(directory, options, StoreFileSystem.Os)
    {
    }

    /// <summary>A store over <paramref name="fileSystem"/>: the operating system's, or a modelled disk in tests.</summary>
    internal FileLedgerStore(string directory, FileLedgerStoreOptions? options, StoreFileSystem fileSystem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new FileLedgerStoreOptions();
        if (options.SegmentSizeBytes < FileLedgerStoreOptions.MinSegmentSizeBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.SegmentSizeBytes, $"SegmentSizeBytes must be at least {FileLedgerStoreOptions.MinSegmentSizeBytes}.");
        }

        if (options.SegmentSizeBytes > FileLedgerStoreOptions.MaxSegmentSizeBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options), options.SegmentSizeBytes, $"SegmentSizeBytes must be at most {FileLedgerStoreOptions.MaxSegmentSizeBytes}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.SnapshotsToKeep, nameof(options));
        _fs = fileSystem;
        _directory = Path.GetFullPath(directory);
        _segmentSizeBytes = options.SegmentSizeBytes;
        _snapshotsToKeep = options.SnapshotsToKeep;
        _verifyHashChainOnOpen = options.VerifyHashChainOnOpen;
        _dropJournalFromPageCache = options.DropJournalFromPageCache;
        try
        {
            // Each new directory's entry is made durable in its parent: a power cut must not take the store's directory
            // (and every fsync'd segment in it) away.
            foreach (string created in _fs.CreateDirectory(_directory))
            {
                _fs.SyncDirectory(Path.GetDirectoryName(created)!);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The ledger store directory '{_directory}' cannot be created.", e);
        }
    }

    /// <summary>The store's directory (a full path).</summary>
    public string DirectoryPath => _directory;

    /// <inheritdoc />
    /// <remarks><see cref="LedgerStoreCapabilities.Snapshots"/> and <see cref="LedgerStoreCapabilities.EncodedAppend"/>: the
    /// engine appends through this store's <see cref="IEncodedBatchAppender"/>.</remarks>
    public LedgerStoreCapabilities Capabilities => LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend;

    /// <summary>The last batch whose append returned (durable); for tests that check what was durable when.</summary>
    internal ulong LastDurableBatchNumber => Volatile.Read(ref _lastBatchNumber);

    /// <summary>Releases the directory lock and the file handles. Readers still enumerating keep their own handles.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        lock (_writeLock)
        {
            if (_disposed)
            {
                return default;
            }

            _disposed = true;
            CloseHandles();
            DropRecoveredSnapshot();

            // No hash is in flight: Start and Wait pair up inside one append, under this lock.
            _chainHasher.Dispose();
        }

        return default;
    }

    private void CloseHandles()
    {
        _activeFile?.Dispose();
        _activeFile = null;
        _lockFile?.Dispose();
        _lockFile = null;
        if (_writeBuffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_writeBuffer);
            _writeBuffer = [];
        }
    }

    private void ThrowIfNotOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Volatile.Read(ref _opened))
        {
            throw new InvalidOperationException("The store is not open: call OpenAsync first.");
        }
    }

    private string LocationOf(string fileName) => Path.Combine(_directory, fileName);

    /// <summary>One segment file. Immutable except the two durable-progress fields, which only the appender writes.</summary>
    private sealed class Segment(string path, ulong firstBatchNumber, ulong salt, long durableEnd, ulong lastBatchNumber)
    {
        private long _durableEnd = durableEnd;
        private ulong _lastBatchNumber = lastBatchNumber;

        public string Path { get; } = path;

        public ulong FirstBatchNumber { get; } = firstBatchNumber;

        public ulong Salt { get; } = salt;

        /// <summary>The file offset up to which whole, fsync'd records lie; written by the appender after fsync.</summary>
        public long DurableEnd
        {
            get => Volatile.Read(ref _durableEnd);
            set => Volatile.Write(ref _durableEnd, value);
        }

        /// <summary>The last batch in the segment, or <c>FirstBatchNumber - 1</c> when it holds none.</summary>
        public ulong LastBatchNumber
        {
            get => Volatile.Read(ref _lastBatchNumber);
            set => Volatile.Write(ref _lastBatchNumber, value);
        }

        public bool HasRecords => LastBatchNumber >= FirstBatchNumber;
    }
}
