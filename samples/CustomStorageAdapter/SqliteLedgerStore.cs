using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Micropay.Core.Storage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace CustomStorageAdapter;

/// <summary>
/// An <see cref="ILedgerStore"/> over one SQLite database file, written the way an integrator would write an adapter
/// for their own storage: a thin mapping of the contract onto tables and transactions, checked by the conformance
/// kit (<c>Micropay.Core.Storage.Specification</c>).
/// </summary>
/// <remarks>
/// <para><b>Schema.</b> Three tables:</para>
/// <code>
/// batches         (number INTEGER PRIMARY KEY, bytes BLOB NOT NULL, hash BLOB NOT NULL)   -- one row per batch
/// snapshots       (batch_number INTEGER PRIMARY KEY, length INTEGER NOT NULL, hash BLOB NOT NULL)
/// snapshot_chunks (batch_number INTEGER NOT NULL, chunk INTEGER NOT NULL, bytes BLOB NOT NULL,
///                  PRIMARY KEY (batch_number, chunk))                                     -- 16 MiB per row
/// </code>
/// <para><c>bytes</c> is the encoded <see cref="CommitBatch"/> (header and events, byte for byte) and <c>hash</c> its
/// SHA-256, the value the next batch chains to. A snapshot is a row with its length and the SHA-256 of its state, and
/// the state itself in chunk rows of at most 16 MiB, numbered from 0: SQLite holds at most 1 GB in one value (and
/// every byte of a value in memory at once), while a ledger's snapshot may pass 2 GiB, so a state is never one blob.
/// Reading returns the chunks as the segments of the <see cref="LedgerSnapshot"/>, without joining them. A snapshot
/// whose chunks are missing, misnumbered or do not hash to its row is recognised as damaged and skipped.</para>
/// <para><b>Durability.</b> The database runs in WAL mode with <c>synchronous=FULL</c>: each append is one transaction,
/// and SQLite fsyncs the write-ahead log before <c>COMMIT</c> returns, so a completed
/// <see cref="AppendAsync"/> survives a power loss. SQLite's own journal makes a transaction all or nothing, so there is
/// never a torn batch to drop on open.</para>
/// <para><b>Failed appends.</b> When an append's transaction fails (an I/O error, a full disk, a failed
/// <c>COMMIT</c>), the batch may be durable or not, and asking the database at once is no sure answer: after a failed
/// fsync of the log, for example, the commit may sit in the log unseen by readers and be found committed when the
/// database is next opened. So, as the contract asks, the store marks itself broken and refuses every later append
/// with <see cref="LedgerStoreException"/> until it is disposed; a new store over the database learns on
/// <see cref="OpenAsync"/> what is durable. Refused retries and caller bugs write nothing and leave the store
/// usable.</para>
/// <para><b>Threads.</b> One connection, guarded by a lock, does all the writing (appends and snapshots). Each
/// <see cref="ReadBatchesAsync"/> and <see cref="ReadLatestSnapshotAsync"/> opens its own connection; WAL lets it read a
/// consistent snapshot of the database while the writer goes on, which is what the contract asks of readers.</para>
/// <para><b>One process.</b> SQLite lets several processes open a database; the ledger must not, so the store holds an
/// exclusive lock on <c>&lt;database&gt;.lock</c> while it is open.</para>
/// <para><b>Async.</b> Microsoft.Data.Sqlite does its I/O synchronously (its <c>*Async</c> methods run synchronously
/// too), so this adapter does the work on the caller's thread and returns completed tasks.</para>
/// </remarks>
public sealed class SqliteLedgerStore : ILedgerStore
{
    private const int SqliteCorrupt = 11; // SQLITE_CORRUPT
    private const int SqliteNotADatabase = 26; // SQLITE_NOTADB

    // How many snapshots to keep: the latest and the one before, in case the latest is found damaged.
    private const int SnapshotsKept = 2;

    /// <summary>The most bytes one row of <c>snapshot_chunks</c> holds (16 MiB): well under SQLite's 1 GB per value, and
    /// small enough that writing or reading one row needs little memory besides the state.</summary>
    internal const int DefaultSnapshotChunkBytes = 16 * 1024 * 1024;

