using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Storage.PostgreSql;

/// <summary>
/// An <see cref="ILedgerStore"/> over PostgreSQL: the journal as one row per batch, each appended in its own
/// transaction, snapshots of any size in chunk rows, several ledgers in one database, and one writer per ledger at a
/// time, enforced by a fencing epoch so that a writer that was paused (or cut off) while another took over can never
/// append again.
/// </summary>
/// <remarks>
/// <para><b>Schema</b> (created on open if missing, in <see cref="PostgreSqlLedgerStoreOptions.Schema"/>, names starting
/// with <see cref="PostgreSqlLedgerStoreOptions.TablePrefix"/>):</para>
/// <code>
/// leases          (ledger PK, epoch bigint, taken_at)                     -- the fencing epoch, one row per ledger
/// batches         (ledger, batch_number bigint, hash bytea, bytes bytea)  -- PK (ledger, batch_number)
/// snapshots       (ledger, batch_number, length, chunk_count, hash)       -- PK (ledger, batch_number)
/// snapshot_chunks (ledger, batch_number, chunk int, bytes bytea)          -- PK (ledger, batch_number, chunk)
/// </code>
/// <para><c>bytes</c> is the encoded <see cref="CommitBatch"/> (header and events, byte for byte) and <c>hash</c> its
/// SHA-256, the value the next batch chains to. A snapshot's state is cut into chunk rows of at most
/// <see cref="PostgreSqlLedgerStoreOptions.SnapshotChunkBytes"/> (PostgreSQL holds at most 1 GB in one value, a ledger's
/// state may pass 2 GiB), its row carries the length, the chunk count and the SHA-256 of the whole state.</para>
/// <para><b>Durability.</b> An append is one transaction: a single prepared statement sent outside any transaction block,
/// which the server runs as its own transaction and answers only once committed (one round trip);
/// <see cref="AppendAsync"/> completes when that answer arrives, which with <c>synchronous_commit</c> on (PostgreSQL's
/// default) is after the server flushed the commit to its write-ahead log. The store never turns it off: if the session's setting is <c>off</c> (set for the role or database),
/// the writer's session sets it back <c>on</c>; and it refuses to open against a server running with <c>fsync=off</c>,
/// where no commit survives a power loss. A transaction is all or nothing, so there is never a torn batch to drop.</para>
/// <para><b>Single writer: the fencing argument.</b> <see cref="OpenAsync"/> raises the ledger's epoch in the lease row
/// (<c>INSERT ... ON CONFLICT DO UPDATE SET epoch = epoch + 1</c>, committed) and keeps the new value as its own. Every
/// append inserts its row with <c>INSERT ... SELECT ... FROM leases WHERE ledger = $1 AND epoch = $own FOR NO KEY
/// UPDATE</c>, in the same transaction as its commit. What must hold: once an open of epoch N+1 committed, no transaction
/// of an epoch-N writer commits a batch. Why it holds: the append's row lock on the lease row and the open's update of
/// that row conflict, so they are ordered. If the append locked first, the open waits until the append's transaction
/// ended, and then reads the journal including that batch (it reads after its own commit); if the open committed first,
/// the append's <c>WHERE epoch = N</c> is evaluated against the committed row (READ COMMITTED re-checks a row updated
/// concurrently), matches nothing, inserts nothing, and the store reports itself fenced. Either way the new writer's
/// state includes every batch an older writer ever committed, and nothing is appended behind it: no fork, whatever the
/// pauses (garbage collection, a stopped VM, a network partition). A session advisory lock would not give this: a paused
/// process keeps its session (and its lock) until the server notices, and a process cut off from the server may still
/// believe it holds the lock; only a check inside the committing transaction is safe. So the store takes none, and a
/// second open of a ledger takes it over (failover) instead of being refused. The writer's session has
/// <c>idle_in_transaction_session_timeout</c> set, so a writer paused between its insert and its commit, holding the lease
/// row, cannot make a new open wait longer than that.</para>
/// <para><b>Failed appends.</b> When an append's statement or commit fails (a dropped connection, a server error, a
/// timeout), the batch may or may not be committed, so the store marks itself broken and refuses later appends until it
/// is disposed; a new store's <see cref="OpenAsync"/> decides by what is committed (its lease update waits for a
/// transaction still in flight on the server, so it never reads a half-decided journal). A fenced store refuses every
/// later append with the epoch that fenced it. Retries of a durable batch are compared byte for byte.</para>
/// <para><b>The engine's path.</b> The store implements <see cref="IEncodedBatchAppender"/> (and reports
/// <see cref="LedgerStoreCapabilities.EncodedAppend"/>) with no record prefix: the engine's encoded batch is the
/// statement's <c>bytea</c> parameter, sent from the engine's buffer, and the store computes its one SHA-256. A batch
/// under 64 KiB, or one without overlap work, is sent synchronously on the calling thread, its overlap run first; a larger
/// one asynchronously, its overlap running while the server writes.</para>
/// <para><b>Threads.</b> One connection, held while the store is open and guarded by a semaphore, does the appends.
/// <see cref="ReadBatchesAsync"/>, <see cref="ReadLatestSnapshotAsync"/> and <see cref="WriteSnapshotAsync"/> each take
/// their own connection from the data source, so they run beside appends. A reader reads inside one REPEATABLE READ
/// transaction: a fixed prefix of the journal, whole batches only, streamed page by page.</para>
/// </remarks>
public sealed partial class PostgreSqlLedgerStore : ILedgerStore, IEncodedBatchAppender
{
    // How long the server lets the writer's session sit inside a transaction without a statement: a writer paused
    // between its insert and its commit holds the lease row, which a new open must wait for.
    private const int IdleInTransactionTimeoutMilliseconds = 15_000;

