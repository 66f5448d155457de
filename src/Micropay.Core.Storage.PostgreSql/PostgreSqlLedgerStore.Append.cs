using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Storage.PostgreSql;

// Appends: the checks that write nothing, then one autocommitted statement (fencing check, row lock and insert), one round trip.
public sealed partial class PostgreSqlLedgerStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One statement on the writer connection, its own transaction: the row is inserted only while the ledger's lease
    /// still carries this store's epoch (see the type's remarks) and committed before the server answers; the call
    /// completes when that answer arrived. A store
    /// fenced by a newer open throws <see cref="LedgerStoreException"/> naming the newer epoch, having written nothing.
    /// </remarks>
    public async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _writerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfNotOpen();
            if (_fencedBy != 0)
            {
                ThrowHelper.ThrowFenced(_ledger, _epoch, _fencedBy);
            }

            if (_broken is not null)
            {
                ThrowHelper.ThrowBroken(_ledger, _broken);
            }

            ulong number = batch.BatchNumber;
            if (number == 0)
            {
                throw new ArgumentException("The batch has no number (a default CommitBatch?); batches are numbered from 1.", nameof(batch));
            }

            int length = batch.EncodedLength;
            if (_encodeBuffer.Length < length)
            {
                _encodeBuffer = new byte[Math.Max(length, Math.Min(_encodeBuffer.Length * 2L, Array.MaxLength))];
            }

            Memory<byte> encoded = _encodeBuffer.AsMemory(0, length);
            batch.Encode(encoded.Span);

            if (number <= _lastBatchNumber)
            {
                // A retry of an append whose outcome the caller did not learn: fine if it is the same batch.
                await EnsureSameAsDurableAsync(number, encoded, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (number != _lastBatchNumber + 1)
            {
                throw new ArgumentException(
                    $"Batch {number} would leave a gap: the last durable batch of ledger '{_ledger}' is {_lastBatchNumber}, so the next must be {_lastBatchNumber + 1}.",
                    nameof(batch));
            }

            if (batch.Header.PreviousBatchHash != _lastBatchHash)
            {
                throw new ArgumentException(
                    $"Batch {number} carries previous batch hash {batch.Header.PreviousBatchHash}, but batch {_lastBatchNumber}'s hash is {_lastBatchHash}.",
                    nameof(batch));
            }

            cancellationToken.ThrowIfCancellationRequested();
            BatchHash hash = BatchHash.Compute(encoded.Span);

            // Writing starts here: from now on the append completes or fails on its own (no token below).
            await InsertAsync(number, hash, encoded, overlap: null, blocking: false).ConfigureAwait(false);
            _lastBatchNumber = number;
            _lastBatchHash = hash;
            Volatile.Write(ref _durableBatchNumber, checked((long)number));
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // Encoded batches below this size are sent synchronously, their overlap run before the statement (AppendEncoded).
    private const int BlockingAppendBelowBytes = 64 * 1024;

    /// <summary>Bytes the store needs in front of an encoded batch: none (the batch goes to the server as it is).</summary>
    int IEncodedBatchAppender.RecordPrefixSize => 0;

    /// <summary>
    /// Appends the engine's already encoded batch from its own buffer: the bytes go to the server as the statement's
    /// parameter, with no copy into the store's buffer and one SHA-256 (the chain hash, computed here and stored in the
    /// row); the caller's overlap work runs while the server inserts and flushes the commit for a batch of 64 KiB or more,
    /// and right before the statement for a smaller one (sent synchronously: no thread hop). Same transaction, fencing
    /// and failure rules as <see cref="AppendAsync"/>; blocks the calling thread (the engine's publisher) until the commit
    /// returned.
    /// </summary>
    BatchHash IEncodedBatchAppender.AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (payloadLength < CommitBatchHeader.Size || payloadLength > record.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, $"The payload must be {CommitBatchHeader.Size} to {record.Length} bytes (the record's length).");
        }

        _writerGate.Wait();
        try
        {
            ThrowIfNotOpen();
            if (_fencedBy != 0)
            {
                ThrowHelper.ThrowFenced(_ledger, _epoch, _fencedBy);
            }

            if (_broken is not null)
            {
                ThrowHelper.ThrowBroken(_ledger, _broken);
            }

            ulong number = header.BatchNumber;
            if (number != _lastBatchNumber + 1 || header.PreviousBatchHash != _lastBatchHash)
            {
                throw new InvalidOperationException(
                    $"Batch {number} does not follow batch {_lastBatchNumber} of {_journalName} (number or previous batch hash); nothing was written.");
            }

            ReadOnlyMemory<byte> encoded = record.AsMemory(0, payloadLength);
            BatchHash hash = BatchHash.Compute(encoded.Span);

            // The publisher thread is the engine's own and exists to wait for the store: blocking it is the contract. A
            // large batch is sent asynchronously so that the overlap (the engine's index inserts, about 0.1 µs per event)
            // runs while the server writes; a small one is sent synchronously, its overlap run first: the thread hop of
            // an asynchronous statement awaited here (its completion on an I/O thread, then waking this one) cost more
            // than such an overlap saves (measured: benchmarks/README.md, "PostgreSQL").
            bool blocking = overlap is null || payloadLength < BlockingAppendBelowBytes;
            InsertAsync(number, hash, encoded, overlap, blocking).GetAwaiter().GetResult();
            _lastBatchNumber = number;
            _lastBatchHash = hash;
            Volatile.Write(ref _durableBatchNumber, checked((long)number));
            return hash;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // For tests: the next append's commit fails for real, as a connection lost during the commit would. Right before the
    // COMMIT, another connection terminates the writer's server process (pg_terminate_backend), so the commit goes
    // through the store's own failure handling. Once only; a new store is unaffected.
    internal void FailNextCommit()
    {
        _writerGate.Wait();
        try
        {
            ThrowIfNotOpen();
            _failNextCommit = true;
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // For tests: awaited inside every append transaction between its insert and its COMMIT (an append "in flight"),
    // to show what a concurrent open does meanwhile. Null outside tests.
    internal Func<Task>? BeforeCommitForTests { get; set; }

    // For tests: the writer's server process id.
    internal int WriterProcessId => _writer?.ProcessID ?? 0;

    // For tests: a setting as the writer's session sees it (synchronous_commit is per session, so another connection
    // cannot tell what the writer uses).
    internal async Task<string?> ReadWriterSettingAsync(string name)
    {
        await _writerGate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfNotOpen();
            await using var command = new NpgsqlCommand("SELECT current_setting($1)", _writer!);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            return (string?)await command.ExecuteScalarAsync().ConfigureAwait(false);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    // The insert and its commit. In production it is one statement outside any transaction block, so the server runs
    // it as its own transaction and commits it before answering: one round trip (Bind, Execute, Sync of the prepared
    // statement), where BEGIN, INSERT, COMMIT took two. What must hold is unchanged (see the type's remarks): the row
    // lock on the lease row is taken by the statement and held until its commit, and the epoch check is evaluated by the
    // same statement, re-checked against a concurrently committed lease row under READ COMMITTED (the isolation of an
    // implicit transaction is the session's default, which the writer's session pins to READ COMMITTED at open).
    // The test hooks need a moment between the insert and the commit, so with one of them set the same statement runs
    // inside an explicit transaction committed separately; the paused-append fencing tests and the kit's failure hook
    // exercise that form, the lease-raised-while-waiting fencing test and the restart and kill tests the production one.
    // The overlap runs while the server works; the statement is awaited whatever the overlap does. With `blocking` (the
    // encoded append of a small batch) the statement runs synchronously on the calling thread and the overlap just
    // before it: then the method completes synchronously, with no task or thread hop.
    private async Task InsertAsync(ulong number, BatchHash hash, ReadOnlyMemory<byte> encoded, IAppendOverlap? overlap, bool blocking)
    {
        NpgsqlCommand command = _appendCommand!;
        int inserted;
        Exception? overlapFailure = null;
        try
        {
            ((NpgsqlParameter<long>)command.Parameters[2]).TypedValue = checked((long)number);
            hash.CopyTo(_hashBytes); // the parameter's array, reused: written to the wire during the call
            ((NpgsqlParameter<ReadOnlyMemory<byte>>)command.Parameters[4]).TypedValue = encoded;
            if (blocking && !_failNextCommit && BeforeCommitForTests is null)
            {
                // The statement on this thread, no thread hop; a small batch's overlap first (see AppendEncoded), and
                // nothing sent if it failed (the store is marked broken below all the same, as the interface says).
                overlapFailure = RunOverlap(overlap);
                inserted = overlapFailure is null ? command.ExecuteNonQuery() : 0;
            }
            else
            {
                Task<int> statement = _failNextCommit || BeforeCommitForTests is not null
                    ? InsertInTransactionAsync(command)
                    : command.ExecuteNonQueryAsync();
                overlapFailure = RunOverlap(overlap);
                inserted = await statement.ConfigureAwait(false);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Under this store's epoch nobody else appends, so the row can only be there if the state read at open was
            // wrong: something writes this ledger behind the lease's back. Nothing was written by this append.
            _broken = $"batch {number} was already in {_journalName}, though this store's state said the journal ended at {_lastBatchNumber}";
            throw new LedgerStoreException(
                $"Appending batch {number} to {_journalName} found the batch already there: something writes this ledger without taking its lease. This store refuses further appends.",
                ex);
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            // The statement or the commit failed: the batch may or may not be committed, and only a new open can tell
            // (its lease update waits for this transaction, should the server still hold it).
            _broken = $"appending batch {number} failed ({ex.Message})";
            throw new LedgerStoreException(
                $"Appending batch {number} to {_journalName} failed; it may or may not be durable until the store is opened again. This store refuses further appends.",
                ex);
        }
        finally
        {
            command.Transaction = null;
            ((NpgsqlParameter<ReadOnlyMemory<byte>>)command.Parameters[4]).TypedValue = default; // the caller's buffer is not kept
        }

        if (overlapFailure is not null)
        {
            // The interface's rule: the append fails with the overlap's exception and the store treats it as a failed write
            // (the batch may well be committed; a reopen decides).
            _broken = $"the caller's overlap work failed during the append of batch {number} ({overlapFailure.Message})";
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(overlapFailure);
        }

        if (inserted != 1)
        {
            // The lease row no longer carries our epoch: a newer open took the ledger. Nothing was inserted.
            long current = await ReadEpochAsync().ConfigureAwait(false);
            _fencedBy = current;
            ThrowHelper.ThrowFenced(_ledger, _epoch, current);
        }
    }

    private static Exception? RunOverlap(IAppendOverlap? overlap)
    {
        try
        {
            overlap?.WhileWriting();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    // The tests' form of the append: BEGIN (sent with the insert), the insert, the hooks, then COMMIT (or ROLLBACK when
    // the lease did not match and nothing was inserted).
    private async Task<int> InsertInTransactionAsync(NpgsqlCommand command)
    {
        NpgsqlConnection writer = _writer!;
        await using NpgsqlTransaction transaction = await writer.BeginTransactionAsync(IsolationLevel.ReadCommitted).ConfigureAwait(false);
        command.Transaction = transaction;
        int inserted;
        try
        {
            inserted = await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        finally
        {
            // The command outlives this transaction: a later append of the production form must not name a finished one.
            command.Transaction = null;
        }

        if (inserted == 1)
        {
            if (_failNextCommit)
            {
                _failNextCommit = false;
                await TerminateBackendAsync(writer.ProcessID).ConfigureAwait(false);
            }

            if (BeforeCommitForTests is { } beforeCommit)
            {
                await beforeCommit().ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }
        else
        {
            await transaction.RollbackAsync().ConfigureAwait(false);
        }

        return inserted;
    }

    private async Task<long> ReadEpochAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand(_sql.ReadEpoch, _writer!);
            command.Parameters.Add(LedgerParameter());
            return await command.ExecuteScalarAsync().ConfigureAwait(false) is long epoch ? epoch : -1;
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            return -1; // fenced all the same; the message then gives no epoch
        }
    }

    private async Task TerminateBackendAsync(int processId)
    {
        await using NpgsqlConnection killer = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend($1, 5000)", killer);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = processId });
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private async Task EnsureSameAsDurableAsync(ulong number, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
    {
        byte[]? stored;
        long epoch;
        try
        {
            // The batch and the lease as of one statement: a fenced store answers "fenced", not "different", when the
            // newer writer's batch of that number is what it finds.
            await using var command = new NpgsqlCommand(
                $"SELECT l.epoch, (SELECT b.bytes FROM {_sql.Batches} b WHERE b.ledger = $1 AND b.batch_number = $2) FROM {_sql.Leases} l WHERE l.ledger = $1",
                _writer!);
            command.Parameters.Add(LedgerParameter());
            command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = checked((long)number) });
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new LedgerStoreException($"The lease row of ledger '{_ledger}' is gone from {_sql.Leases}: it was deleted behind the store's back.");
            }

            epoch = reader.GetInt64(0);
            stored = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
        }
        catch (Exception ex) when (IsServerFailure(ex) && ex is not OperationCanceledException)
        {
            // Nothing was written; but the writer connection may be gone, and appends need it.
            _broken = $"reading batch {number} back to compare a retry failed ({ex.Message})";
            throw new LedgerStoreException($"Reading batch {number} back from {_journalName} to compare a retried append failed. This store refuses further appends.", ex);
        }

        if (epoch != _epoch)
        {
            _fencedBy = epoch;
            ThrowHelper.ThrowFenced(_ledger, _epoch, epoch);
        }

        if (stored is null || !encoded.Span.SequenceEqual(stored))
        {
            throw new LedgerStoreException(
                $"Batch {number} is already durable in {_journalName} with different contents; a retry must append the same bytes.");
        }
    }
}