    private readonly string _databasePath;
    private readonly string _readConnectionString;
    private readonly string _writeConnectionString;

    // Protects every field below, and the writer connection and its commands.
    private readonly Lock _writeLock = new();
    private SqliteConnection? _writer;
    private SqliteCommand? _insertBatch;
    private FileStream? _lockFile;
    private bool _opened;
    private bool _disposed;
    private bool _broken;
    private bool _failNextCommit;
    private bool _commitHookInstalled;
    private ulong _lastBatchNumber;
    private BatchHash _lastBatchHash;
    private byte[] _encodeBuffer = [];
    private readonly byte[] _hashBuffer = new byte[BatchHash.Size];

    /// <summary>Creates a store over the SQLite database at <paramref name="databasePath"/> (created on open if absent).</summary>
    /// <param name="databasePath">The database file. Its directory is created if needed; SQLite puts its <c>-wal</c> and <c>-shm</c> files beside it.</param>
    /// <exception cref="ArgumentException"><paramref name="databasePath"/> is empty.</exception>
    public SqliteLedgerStore(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        _databasePath = Path.GetFullPath(databasePath);

        // Pooling off: closing a connection really closes the file, so a disposed store releases the database
        // (another store, or a test deleting the directory, can have it at once).
        _writeConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _databasePath,
            Mode = SqliteOpenMode.ReadWrite, // a reader never creates the file
            Pooling = false,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string DatabasePath => _databasePath;

    /// <summary>The most bytes one snapshot chunk row holds (<see cref="DefaultSnapshotChunkBytes"/>); tests lower it so
    /// small snapshots span several rows, as large ones do. Set before the first snapshot write.</summary>
    internal int SnapshotChunkBytes { get; set; } = DefaultSnapshotChunkBytes;

    /// <inheritdoc />
    public LedgerStoreCapabilities Capabilities => LedgerStoreCapabilities.Snapshots;

    /// <inheritdoc />
    public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerStoreState>(cancellationToken);
        }