    // How long an open waits for the lease row (an older writer's append in flight) before giving up, in seconds.
    private const int LeaseTimeoutSeconds = 60;

    private readonly PostgreSqlLedgerStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgreSqlStatements _sql;
    private readonly string _ledger;
    private readonly string _journalName;

    // Held by the appender (and by OpenAsync and DisposeAsync): protects _writer, _appendCommand, _encodeBuffer, _epoch,
    // _lastBatchNumber, _lastBatchHash, _broken, _fencedBy and _failNextCommit.
    private readonly SemaphoreSlim _writerGate = new(1, 1);

    // Serializes snapshot writes of this instance (each on its own connection).
    private readonly SemaphoreSlim _snapshotGate = new(1, 1);

    private NpgsqlConnection? _writer;
    private NpgsqlCommand? _appendCommand;
    private byte[] _encodeBuffer = [];

    // The append statement's hash parameter value, overwritten by each append (under _writerGate) before it is sent.
    private readonly byte[] _hashBytes = new byte[BatchHash.Size];
    private long _epoch;
    private ulong _lastBatchNumber;
    private BatchHash _lastBatchHash;
    private string? _broken;
    private long _fencedBy;
    private bool _failNextCommit;

    // 0 created, 1 open, 2 disposed; read without the gate (Volatile) by readers and snapshot writers.
    private int _lifecycle;

    // The last batch number known durable (for WriteSnapshotAsync's check, beside appends); written under _writerGate.
    private long _durableBatchNumber;

