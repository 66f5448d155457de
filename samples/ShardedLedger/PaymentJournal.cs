using System.Buffers.Binary;
using Micropay.Core.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace ShardedLedger;

/// <summary>
/// The coordinators' durable journal: one row per cross-shard payment in PostgreSQL table
/// <c>micropay_sharded_payments</c>, keyed by (cluster, payment id), holding the payment's fields, the coordinator that
/// owns it and its state. Each method is one transaction, acknowledged after <c>COMMIT</c> (synchronous_commit on, the
/// server default), and takes a whole batch of payments.
/// </summary>
/// <remarks>
/// <para>
/// States: <see cref="JournalState.Prepared"/> (intent written, before any hold) → <see cref="JournalState.Committing"/>
/// or <see cref="JournalState.Aborting"/> (the decision, written before any post or void) →
/// <see cref="JournalState.Committed"/> or <see cref="JournalState.Aborted"/> (both sides resolved). The decision is a
/// compare-and-set from Prepared (<see cref="DecideAsync"/>): a coordinator that lost a race, or a dead activation that
/// is still running, reads the decision that won and carries that one out, so two decisions for one payment are
/// impossible. Why PostgreSQL and not Orleans grain storage: the journal must outlive any silo (memory storage dies
/// with it), and the shards' ledgers are in the same database already, so it adds no new dependency.
/// </para>
/// <para>
/// Ids and amounts are stored as 16-byte big-endian <c>bytea</c> (PostgreSQL has no 128-bit integer; byte order keeps
/// the index ordered like the numbers).
/// </para>
/// </remarks>
public sealed class PaymentJournal(NpgsqlDataSource dataSource, string cluster)
{
    /// <summary>The table's name (schema public).</summary>
    public const string Table = "micropay_sharded_payments";

