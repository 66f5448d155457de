using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Storage.PostgreSql;

// Appends: the checks that write nothing, then one transaction (fencing check and insert in one statement, commit).
public sealed partial class PostgreSqlLedgerStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One transaction on the writer connection: the row is inserted only while the ledger's lease still carries this
    /// store's epoch (see the type's remarks), then committed; the call completes when the commit returned. A store
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
            await InsertAsync(number, hash, encoded).ConfigureAwait(false);
            _lastBatchNumber = number;
            _lastBatchHash = hash;
            Volatile.Write(ref _durableBatchNumber, checked((long)number));
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

    private async Task InsertAsync(ulong number, BatchHash hash, ReadOnlyMemory<byte> encoded)
    {
        NpgsqlConnection writer = _writer!;
        NpgsqlCommand command = _appendCommand!;
        int inserted;
        try
        {
            // READ COMMITTED explicitly (whatever the server's default): the fencing argument rests on its re-check of a
            // lease row updated concurrently; under REPEATABLE READ the same conflict would fail the append instead.
            await using NpgsqlTransaction transaction = await writer.BeginTransactionAsync(IsolationLevel.ReadCommitted).ConfigureAwait(false);
            command.Transaction = transaction;
            ((NpgsqlParameter<long>)command.Parameters[2]).TypedValue = checked((long)number);
            byte[] hashBytes = new byte[BatchHash.Size];
            hash.CopyTo(hashBytes);
            ((NpgsqlParameter<byte[]>)command.Parameters[3]).TypedValue = hashBytes;
            ((NpgsqlParameter<ReadOnlyMemory<byte>>)command.Parameters[4]).TypedValue = encoded;
            inserted = await command.ExecuteNonQueryAsync().ConfigureAwait(false);
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

        if (inserted != 1)
        {
            // The lease row no longer carries our epoch: a newer open took the ledger. Nothing was inserted.
            long current = await ReadEpochAsync().ConfigureAwait(false);
            _fencedBy = current;
            ThrowHelper.ThrowFenced(_ledger, _epoch, current);
        }
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