    /// <summary>Creates a store (not yet open: call <see cref="OpenAsync"/>).</summary>
    /// <param name="options">Where the server is, the schema and table prefix, the ledger's name, the snapshot settings.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">Neither or both of a connection string and a data source are set, or a setting is out of range.</exception>
    public PostgreSqlLedgerStore(PostgreSqlLedgerStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if ((options.ConnectionString is null) == (options.DataSource is null))
        {
            throw new ArgumentException("Set exactly one of ConnectionString and DataSource.", nameof(options));
        }

        if (!PostgreSqlStatements.IsValidName(options.Schema, allowEmpty: false) || options.Schema.Length > 63)
        {
            throw new ArgumentException($"Schema '{options.Schema}' must be 1 to 63 lower-case letters, digits or underscores, not starting with a digit.", nameof(options));
        }

        if (!PostgreSqlStatements.IsValidName(options.TablePrefix, allowEmpty: true) || options.TablePrefix.Length > 40)
        {
            throw new ArgumentException($"TablePrefix '{options.TablePrefix}' must be at most 40 lower-case letters, digits or underscores, not starting with a digit.", nameof(options));
        }

        if (string.IsNullOrEmpty(options.LedgerName) || options.LedgerName.Length > 200)
        {
            throw new ArgumentException("LedgerName must be 1 to 200 characters.", nameof(options));
        }

        if (options.SnapshotChunkBytes is < PostgreSqlLedgerStoreOptions.MinSnapshotChunkBytes or > PostgreSqlLedgerStoreOptions.MaxSnapshotChunkBytes)
        {
            throw new ArgumentException(
                $"SnapshotChunkBytes must be {PostgreSqlLedgerStoreOptions.MinSnapshotChunkBytes} to {PostgreSqlLedgerStoreOptions.MaxSnapshotChunkBytes}; it is {options.SnapshotChunkBytes}.",
                nameof(options));
        }

        if (options.SnapshotsToKeep < 1)
        {
            throw new ArgumentException($"SnapshotsToKeep must be at least 1; it is {options.SnapshotsToKeep}.", nameof(options));
        }

        _options = options;
        _ownsDataSource = options.DataSource is null;
        _dataSource = options.DataSource ?? NpgsqlDataSource.Create(options.ConnectionString!);
        _sql = new PostgreSqlStatements(options.Schema, options.TablePrefix);
        _ledger = options.LedgerName;
        _journalName = $"{_sql.Batches}, ledger '{_ledger}'";
    }

    /// <summary>Creates a store over the server a connection string names, for the ledger <paramref name="ledgerName"/>,
    /// with the default tables (<c>public.micropay_*</c>).</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="ledgerName">The ledger's name (several ledgers share a database).</param>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> or <paramref name="ledgerName"/> is empty.</exception>
    public PostgreSqlLedgerStore(string connectionString, string ledgerName = PostgreSqlLedgerStoreOptions.DefaultLedgerName)
        : this(new PostgreSqlLedgerStoreOptions
        {
            ConnectionString = string.IsNullOrWhiteSpace(connectionString) ? throw new ArgumentException("The connection string is empty.", nameof(connectionString)) : connectionString,
            LedgerName = ledgerName,
        })
    {
    }

    /// <summary>The ledger this store writes.</summary>
    public string LedgerName => _ledger;

    /// <summary>The fencing epoch this store took when it opened (0 before); a later open of the same ledger takes a higher one.</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    /// <inheritdoc />
    public LedgerStoreCapabilities Capabilities => LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend;