    /// <summary>Creates the table if it does not exist (under an advisory lock: concurrent <c>CREATE TABLE IF NOT
    /// EXISTS</c> can fail on the catalog's unique index).</summary>
    /// <returns>A task.</returns>
    public async Task EnsureTableAsync()
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(
            $"""
            SELECT pg_advisory_xact_lock(hashtext('{Table}'));
            CREATE TABLE IF NOT EXISTS {Table} (
                cluster text NOT NULL,
                payment_id bytea NOT NULL,
                coordinator bigint NOT NULL,
                driver uuid NOT NULL,
                payer bytea NOT NULL,
                payee bytea NOT NULL,
                amount bytea NOT NULL,
                state smallint NOT NULL,
                reason integer NOT NULL,
                PRIMARY KEY (cluster, payment_id));
            CREATE INDEX IF NOT EXISTS {Table}_in_doubt ON {Table} (cluster, coordinator) WHERE state < 3;
            """,
            connection,
            transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>
    /// Journals the intent of each payment (state Prepared), or finds the row already there, in one transaction;
    /// returns each payment's row as it stands after the commit.
    /// </summary>
    /// <param name="coordinator">The coordinator that will drive them (and recover them if it dies).</param>
    /// <param name="driver">The coordinator's activation: its recovery leaves the rows it is driving itself alone.</param>
    /// <param name="payments">Payments with distinct ids.</param>
    /// <returns>One row per payment, in order: the new one, or the existing one (whose fields may differ).</returns>
    public async Task<JournalRow[]> RecordIntentsAsync(long coordinator, Guid driver, IReadOnlyList<Payment> payments)
    {
        byte[][] ids = new byte[payments.Count][];
        byte[][] payers = new byte[payments.Count][];
        byte[][] payees = new byte[payments.Count][];
        byte[][] amounts = new byte[payments.Count][];
        for (int i = 0; i < payments.Count; i++)
        {
            ids[i] = Bytes(payments[i].Id);
            payers[i] = Bytes(payments[i].Payer);
            payees[i] = Bytes(payments[i].Payee);
            amounts[i] = Bytes(payments[i].Amount);
        }

        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"""
            INSERT INTO {Table} (cluster, payment_id, coordinator, driver, payer, payee, amount, state, reason)
            SELECT $1, i.payment_id, $2, $7, i.payer, i.payee, i.amount, 0, 0
            FROM unnest($3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[]) AS i(payment_id, payer, payee, amount)
            ON CONFLICT (cluster, payment_id) DO NOTHING
            """,
            connection,
            transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = cluster });
            insert.Parameters.Add(new NpgsqlParameter { Value = coordinator });
            insert.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = payers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = payees, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = amounts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = driver });
            await insert.ExecuteNonQueryAsync();
        }

        Dictionary<UInt128, JournalRow> rows = await SelectAsync(connection, transaction, "payment_id = ANY($2)", (object)ids);
        await transaction.CommitAsync();
        var result = new JournalRow[payments.Count];
        for (int i = 0; i < payments.Count; i++)
        {
            result[i] = rows[payments[i].Id];
        }

        return result;
    }

    /// <summary>
    /// Records each payment's decision if it has none yet (compare-and-set from Prepared), in one transaction, and
    /// returns the decision that stands for each: its own, or the one another driver recorded first.
    /// </summary>
    /// <param name="paymentIds">The payments.</param>
    /// <param name="decisions">Committing or Aborting for each.</param>
    /// <param name="reasons">For an abort, the ledger result that caused it.</param>
    /// <returns>The rows after the decision, in order.</returns>
    public async Task<JournalRow[]> DecideAsync(UInt128[] paymentIds, JournalState[] decisions, CreateTransferResult[] reasons)
    {
        byte[][] ids = paymentIds.Select(Bytes).ToArray();
        short[] states = decisions.Select(d => (short)d).ToArray();
        int[] reasonCodes = reasons.Select(r => (int)r).ToArray();
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand(
            $"""
            UPDATE {Table} AS t SET state = d.state, reason = d.reason
            FROM unnest($2::bytea[], $3::smallint[], $4::integer[]) AS d(payment_id, state, reason)
            WHERE t.cluster = $1 AND t.payment_id = d.payment_id AND t.state = 0
            """,
            connection,
            transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = cluster });
            update.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
            update.Parameters.Add(new NpgsqlParameter { Value = states });
            update.Parameters.Add(new NpgsqlParameter { Value = reasonCodes });
            await update.ExecuteNonQueryAsync();
        }

        Dictionary<UInt128, JournalRow> rows = await SelectAsync(connection, transaction, "payment_id = ANY($2)", (object)ids);
        await transaction.CommitAsync();
        return paymentIds.Select(id => rows[id]).ToArray();
    }

    /// <summary>Marks decided payments as resolved (Committing → Committed, Aborting → Aborted), in one transaction.</summary>
    /// <param name="paymentIds">Payments whose both sides are resolved.</param>
    /// <returns>A task.</returns>
    public async Task FinishAsync(UInt128[] paymentIds)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            $"UPDATE {Table} SET state = state + 2 WHERE cluster = $1 AND payment_id = ANY($2) AND state IN (1, 2)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = cluster });
        command.Parameters.Add(new NpgsqlParameter { Value = paymentIds.Select(Bytes).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The payments of <paramref name="coordinator"/> that are not resolved yet and that another activation
    /// than <paramref name="except"/> journaled.</summary>
    /// <param name="coordinator">The coordinator.</param>
    /// <param name="except">The asking activation, whose own payments are still being driven.</param>
    /// <returns>Their rows.</returns>
    public async Task<JournalRow[]> InDoubtAsync(long coordinator, Guid except)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        Dictionary<UInt128, JournalRow> rows = await SelectAsync(connection, null, "coordinator = $2 AND state < 3 AND driver <> $3", coordinator, except);
        return rows.Values.OrderBy(r => r.Payment.Id).ToArray();
    }

    /// <summary>Every payment of the cluster (for checks).</summary>
    /// <returns>Their rows, by id.</returns>
    public async Task<JournalRow[]> ReadAllAsync()
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync();
        Dictionary<UInt128, JournalRow> rows = await SelectAsync(connection, null, "true");
        return rows.Values.OrderBy(r => r.Payment.Id).ToArray();
    }

    private async Task<Dictionary<UInt128, JournalRow>> SelectAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string condition, params object[] parameters)
    {
        await using var select = new NpgsqlCommand(
            $"SELECT payment_id, payer, payee, amount, state, reason, coordinator FROM {Table} WHERE cluster = $1 AND {condition}",
            connection,
            transaction);
        select.Parameters.Add(new NpgsqlParameter { Value = cluster });
        foreach (object parameter in parameters)
        {
            select.Parameters.Add(parameter is byte[][] ids
                ? new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea }
                : new NpgsqlParameter { Value = parameter });
        }

        var rows = new Dictionary<UInt128, JournalRow>();
        await using NpgsqlDataReader reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var payment = new Payment(
                Number(reader.GetFieldValue<byte[]>(0)),
                Number(reader.GetFieldValue<byte[]>(1)),
                Number(reader.GetFieldValue<byte[]>(2)),
                Number(reader.GetFieldValue<byte[]>(3)));
            rows[payment.Id] = new JournalRow(payment, (JournalState)reader.GetInt16(4), (CreateTransferResult)reader.GetInt32(5), reader.GetInt64(6));
        }

        return rows;
    }

    private static byte[] Bytes(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return bytes;
    }

    private static UInt128 Number(byte[] bytes) =>
        bytes.Length == 16 ? BinaryPrimitives.ReadUInt128BigEndian(bytes) : throw new InvalidDataException($"A journal id or amount is 16 bytes; got {bytes.Length}.");
}
