using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Benchmarks.Storage;
using Micropay.Core.Storage;
using Micropay.Core.Storage.PostgreSql;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Benchmarks.PostgreSql;

/// <summary>
/// <c>--pg-commit-floor [rounds]</c>: where the time of a one-event <see cref="PostgreSqlLedgerStore"/> append goes, on a
/// loaded machine. Rounds interleave every variant (one operation of each per round, in a rotating order), so a change in
/// load hits all of them alike and the ratios between medians hold even when the absolute times drift, which separate
/// BenchmarkDotNet cases (minutes apart) do not give on a shared VM.
/// </summary>
/// <remarks>
/// Variants, each one durable commit (<c>synchronous_commit</c> on) except the first:
/// <list type="bullet">
/// <item><c>SELECT 1</c>: one round trip, no commit (the network and protocol floor).</item>
/// <item>The user's single-row INSERT (<see cref="PostgreSqlAppendBenchmarks.Insert_CommitPerEvent"/>'s statement): one
/// round trip and one WAL flush, the reference.</item>
/// <item>The same INSERT through <c>ExecuteNonQueryAsync</c>, waited for on the calling thread, as a benchmark (or any
/// synchronous caller) waits for <see cref="ILedgerStore.AppendAsync"/>: the cost of the thread hop alone.</item>
/// <item>The store's row without the fencing: the same (ledger, batch_number, hash, bytes) row into a table shaped like the
/// store's, one autocommitted INSERT.</item>
/// <item>The store's statement by hand, two ways: autocommitted (what the store sends since it implements one round trip
/// per append) and as <c>BEGIN</c> + statement, then <c>COMMIT</c> (what it sent before: two round trips).</item>
/// <item><see cref="ILedgerStore.AppendAsync"/> (waited for as the BenchmarkDotNet class does, and awaited inside an async
/// method) and <see cref="IEncodedBatchAppender.AppendEncoded"/> of a real store.</item>
/// </list>
/// The last column is what each operation allocated on the calling thread (the report's own parameter arrays included
/// for the hand-written variants; continuations on I/O threads not counted).
/// </remarks>
public static class CommitFloorReport
{
    private const string Schema = "micropay_floor";