    /// <inheritdoc />
    /// <remarks>
    /// Creates the schema and tables if missing, takes the ledger's lease (raising its fencing epoch, which fences every
    /// earlier store of this ledger), then checks the journal: batches numbered 1 to N without a gap, the last one
    /// well-formed, hashing to its stored hash and chained to the one before; and the latest snapshot whole.
    /// </remarks>
    public async ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _lifecycle) == 2, this);
            if (Volatile.Read(ref _lifecycle) == 1)
            {
                throw new InvalidOperationException($"The store of ledger '{_ledger}' is already open; OpenAsync is called once.");
            }

            try
            {
                LedgerStoreState state = await OpenCoreAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _lifecycle, 1);
                return state;
            }
            catch
            {
                await CloseWriterAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _writerGate.Release();
        }
    }

    /// <summary>Returns the writer connection to the pool (and closes the store's own pool, if it made one). Safe to call more than once.</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        // Waits for an append in flight: its connection must not be closed under it.
        await _writerGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _lifecycle) == 2)
            {
                return;
            }

            Volatile.Write(ref _lifecycle, 2);
            await CloseWriterAsync().ConfigureAwait(false);
            if (_ownsDataSource)
            {
                await _dataSource.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _writerGate.Release();
        }
    }

    private async Task<LedgerStoreState> OpenCoreAsync(CancellationToken cancellationToken)
    {
        NpgsqlConnection writer;
        try
        {
            writer = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            throw new LedgerStoreException($"Connecting to the PostgreSQL server for ledger '{_ledger}' failed.", ex);
        }

        _writer = writer;
        try
        {
            await ConfigureWriterAsync(writer, cancellationToken).ConfigureAwait(false);
            await EnsureSchemaAsync(writer, cancellationToken).ConfigureAwait(false);
            _epoch = await TakeLeaseAsync(writer, cancellationToken).ConfigureAwait(false);

            // Read after the lease is committed: every batch an earlier writer committed is visible, and none can
            // commit any more (see the type's remarks).
            LedgerStoreState state = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            _lastBatchNumber = state.LastBatchNumber;
            _lastBatchHash = state.LastBatchHash;
            Volatile.Write(ref _durableBatchNumber, checked((long)state.LastBatchNumber));

            _appendCommand = new NpgsqlCommand(_sql.AppendBatch, writer)
            {
                Parameters =
                {
                    new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _ledger },
                    new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = _epoch },
                    new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint },
                    new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = _hashBytes },
                    new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea },
                },
            };
            await _appendCommand.PrepareAsync(cancellationToken).ConfigureAwait(false);
            return state;
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            throw new LedgerStoreException($"Opening ledger '{_ledger}' on the PostgreSQL server failed.", ex);
        }
    }

    private static async Task ConfigureWriterAsync(NpgsqlConnection writer, CancellationToken cancellationToken)
    {
        // fsync=off makes every commit a promise the server cannot keep after a power loss; no setting of ours fixes it.
        if (string.Equals(await ScalarAsync<string>(writer, "SHOW fsync", cancellationToken).ConfigureAwait(false), "off", StringComparison.OrdinalIgnoreCase))
        {
            throw new LedgerStoreException(
                "The PostgreSQL server runs with fsync=off, so no commit is durable: a completed append could be lost on a crash. Turn fsync on.");
        }

        // synchronous_commit=off acknowledges commits before their WAL is flushed. A role or database may set it; the
        // writer's session sets it back. Other values (local, remote_write, on, remote_apply) all flush locally first.
        if (string.Equals(await ScalarAsync<string>(writer, "SHOW synchronous_commit", cancellationToken).ConfigureAwait(false), "off", StringComparison.OrdinalIgnoreCase))
        {
            await ExecuteAsync(writer, "SET synchronous_commit TO on", cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(writer, $"SET idle_in_transaction_session_timeout TO {IdleInTransactionTimeoutMilliseconds}", cancellationToken).ConfigureAwait(false);

        // An append is one statement in its own implicit transaction, whose isolation is the session's default: the
        // fencing argument needs READ COMMITTED (its re-check of a concurrently updated lease row), whatever a role or
        // database set.
        await ExecuteAsync(writer, "SET default_transaction_isolation TO 'read committed'", cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureSchemaAsync(NpgsqlConnection writer, CancellationToken cancellationToken)
    {
        await using NpgsqlTransaction transaction = await writer.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", writer, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = PostgreSqlStatements.SchemaLockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        bool created;
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NULL", writer, transaction))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _sql.Batches });
            created = (bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        if (created)
        {
            if (_options.Schema != PostgreSqlLedgerStoreOptions.DefaultSchema)
            {
                await ExecuteAsync(writer, _sql.CreateSchema, cancellationToken, transaction).ConfigureAwait(false);
            }

            await ExecuteAsync(writer, _sql.CreateTables, cancellationToken, transaction).ConfigureAwait(false);
            await ExecuteAsync(writer, _sql.SetStorageExternal, cancellationToken, transaction).ConfigureAwait(false);
        }
        else
        {
            // The journal exists; the others too, unless an older layout or a hand-made schema lacks one.
            await ExecuteAsync(writer, _sql.CreateTables, cancellationToken, transaction).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> TakeLeaseAsync(NpgsqlConnection writer, CancellationToken cancellationToken)
    {
        // Autocommit: the new epoch is committed when this returns, which is what fences older writers. It waits while an
        // older writer's append holds the lease row (at most its commit, or the idle-in-transaction timeout).
        await using var command = new NpgsqlCommand(_sql.TakeLease, writer) { CommandTimeout = LeaseTimeoutSeconds };
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _ledger });
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (NpgsqlException ex) when (ex.InnerException is TimeoutException)
        {
            throw new LedgerStoreException(
                $"Taking the lease of ledger '{_ledger}' timed out after {LeaseTimeoutSeconds} s: another writer's transaction holds it.", ex);
        }
    }

    private async Task<LedgerStoreState> ReadStateAsync(CancellationToken cancellationToken)
    {
        // Own connection, one REPEATABLE READ transaction: the journal bounds, its tail and the snapshots as of one moment.
        await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        (ulong lastNumber, BatchHash lastHash) = await CheckJournalAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        ulong snapshotNumber = await FindLatestSnapshotAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (snapshotNumber > lastNumber)
        {
            throw new LedgerStoreCorruptedException(
                $"{_sql.Snapshots}, ledger '{_ledger}'",
                checked((long)snapshotNumber),
                $"the latest intact snapshot is of batch {snapshotNumber}, but the journal ends at batch {lastNumber}");
        }

        return new LedgerStoreState(lastNumber, lastHash, snapshotNumber);
    }

    // The journal's last batch number and hash, after checking that its batches are numbered 1..N without a gap and
    // that the last one is intact and chained to the one before (the rest is checked as it is read).
    private async Task<(ulong Number, BatchHash Hash)> CheckJournalAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        long count, min, max;
        await using (var bounds = new NpgsqlCommand(_sql.JournalBounds, connection, transaction))
        {
            bounds.Parameters.Add(LedgerParameter());
            await using NpgsqlDataReader reader = await bounds.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (count, min, max) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        if (count == 0)
        {
            return (0, BatchHash.Zero);
        }

        if (min != 1 || max != count)
        {
            throw new LedgerStoreCorruptedException(
                _journalName,
                min != 1 ? min : max,
                $"{count} batches numbered {min} to {max}: {(min != 1 ? "the journal does not start at batch 1" : "a gap in the journal")}");
        }

        var tail = new List<(long Number, byte[] Hash, byte[] Bytes)>(2);
        await using (var command = new NpgsqlCommand(_sql.ReadTail, connection, transaction))
        {
            command.Parameters.Add(LedgerParameter());
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Math.Max(1, max - 1) });
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tail.Add((reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<byte[]>(2)));
            }
        }

        BatchHash previousHash = default;
        foreach ((long number, byte[] hash, byte[] bytes) in tail)
        {
            string? problem = CheckBatch(checked((ulong)number), bytes, hash, out CommitBatch batch);
            if (problem is null && number == max && tail.Count == 2 && batch.Header.PreviousBatchHash != previousHash)
            {
                problem = $"batch {number}'s previous batch hash does not match batch {number - 1}'s hash";
            }

            if (problem is not null)
            {
                throw new LedgerStoreCorruptedException(_journalName, number, problem);
            }

            previousHash = new BatchHash(hash);
        }

        return (checked((ulong)max), previousHash);
    }

    // Null when the row is a well-formed batch numbered `number` whose bytes hash to `storedHash`.
    private static string? CheckBatch(ulong number, ReadOnlyMemory<byte> bytes, ReadOnlySpan<byte> storedHash, out CommitBatch batch)
    {
        batch = default;
        if (storedHash.Length != BatchHash.Size)
        {
            return $"batch {number}'s stored hash is {storedHash.Length} bytes long, not {BatchHash.Size}";
        }

        if (BatchHash.Compute(bytes.Span) != new BatchHash(storedHash))
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

    private async ValueTask CloseWriterAsync()
    {
        if (_appendCommand is not null)
        {
            await _appendCommand.DisposeAsync().ConfigureAwait(false);
            _appendCommand = null;
        }

        if (_writer is not null)
        {
            try
            {
                await _writer.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (IsServerFailure(ex))
            {
                // A connection that broke (the failure that broke the store, or a server gone) has nothing to release.
            }

            _writer = null;
        }
    }

    private void ThrowIfNotOpen()
    {
        int lifecycle = Volatile.Read(ref _lifecycle);
        if (lifecycle == 2)
        {
            ThrowHelper.ThrowClosed(_ledger);
        }

        if (lifecycle != 1)
        {
            ThrowHelper.ThrowNotOpen(_ledger);
        }
    }

    private NpgsqlParameter<string> LedgerParameter() => new() { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _ledger };

    // What a failure of the server, the network or the connection looks like through Npgsql (as opposed to a bug).
    private static bool IsServerFailure(Exception ex) =>
        ex is NpgsqlException or IOException or TimeoutException or System.Net.Sockets.SocketException
            or InvalidOperationException { Source: "Npgsql" } or ObjectDisposedException { Source: "Npgsql" };

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
