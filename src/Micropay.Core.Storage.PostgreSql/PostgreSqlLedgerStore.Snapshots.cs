using System.Buffers;
using System.Data;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Storage.PostgreSql;

// Snapshots: a row and chunk rows, written in one transaction, read back as one segment per chunk.
public sealed partial class PostgreSqlLedgerStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One transaction on a connection of its own (appends go on meanwhile): the snapshot's row (length, chunk count,
    /// SHA-256 of the state), its chunk rows of at most <see cref="PostgreSqlLedgerStoreOptions.SnapshotChunkBytes"/>
    /// (each sent from the caller's segments; only a chunk that straddles segments is copied, into one pooled buffer),
    /// the pruning of snapshots beyond <see cref="PostgreSqlLedgerStoreOptions.SnapshotsToKeep"/>, and a fencing check;
    /// durable when the commit returns, absent if anything failed or the token was cancelled before the commit.
    /// </remarks>
    public async ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfNotOpen();
        long durable = Volatile.Read(ref _durableBatchNumber);
        if (batchNumber == 0 || batchNumber > (ulong)durable)
        {
            throw new ArgumentOutOfRangeException(nameof(batchNumber), batchNumber, $"A snapshot is taken after a durable batch: 1 to {durable}.");
        }

        int chunkBytes = _options.SnapshotChunkBytes;
        long chunkCount = (state.Length + chunkBytes - 1) / chunkBytes;
        if (chunkCount > int.MaxValue)
        {
            throw new ArgumentException($"A snapshot of {state.Length} bytes needs more than {int.MaxValue} chunks of {chunkBytes} bytes.", nameof(state));
        }

        byte[] hash = Sha256(state);
        long number = checked((long)batchNumber);
        await _snapshotGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        byte[]? staging = null;
        try
        {
            await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);

            // A snapshot of the same batch written again replaces the old one.
            await using (var delete = new NpgsqlBatch(connection, transaction))
            {
                delete.BatchCommands.Add(Command(_sql.DeleteSnapshotChunks, LedgerParameter(), BigintParameter(number)));
                delete.BatchCommands.Add(Command(_sql.DeleteSnapshotRow, LedgerParameter(), BigintParameter(number)));
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var insert = new NpgsqlCommand(_sql.InsertSnapshot, connection, transaction))
            {
                insert.Parameters.Add(LedgerParameter());
                insert.Parameters.Add(BigintParameter(number));
                insert.Parameters.Add(BigintParameter(state.Length));
                insert.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = (int)chunkCount });
                insert.Parameters.Add(new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = hash });
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var chunkInsert = new NpgsqlCommand(_sql.InsertSnapshotChunk, connection, transaction))
            {
                var chunkNumber = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer };
                var chunkData = new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea };
                chunkInsert.Parameters.Add(LedgerParameter());
                chunkInsert.Parameters.Add(BigintParameter(number));
                chunkInsert.Parameters.Add(chunkNumber);
                chunkInsert.Parameters.Add(chunkData);
                int chunk = 0;
                for (long offset = 0; offset < state.Length; offset += chunkBytes, chunk++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    ReadOnlySequence<byte> part = state.Slice(offset, Math.Min(chunkBytes, state.Length - offset));
                    ReadOnlyMemory<byte> data;
                    if (part.IsSingleSegment)
                    {
                        data = part.First;
                    }
                    else
                    {
                        staging ??= ArrayPool<byte>.Shared.Rent(chunkBytes);
                        part.CopyTo(staging);
                        data = staging.AsMemory(0, (int)part.Length);
                    }

                    chunkNumber.TypedValue = chunk;
                    chunkData.TypedValue = data;
                    await chunkInsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                chunkData.TypedValue = default;
            }

            await using (var prune = new NpgsqlBatch(connection, transaction))
            {
                var kept = new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = _options.SnapshotsToKeep };
                prune.BatchCommands.Add(Command(_sql.PruneSnapshotChunks, LedgerParameter(), kept));
                prune.BatchCommands.Add(Command(_sql.PruneSnapshotRows, LedgerParameter(), new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = _options.SnapshotsToKeep }));
                await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // The fencing check last, so its lock is held only for the commit: a newer writer's open either committed
            // before (we see its epoch and roll back) or waits for this commit.
            long epoch;
            await using (var check = new NpgsqlCommand(_sql.CheckLeaseShared, connection, transaction))
            {
                check.Parameters.Add(LedgerParameter());
                epoch = await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long current ? current : -1;
            }

            if (epoch != Volatile.Read(ref _epoch))
            {
                ThrowHelper.ThrowFenced(_ledger, Volatile.Read(ref _epoch), epoch);
            }

            cancellationToken.ThrowIfCancellationRequested();
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            // The journal is untouched and the older snapshots too (the transaction rolled back, or committed whole).
            throw new LedgerStoreException($"Writing the snapshot after batch {batchNumber} of ledger '{_ledger}' failed.", ex);
        }
        finally
        {
            if (staging is not null)
            {
                ArrayPool<byte>.Shared.Return(staging);
            }

            _snapshotGate.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The chunks of the newest whole snapshot become the segments of the returned state as they are, one array per chunk
    /// row, never joined into one array (a state past 2 GiB could not be). A snapshot whose chunks are missing, misnumbered,
    /// of the wrong total length or do not hash to its row is passed over for the one before. The snapshot owns its
    /// arrays: nothing the store does later touches them.
    /// </remarks>
    public async ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfNotOpen();
        try
        {
            await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

            // One REPEATABLE READ transaction: the snapshot rows and their chunks as of one moment, whatever writes or
            // prunes meanwhile.
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            foreach (SnapshotRow row in await ListSnapshotsAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
            {
                var chunks = new List<ReadOnlyMemory<byte>>();
                if (await ReadSnapshotAsync(connection, transaction, row, chunks, cancellationToken).ConfigureAwait(false))
                {
                    return new LedgerSnapshot(checked((ulong)row.BatchNumber), chunks);
                }
            }

            return null;
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            throw new LedgerStoreException($"Reading the latest snapshot of ledger '{_ledger}' failed.", ex);
        }
    }

    // At open: the newest intact snapshot's batch number (0 if none), checked chunk by chunk without keeping the state.
    private async Task<ulong> FindLatestSnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (SnapshotRow row in await ListSnapshotsAsync(connection, transaction, cancellationToken).ConfigureAwait(false))
        {
            if (await ReadSnapshotAsync(connection, transaction, row, chunks: null, cancellationToken).ConfigureAwait(false))
            {
                return checked((ulong)row.BatchNumber);
            }
        }

        return 0;
    }

    private async Task<List<SnapshotRow>> ListSnapshotsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var rows = new List<SnapshotRow>();
        await using var command = new NpgsqlCommand(_sql.ListSnapshots, connection, transaction);
        command.Parameters.Add(LedgerParameter());
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new SnapshotRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetFieldValue<byte[]>(3)));
        }

        return rows;
    }

    // Reads a snapshot's chunks in order, checking their numbering, total length, count and hash; adds them to `chunks`
    // when it is not null (and clears it again when the snapshot turns out damaged). True when the snapshot is whole.
    private async Task<bool> ReadSnapshotAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SnapshotRow row, List<ReadOnlyMemory<byte>>? chunks, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        int count = 0;
        bool whole = true;
        await using (var command = new NpgsqlCommand(_sql.ReadSnapshotChunks, connection, transaction))
        {
            command.Parameters.Add(LedgerParameter());
            command.Parameters.Add(BigintParameter(row.BatchNumber));

            // SequentialAccess: one chunk in memory at a time while checking; kept chunks are the only copies.
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!whole)
                {
                    continue; // drain the rest of a damaged snapshot's rows
                }

                cancellationToken.ThrowIfCancellationRequested();
                int chunk = reader.GetInt32(0);
                long length = reader.GetBytes(1, 0, null, 0, 0);
                if (chunk != count || total + length > row.Length)
                {
                    whole = false;
                    continue;
                }

                byte[] bytes = await reader.GetFieldValueAsync<byte[]>(1, cancellationToken).ConfigureAwait(false);
                hash.AppendData(bytes);
                chunks?.Add(bytes);
                total += bytes.Length;
                count++;
            }
        }

        whole = whole && total == row.Length && count == row.ChunkCount && hash.GetHashAndReset().AsSpan().SequenceEqual(row.Hash);
        if (!whole)
        {
            chunks?.Clear();
        }

        return whole;
    }

    private static byte[] Sha256(ReadOnlySequence<byte> state)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            hash.AppendData(segment.Span);
        }

        return hash.GetHashAndReset();
    }

    private static NpgsqlParameter<long> BigintParameter(long value) => new() { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = value };

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private sealed record SnapshotRow(long BatchNumber, long Length, int ChunkCount, byte[] Hash);
}
