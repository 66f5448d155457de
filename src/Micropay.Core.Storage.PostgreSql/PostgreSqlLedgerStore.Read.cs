using System.Data;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Storage.PostgreSql;

// Reading the journal: page by page in one REPEATABLE READ transaction, every batch checked as it goes.
public sealed partial class PostgreSqlLedgerStore
{
    // What one page of a read aims to hold: an enumeration abandoned midway leaves at most this much (or one batch) for
    // the connection to drain, and a page costs one round trip.
    private const int ReadPageTargetBytes = 4 * 1024 * 1024;

    private const int ReadPageMaxRows = 1024;

    /// <inheritdoc />
    /// <remarks>
    /// Streams: one batch's bytes in memory at a time (in a buffer the enumeration reuses), fetched in pages of about
    /// 4 MiB, inside one REPEATABLE READ transaction on a connection of its own, so the journal it sees is fixed when it
    /// starts however many batches are appended meanwhile. Each batch is checked against its stored hash, its number and
    /// its chain to the one before; a batch that fails throws <see cref="LedgerStoreCorruptedException"/> naming it.
    /// </remarks>
    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(fromBatchNumber);
        ThrowIfNotOpen();
        return ReadBatchesCoreAsync(fromBatchNumber, cancellationToken);
    }

    private async IAsyncEnumerable<CommitBatch> ReadBatchesCoreAsync(ulong fromBatchNumber, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (fromBatchNumber > long.MaxValue)
        {
            yield break; // no journal reaches that far
        }

        NpgsqlConnection connection;
        NpgsqlTransaction transaction;
        BatchHash previousHash = BatchHash.Zero;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsServerFailure(ex))
        {
            throw new LedgerStoreException($"Reading batches from {_journalName} failed: no connection to the server.", ex);
        }

        await using (connection.ConfigureAwait(false))
        {
            try
            {
                transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
                if (fromBatchNumber > 1)
                {
                    // The hash the first returned batch must chain to.
                    await using var command = new NpgsqlCommand(_sql.ReadBatchHash, connection, transaction);
                    command.Parameters.Add(LedgerParameter());
                    command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = checked((long)fromBatchNumber - 1) });
                    if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is byte[] { Length: BatchHash.Size } hash)
                    {
                        previousHash = new BatchHash(hash);
                    }
                }
            }
            catch (Exception ex) when (IsServerFailure(ex))
            {
                throw new LedgerStoreException($"Reading batches from {_journalName} failed.", ex);
            }

            await using (transaction.ConfigureAwait(false))
            {
                // One buffer for the whole enumeration: a yielded batch's events are valid until the enumerator moves on.
                byte[] buffer = new byte[64 * 1024];
                byte[] hashBytes = new byte[BatchHash.Size];
                ulong expected = fromBatchNumber;
                int pageRows = 16;
                bool more = true;
                while (more)
                {
                    int rowsInPage = 0;
                    long pageBytes = 0;
                    NpgsqlCommand page = new(_sql.ReadBatchPage, connection, transaction);
                    NpgsqlDataReader reader;
                    try
                    {
                        page.Parameters.Add(LedgerParameter());
                        page.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = checked((long)expected) });
                        page.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = pageRows });

                        // SequentialAccess: the bytes column is read from the network into our buffer, never buffered whole by Npgsql.
                        reader = await page.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsServerFailure(ex))
                    {
                        await page.DisposeAsync().ConfigureAwait(false);
                        throw new LedgerStoreException($"Reading batches from {_journalName} failed.", ex);
                    }

                    await using (page.ConfigureAwait(false))
                    await using (reader.ConfigureAwait(false))
                    {
                        while (true)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            CommitBatch batch;
                            long number;
                            try
                            {
                                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                                {
                                    break;
                                }

                                number = reader.GetInt64(0);
                                if (checked((ulong)number) != expected)
                                {
                                    throw new LedgerStoreCorruptedException(_journalName, number, $"batch {expected} is missing: the next row is batch {number}");
                                }

                                int hashLength = await ReadColumnAsync(reader, 1, hashBytes, cancellationToken).ConfigureAwait(false);
                                int length = checked((int)reader.GetBytes(2, 0, null, 0, 0));
                                if (length > buffer.Length)
                                {
                                    buffer = new byte[Math.Max(length, Math.Min(buffer.Length * 2L, Array.MaxLength))];
                                }

                                await ReadColumnAsync(reader, 2, buffer, cancellationToken).ConfigureAwait(false);
                                ReadOnlySpan<byte> storedHash = hashBytes.AsSpan(0, Math.Min(hashLength, BatchHash.Size));
                                string? problem = hashLength == BatchHash.Size
                                    ? CheckBatch(expected, buffer.AsMemory(0, length), storedHash, out batch)
                                    : CheckBatch(expected, buffer.AsMemory(0, length), [], out batch);
                                if (problem is null && expected > 1 && batch.Header.PreviousBatchHash != previousHash)
                                {
                                    problem = $"batch {expected}'s previous batch hash does not match batch {expected - 1}'s hash";
                                }

                                if (problem is not null)
                                {
                                    throw new LedgerStoreCorruptedException(_journalName, number, problem);
                                }

                                previousHash = new BatchHash(storedHash);
                                rowsInPage++;
                                pageBytes += length;
                            }
                            catch (Exception ex) when (IsServerFailure(ex))
                            {
                                throw new LedgerStoreException($"Reading batch {expected} from {_journalName} failed.", ex);
                            }

                            yield return batch;
                            expected++;
                        }
                    }

                    // A short page is the journal's end (as of the transaction's view). Otherwise size the next page from
                    // this one's batches: about ReadPageTargetBytes, at least one row.
                    more = rowsInPage == pageRows;
                    long average = Math.Max(1, pageBytes / Math.Max(1, rowsInPage));
                    pageRows = (int)Math.Clamp(ReadPageTargetBytes / average, 1, ReadPageMaxRows);
                }
            }
        }
    }

    // Reads a bytea column of the current row (sequential access) into `destination` and returns its length; a
    // value longer than the destination is read up to its size (the caller checks the length it gets).
    private static async ValueTask<int> ReadColumnAsync(NpgsqlDataReader reader, int ordinal, byte[] destination, CancellationToken cancellationToken)
    {
        Stream stream = await reader.GetStreamAsync(ordinal, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            int total = 0;
            while (total < destination.Length)
            {
                int read = await stream.ReadAsync(destination.AsMemory(total), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total == destination.Length && stream.Length > total ? checked((int)stream.Length) : total;
        }
    }
}