        lock (_writeLock)
        {
            ThrowIfDisposed();
            if (_opened)
            {
                throw new InvalidOperationException($"The store at {_databasePath} is already open; OpenAsync is called once.");
            }

            try
            {
                LedgerStoreState state = OpenCore();
                _opened = true;
                return ValueTask.FromResult(state);
            }
            catch
            {
                CloseCore();
                throw;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        lock (_writeLock)
        {
            SqliteConnection writer = ThrowIfNotOpen();
            if (_broken)
            {
                throw new LedgerStoreException(
                    $"An earlier append to {_databasePath} failed, so whether it is durable is unknown: dispose this store and open a new one, which finds out.");
            }

            ulong number = batch.BatchNumber;
            if (number == 0)
            {
                throw new ArgumentException("The batch has no number (a default CommitBatch?); batches are numbered from 1.", nameof(batch));
            }

            int length = batch.EncodedLength;
            if (_encodeBuffer.Length < length)
            {
                _encodeBuffer = new byte[Math.Max(length, _encodeBuffer.Length * 2)];
            }

            Span<byte> encoded = _encodeBuffer.AsSpan(0, length);
            batch.Encode(encoded);

            if (number <= _lastBatchNumber)
            {
                // A retry of an append whose outcome the caller did not learn: fine if it is the same batch.
                EnsureSameAsDurable(writer, number, encoded);
                return ValueTask.CompletedTask;
            }

            if (number != _lastBatchNumber + 1)
            {
                throw new ArgumentException(
                    $"Batch {number} would leave a gap: the last durable batch is {_lastBatchNumber}, so the next must be {_lastBatchNumber + 1}.",
                    nameof(batch));
            }

            if (batch.Header.PreviousBatchHash != _lastBatchHash)
            {
                throw new ArgumentException(
                    $"Batch {number} carries previous batch hash {batch.Header.PreviousBatchHash}, but batch {_lastBatchNumber}'s hash is {_lastBatchHash}.",
                    nameof(batch));
            }

            BatchHash hash = BatchHash.Compute(encoded);
            hash.CopyTo(_hashBuffer);

            // Writing starts here: from now on the append completes or fails, and is no longer cancellable.
            try
            {
                InsertBatch(writer, number, encoded);
            }
            catch (Exception ex) when (ex is SqliteException or IOException)
            {
                // Most likely nothing was committed, but this connection cannot be sure (see the type's remarks):
                // refuse further appends rather than answer the next one from a guess.
                _broken = true;
                throw new LedgerStoreException(
                    $"Appending batch {number} to {_databasePath} failed; it may or may not be durable until the store is opened again.", ex);
            }

            _lastBatchNumber = number;
            _lastBatchHash = hash;
            return ValueTask.CompletedTask;
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(fromBatchNumber);
        lock (_writeLock)
        {
            ThrowIfNotOpen();
        }

        return ReadBatchesCore(fromBatchNumber, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One transaction: the snapshot's row, then its state in chunk rows of at most 16 MiB (each written in place, from
    /// the caller's segments, with no copy of the whole state), then the pruning of older snapshots; with
    /// <c>synchronous=FULL</c> it is durable when the commit returns, and a crash before leaves no trace of it.
    /// </remarks>
    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        lock (_writeLock)
        {
            SqliteConnection writer = ThrowIfNotOpen();
            if (batchNumber == 0 || batchNumber > _lastBatchNumber)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(batchNumber),
                    batchNumber,
                    $"A snapshot is taken after a durable batch: 1 to {_lastBatchNumber}.");
            }

            try
            {
                // Not committed unless every chunk is written: disposing the transaction otherwise rolls it back, so a
                // cancelled or failed snapshot is absent.
                using SqliteTransaction transaction = writer.BeginTransaction(deferred: false);
                long number = checked((long)batchNumber);
                Execute(writer, transaction, "DELETE FROM snapshot_chunks WHERE batch_number = $number", ("$number", number));
                Execute(
                    writer,
                    transaction,
                    "INSERT OR REPLACE INTO snapshots (batch_number, length, hash) VALUES ($number, $length, $hash)",
                    ("$number", number),
                    ("$length", state.Length),
                    ("$hash", Sha256(state)));
                int chunkBytes = SnapshotChunkBytes;
                long chunk = 0;
                for (long offset = 0; offset < state.Length; offset += chunkBytes, chunk++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    ReadOnlySequence<byte> part = state.Slice(offset, Math.Min(chunkBytes, state.Length - offset));
                    WriteChunk(writer, transaction, number, chunk, part);
                }

                // Older snapshots beyond the kept ones go, with their chunks.
                const string Kept = "SELECT batch_number FROM snapshots ORDER BY batch_number DESC LIMIT $kept";
                Execute(writer, transaction, $"DELETE FROM snapshot_chunks WHERE batch_number NOT IN ({Kept})", ("$kept", SnapshotsKept));
                Execute(writer, transaction, $"DELETE FROM snapshots WHERE batch_number NOT IN ({Kept})", ("$kept", SnapshotsKept));
                cancellationToken.ThrowIfCancellationRequested();
                transaction.Commit(); // with synchronous=FULL, durable when this returns
            }
            catch (SqliteException ex)
            {
                throw new LedgerStoreException($"Writing the snapshot after batch {batchNumber} to {_databasePath} failed.", ex);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <inheritdoc />
    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerSnapshot?>(cancellationToken);
        }

        lock (_writeLock)
        {
            ThrowIfNotOpen();
        }

        try
        {
            using SqliteConnection connection = OpenReader();

            // One read transaction: WAL gives it a fixed view, so a snapshot row and its chunks are read as one.
            using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
            return ValueTask.FromResult(ReadLatestSnapshot(connection, transaction, cancellationToken));
        }
        catch (SqliteException ex)
        {
            throw new LedgerStoreException($"Reading the latest snapshot from {_databasePath} failed.", ex);
        }
    }

    /// <summary>Closes the database and releases the store's lock. Safe to call more than once.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        lock (_writeLock)
        {
            _disposed = true;
            CloseCore();
        }

        return ValueTask.CompletedTask;
    }

    // For tests: a PRAGMA's value as the writer connection sees it (synchronous is per connection, so another
    // connection cannot tell what the writer uses).
    internal object? ReadWriterPragma(string name)
    {
        lock (_writeLock)
        {
            return ExecuteScalar(ThrowIfNotOpen(), "PRAGMA " + name);
        }
    }

    // For tests: makes the next commit of the writer connection fail inside SQLite, as a real failed COMMIT does. SQLite's
    // commit hook returning non-zero turns the COMMIT into a ROLLBACK, and COMMIT fails with SQLITE_CONSTRAINT_COMMITHOOK:
    // the append then goes through the same error path as an I/O error. Once only; a new store is unaffected.
    internal void FailNextCommit()
    {
        lock (_writeLock)
        {
            SqliteConnection writer = ThrowIfNotOpen();
            if (!_commitHookInstalled)
            {
                raw.sqlite3_commit_hook(writer.Handle, static state => ((SqliteLedgerStore)state).TakeCommitFailure() ? 1 : 0, this);
                _commitHookInstalled = true;
            }

            _failNextCommit = true;
        }
    }

    // Called by SQLite inside a commit, on the thread that holds _writeLock.
    private bool TakeCommitFailure()
    {
        bool fail = _failNextCommit;
        _failNextCommit = false;
        return fail;
    }

    private LedgerStoreState OpenCore()
    {
        string? directory = Path.GetDirectoryName(_databasePath);
        try
        {
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            _lockFile = new FileStream(_databasePath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new LedgerStoreException($"The ledger store at {_databasePath} cannot be opened: another store (in this or another process) holds it.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new LedgerStoreException($"The ledger store at {_databasePath} cannot be opened: access denied.", ex);
        }

        try
        {
            var writer = new SqliteConnection(_writeConnectionString);
            _writer = writer;
            writer.Open();

            // WAL: readers never block the writer, and a commit appends to the log instead of rewriting pages.
            // journal_mode is stored in the database; it reports the mode actually in force.
            string? mode = ExecuteScalar(writer, "PRAGMA journal_mode=WAL") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new LedgerStoreException($"SQLite refused WAL mode for {_databasePath} (journal_mode is {mode}).");
            }

            // FULL: fsync the log on every commit. (NORMAL, the usual WAL setting, can lose the last commits on power
            // loss, which would break "durable means acknowledged".) synchronous is per connection.
            ExecuteNonQuery(writer, "PRAGMA synchronous=FULL");

            ExecuteNonQuery(writer, """
                CREATE TABLE IF NOT EXISTS batches (
                    number INTEGER PRIMARY KEY,
                    bytes  BLOB NOT NULL,
                    hash   BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS snapshots (
                    batch_number INTEGER PRIMARY KEY,
                    length       INTEGER NOT NULL,
                    hash         BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS snapshot_chunks (
                    batch_number INTEGER NOT NULL,
                    chunk        INTEGER NOT NULL,
                    bytes        BLOB NOT NULL,
                    PRIMARY KEY (batch_number, chunk));
                """);

            (_lastBatchNumber, _lastBatchHash) = CheckJournal(writer);
            ulong snapshotNumber;
            using (LedgerSnapshot? snapshot = ReadLatestSnapshot(writer, transaction: null, CancellationToken.None))
            {
                snapshotNumber = snapshot?.BatchNumber ?? 0;
            }

            if (snapshotNumber > _lastBatchNumber)
            {
                throw new LedgerStoreCorruptedException(
                    $"{_databasePath} (table snapshots)",
                    checked((long)snapshotNumber),
                    $"a snapshot after batch {snapshotNumber}, but the journal ends at batch {_lastBatchNumber}");
            }

            // The one statement every append runs, prepared once. The blob is written in place afterwards
            // (zeroblob, then SqliteBlob), so appending copies the batch once, into SQLite's page cache.
            _insertBatch = writer.CreateCommand();
            _insertBatch.CommandText = "INSERT INTO batches (number, bytes, hash) VALUES ($number, zeroblob($length), $hash)";
            _insertBatch.Parameters.Add("$number", SqliteType.Integer);
            _insertBatch.Parameters.Add("$length", SqliteType.Integer);
            _insertBatch.Parameters.Add("$hash", SqliteType.Blob).Value = _hashBuffer;
            _insertBatch.Prepare();

            return new LedgerStoreState(_lastBatchNumber, _lastBatchHash, snapshotNumber);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new LedgerStoreCorruptedException(_databasePath, 0, $"SQLite reports the database damaged ({ex.Message})");
        }
        catch (SqliteException ex)
        {
            throw new LedgerStoreException($"The ledger store at {_databasePath} cannot be opened.", ex);
        }
    }

    // What a crash cannot explain: SQLite commits whole transactions, so after any crash the table still holds
    // batches 1..N without a gap, and the last one's bytes match its hash. Anything else is damage. (The whole hash
    // chain is checked as the engine replays it; see ReadBatchesCore.)
    private (ulong Number, BatchHash Hash) CheckJournal(SqliteConnection connection)
    {
        string table = $"{_databasePath} (table batches)";
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), IFNULL(MIN(number), 0), IFNULL(MAX(number), 0) FROM batches";
        long count, min, max;
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            reader.Read();
            (count, min, max) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        if (count == 0)
        {
            return (0, BatchHash.Zero);
        }

        if (min != 1 || max != count)
        {
            throw new LedgerStoreCorruptedException(table, min != 1 ? min : max, $"{count} batches numbered {min} to {max}: a gap in the journal");
        }

        command.CommandText = "SELECT bytes, hash FROM batches WHERE number = $number";
        command.Parameters.AddWithValue("$number", max);
        using (SqliteDataReader reader = command.ExecuteReader())
        {
            reader.Read();
            byte[] bytes = reader.GetFieldValue<byte[]>(0);
            byte[] storedHash = reader.GetFieldValue<byte[]>(1);
            string? problem = CheckBatch((ulong)max, bytes, storedHash, out _);
            if (problem is not null)
            {
                throw new LedgerStoreCorruptedException(table, max, problem);
            }

            return ((ulong)max, new BatchHash(storedHash));
        }
    }

    // Null when the row is a well-formed batch numbered `number` whose bytes hash to `storedHash`.
    private static string? CheckBatch(ulong number, ReadOnlyMemory<byte> bytes, ReadOnlySpan<byte> storedHash, out CommitBatch batch)
    {
        batch = default;
        if (storedHash.Length != BatchHash.Size || BatchHash.Compute(bytes.Span) != new BatchHash(storedHash))
        {
            return $"batch {number}'s bytes do not match its stored hash";
        }

        CommitBatchParseResult result = CommitBatch.TryParse(bytes, out batch);
        if (result != CommitBatchParseResult.Ok)
        {
            return $"batch {number} is not a well-formed batch ({result})";
        }

        if (batch.BatchNumber != number)
        {
            return $"the row for batch {number} holds batch {batch.BatchNumber}";
        }

        return null;
    }

    private void InsertBatch(SqliteConnection writer, ulong number, ReadOnlySpan<byte> encoded)
    {
        // BEGIN IMMEDIATE: take the write lock now rather than at the first write.
        using SqliteTransaction transaction = writer.BeginTransaction(deferred: false);
        SqliteCommand insert = _insertBatch!;
        insert.Transaction = transaction;
        insert.Parameters[0].Value = checked((long)number);
        insert.Parameters[1].Value = encoded.Length;
        insert.ExecuteNonQuery();

        // number is the INTEGER PRIMARY KEY, hence the rowid.
        using (var blob = new SqliteBlob(writer, "batches", "bytes", checked((long)number)))
        {
            blob.Write(encoded);
        }

        transaction.Commit(); // WAL + synchronous=FULL: the log is fsync'd before this returns
    }

    private void EnsureSameAsDurable(SqliteConnection writer, ulong number, ReadOnlySpan<byte> encoded)
    {
        byte[] stored;
        try
        {
            using SqliteCommand command = writer.CreateCommand();
            command.CommandText = "SELECT bytes FROM batches WHERE number = $number";
            command.Parameters.AddWithValue("$number", checked((long)number));
            stored = command.ExecuteScalar() as byte[] ?? [];
        }
        catch (SqliteException ex)
        {
            throw new LedgerStoreException($"Reading batch {number} back from {_databasePath} to compare a retried append failed.", ex);
        }

        if (!encoded.SequenceEqual(stored))
        {
            throw new LedgerStoreException(
                $"Batch {number} is already durable in {_databasePath} with different contents; a retry must append the same bytes.");
        }
    }

    private async IAsyncEnumerable<CommitBatch> ReadBatchesCore(ulong fromBatchNumber, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string table = $"{_databasePath} (table batches)";
        SqliteConnection connection;
        try
        {
            connection = OpenReader();
        }
        catch (SqliteException ex)
        {
            throw new LedgerStoreException($"Reading batches from {_databasePath} failed.", ex);
        }

        await using (connection.ConfigureAwait(false))
        {
            SqliteTransaction? transaction = null;
            SqliteCommand command = connection.CreateCommand();
            SqliteDataReader reader;
            BatchHash previousHash = BatchHash.Zero;
            try
            {
                // One read transaction for both statements: WAL gives it a fixed view of the database (the journal as of
                // now), however long the caller takes to enumerate and however many batches are appended meanwhile.
                transaction = connection.BeginTransaction(deferred: true);
                command.Transaction = transaction;
                if (fromBatchNumber > 1)
                {
                    // The hash the first returned batch must chain to.
                    command.CommandText = "SELECT hash FROM batches WHERE number = $number";
                    command.Parameters.AddWithValue("$number", checked((long)fromBatchNumber - 1));
                    if (command.ExecuteScalar() is byte[] { Length: BatchHash.Size } hash)
                    {
                        previousHash = new BatchHash(hash);
                    }

                    command.Parameters.Clear();
                }

                command.CommandText = "SELECT number, bytes, hash FROM batches WHERE number >= $from ORDER BY number";
                command.Parameters.AddWithValue("$from", checked((long)Math.Min(fromBatchNumber, long.MaxValue)));
                reader = command.ExecuteReader();
            }
            catch (SqliteException ex)
            {
                transaction?.Dispose();
                await command.DisposeAsync().ConfigureAwait(false);
                throw new LedgerStoreException($"Reading batches from {_databasePath} failed.", ex);
            }

            using (transaction)
            using (command)
            using (reader)
            {
                // One buffer for the whole enumeration: a yielded batch's events are valid until the enumerator moves on.
                byte[] buffer = new byte[CommitBatchHeader.Size * 64];
                byte[] hashBytes = new byte[BatchHash.Size];
                ulong expected = fromBatchNumber;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    CommitBatch batch;
                    try
                    {
                        if (!reader.Read())
                        {
                            break;
                        }

                        long number = reader.GetInt64(0);
                        if ((ulong)number != expected)
                        {
                            throw new LedgerStoreCorruptedException(table, number, $"batch {expected} is missing: the next row is batch {number}");
                        }

                        long length = reader.GetBytes(1, 0, null, 0, 0);
                        if (length > buffer.Length)
                        {
                            buffer = new byte[Math.Max(length, buffer.Length * 2L)];
                        }

                        reader.GetBytes(1, 0, buffer, 0, (int)length);
                        long hashLength = reader.GetBytes(2, 0, null, 0, 0);
                        if (hashLength == BatchHash.Size)
                        {
                            reader.GetBytes(2, 0, hashBytes, 0, BatchHash.Size);
                        }

                        ReadOnlySpan<byte> storedHash = hashLength == BatchHash.Size ? hashBytes : [];
                        string? problem = CheckBatch(expected, buffer.AsMemory(0, (int)length), storedHash, out batch);
                        if (problem is null && expected > 1 && batch.Header.PreviousBatchHash != previousHash)
                        {
                            problem = $"batch {expected}'s previous batch hash does not match batch {expected - 1}'s hash";
                        }

                        if (problem is not null)
                        {
                            throw new LedgerStoreCorruptedException(table, number, problem);
                        }

                        previousHash = new BatchHash(storedHash);
                    }
                    catch (SqliteException ex)
                    {
                        throw new LedgerStoreException($"Reading batch {expected} from {_databasePath} failed.", ex);
                    }

                    yield return batch;
                    expected++;
                }
            }
        }
    }