    /// <summary>Runs the report.</summary>
    /// <param name="output">Where the table goes.</param>
    /// <param name="rounds">Rounds (one operation per variant each).</param>
    public static void Run(TextWriter output, int rounds)
    {
        using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(BenchmarkServer.ConnectionString);
        using NpgsqlConnection connection = dataSource.OpenConnection();
        Execute(connection, $"""
            DROP SCHEMA IF EXISTS {Schema} CASCADE;
            CREATE SCHEMA {Schema};
            CREATE TABLE {Schema}.events (seq bigint PRIMARY KEY, bytes bytea NOT NULL);
            CREATE TABLE {Schema}.rows (ledger text NOT NULL, batch_number bigint NOT NULL, hash bytea NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (ledger, batch_number));
            ALTER TABLE {Schema}.rows ALTER COLUMN bytes SET STORAGE EXTERNAL;
            CREATE TABLE {Schema}.leases (ledger text PRIMARY KEY, epoch bigint NOT NULL);
            INSERT INTO {Schema}.leases VALUES ('hand', 1);
            """);

        int chainLength = 3 * (rounds + 20); // three store appends per round and per warm-up round
        BatchChain chain = BatchChain.Create(chainLength, 1);
        byte[] hash = new byte[BatchHash.Size];
        ReadOnlyMemory<byte> eventBytes = chain.Encoded[0].AsMemory(CommitBatchHeader.Size, CommitBatch.EventSize);

        using var select1 = new NpgsqlCommand("SELECT 1", connection);
        select1.Prepare();
        using NpgsqlCommand insertEvent = Prepared(connection, $"INSERT INTO {Schema}.events (seq, bytes) VALUES ($1, $2)", NpgsqlDbType.Bigint, NpgsqlDbType.Bytea);
        using NpgsqlCommand insertRow = Prepared(connection, $"INSERT INTO {Schema}.rows (ledger, batch_number, hash, bytes) VALUES ($1, $2, $3, $4)", NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bytea, NpgsqlDbType.Bytea);
        using NpgsqlCommand insertFenced = Prepared(
            connection,
            $"INSERT INTO {Schema}.rows (ledger, batch_number, hash, bytes) SELECT $1, $2, $3, $4 FROM {Schema}.leases WHERE ledger = $1 AND epoch = 1 FOR NO KEY UPDATE",
            NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Bytea, NpgsqlDbType.Bytea);

        var store = new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = dataSource, Schema = Schema, LedgerName = "store" });
        BatchChain.OpenEmpty(store);
        var encoded = (IEncodedBatchAppender)store;

        long seq = 0;
        long handNumber = 0;
        int next = 0;
        (string Name, Action Run)[] variants =
        [
            ("SELECT 1 (round trip, no commit)", () => select1.ExecuteScalar()),
            ("user's single-row INSERT (reference)", () => Run(insertEvent, seq++, eventBytes)),
            ("user's INSERT, ExecuteNonQueryAsync waited (as AppendAsync is)", () =>
            {
                insertEvent.Parameters[0].Value = seq++;
                insertEvent.Parameters[1].Value = eventBytes.ToArray();
                insertEvent.ExecuteNonQueryAsync().GetAwaiter().GetResult();
            }),
            ("store's row, plain INSERT, no fencing", () => Run(insertRow, "plain", ++handNumber, hash, chain.Encoded[0])),
            ("store's fenced INSERT, autocommit (1 round trip)", () => Run(insertFenced, "hand", ++handNumber, hash, chain.Encoded[0])),
            ("store's fenced INSERT, BEGIN ... COMMIT (2 round trips)", () =>
            {
                using NpgsqlTransaction transaction = connection.BeginTransaction();
                insertFenced.Transaction = transaction;
                Run(insertFenced, "hand", ++handNumber, hash, chain.Encoded[0]);
                transaction.Commit();
                insertFenced.Transaction = null;
            }),
            ("PostgreSqlLedgerStore.AppendAsync", () => BatchChain.Wait(store.AppendAsync(chain.Batches[next++]))),
            ("PostgreSqlLedgerStore.AppendAsync, awaited by an async caller", () => AwaitAppend(store, chain.Batches[next++]).GetAwaiter().GetResult()),
            ("PostgreSqlLedgerStore AppendEncoded", () =>
            {
                int i = next++;
                encoded.AppendEncoded(chain.Batches[i].Header, chain.Encoded[i], chain.Encoded[i].Length, overlap: null);
            }),
        ];

        // Warm-up: every statement prepared and run, every path jitted.
        for (int w = 0; w < 20; w++)
        {
            foreach ((_, Action run) in variants)
            {
                run();
            }
        }

        var times = new double[variants.Length][];
        var allocated = new long[variants.Length]; // on this thread: what a synchronous path allocates per operation
        for (int v = 0; v < variants.Length; v++)
        {
            times[v] = new double[rounds];
        }

        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        for (int r = 0; r < rounds; r++)
        {
            for (int k = 0; k < variants.Length; k++)
            {
                int v = (r + k) % variants.Length; // rotate the order: no variant always follows another
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                variants[v].Run();
                times[v][r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                allocated[v] += GC.GetAllocatedBytesForCurrentThread() - bytes;
            }
        }

        BatchChain.Wait(store.DisposeAsync());
        Execute(connection, $"DROP SCHEMA {Schema} CASCADE");

        double reference = Median(times[1]);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rounds} rounds, one operation of each variant per round; load before: {load}; after: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}"));
        output.WriteLine("| Variant | P50 (µs) | P90 (µs) | P99 (µs) | P50 / reference | Allocated on the calling thread |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (int v = 0; v < variants.Length; v++)
        {
            double[] sorted = [.. times[v].Order()];
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {variants[v].Name} | {Percentile(sorted, 0.5):F1} | {Percentile(sorted, 0.9):F1} | {Percentile(sorted, 0.99):F1} | {Percentile(sorted, 0.5) / reference:F2}x | {allocated[v] / rounds} B |"));
        }
    }

    // An async caller's await (the continuation runs where the store's statement completed), then one Task for the
    // report's synchronous loop to wait on: against BatchChain.Wait's ValueTask.AsTask(), this shows whether the
    // difference is the store's or the way a synchronous caller waits for a ValueTask.
    private static async Task AwaitAppend(ILedgerStore store, CommitBatch batch) => await store.AppendAsync(batch).ConfigureAwait(false);

    private static NpgsqlCommand Prepared(NpgsqlConnection connection, string sql, params NpgsqlDbType[] types)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (NpgsqlDbType type in types)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = type });
        }

        command.Prepare();
        return command;
    }

    private static void Run(NpgsqlCommand command, params object[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] is ReadOnlyMemory<byte> memory ? memory.ToArray() : values[i];
        }

        if (command.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException($"'{command.CommandText}' inserted no row.");
        }
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static double Median(double[] values) => Percentile([.. values.Order()], 0.5);

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