    // The newest snapshot whose chunks are all there, numbered 0, 1, 2..., of the recorded length and hash; damaged
    // ones are passed over for the one before, as the contract asks.
    private static LedgerSnapshot? ReadLatestSnapshot(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        var candidates = new List<(long Number, long Length, byte[] Hash)>();
        using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT batch_number, length, hash FROM snapshots ORDER BY batch_number DESC";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                candidates.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<byte[]>(2)));
            }
        }

        foreach ((long number, long length, byte[] hash) in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunks = new List<ReadOnlyMemory<byte>>();
            long total = 0;
            bool whole = true;
            using (SqliteCommand command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "SELECT chunk, bytes FROM snapshot_chunks WHERE batch_number = $number ORDER BY chunk";
                command.Parameters.AddWithValue("$number", number);
                using SqliteDataReader reader = command.ExecuteReader();
                while (whole && reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    byte[] bytes = reader.GetFieldValue<byte[]>(1);
                    whole = reader.GetInt64(0) == chunks.Count && total + bytes.Length <= length;
                    chunks.Add(bytes);
                    total += bytes.Length;
                }
            }

            // The chunks become the snapshot's segments as they are: no copy into one buffer (which could not hold a
            // state past 2 GiB anyway).
            if (whole && total == length && hash.AsSpan().SequenceEqual(Sha256(chunks)))
            {
                return new LedgerSnapshot(checked((ulong)number), chunks);
            }

            // Damaged: fall back to the one before.
        }

        return null;
    }

    private static void WriteChunk(SqliteConnection writer, SqliteTransaction transaction, long number, long chunk, ReadOnlySequence<byte> part)
    {
        // The row is created with a zeroed blob of the right size, then filled in place from the caller's segments.
        long rowId;
        using (SqliteCommand insert = writer.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO snapshot_chunks (batch_number, chunk, bytes) VALUES ($number, $chunk, zeroblob($length)); SELECT last_insert_rowid();";
            insert.Parameters.AddWithValue("$number", number);
            insert.Parameters.AddWithValue("$chunk", chunk);
            insert.Parameters.AddWithValue("$length", part.Length);
            rowId = (long)insert.ExecuteScalar()!;
        }

        using var blob = new SqliteBlob(writer, "snapshot_chunks", "bytes", rowId);
        foreach (ReadOnlyMemory<byte> segment in part)
        {
            blob.Write(segment.Span);
        }
    }

    private static byte[] Sha256(ReadOnlySequence<byte> state)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            segments.Add(segment);
        }

        return Sha256(segments);
    }

    private static byte[] Sha256(List<ReadOnlyMemory<byte>> segments)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ReadOnlyMemory<byte> segment in segments)
        {
            hash.AppendData(segment.Span);
        }

        return hash.GetHashAndReset();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void CloseCore()
    {
        _insertBatch?.Dispose();
        _insertBatch = null;
        _writer?.Dispose(); // the last connection to close checkpoints the log into the database
        _writer = null;
        _lockFile?.Dispose();
        _lockFile = null;
        _opened = false;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowClosed();
        }
    }

    private SqliteConnection ThrowIfNotOpen()
    {
        ThrowIfDisposed();
        if (!_opened || _writer is null)
        {
            throw new InvalidOperationException($"The store at {_databasePath} is not open: call OpenAsync first.");
        }

        return _writer;
    }

    [DoesNotReturn]
    private void ThrowClosed() => throw new LedgerStoreException($"The ledger store at {_databasePath} is closed.");

    private static object? ExecuteScalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void ExecuteNonQuery(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
