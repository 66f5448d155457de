using Npgsql;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// The PostgreSQL server the tests run against: a real one, named by the environment variable
/// <c>MICROPAY_PG_CONNECTION</c> (an Npgsql connection string), which <c>pg.sh start</c> beside this file prints.
/// </summary>
/// <remarks>
/// Without the variable every test here fails, saying how to start a server, in CI and locally alike: the conformance
/// kit's facts are inherited <c>[Fact]</c>s that xUnit 2 cannot skip at run time, and a store that "passed" by skipping
/// would prove nothing. Run the tests with:
/// <code>
/// eval "$(bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh start)"
/// dotnet test tests/Micropay.Core.Storage.PostgreSql.Tests
/// bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh stop
/// </code>
/// Each test works on ledgers of its own (a fresh name), so test classes run in parallel on one database.
/// </remarks>
internal static class TestServer
{
    public const string Variable = "MICROPAY_PG_CONNECTION";

    private static readonly Lazy<NpgsqlDataSource> SharedDataSource = new(() => NpgsqlDataSource.Create(ConnectionString));

    /// <summary>The connection string; fails the test, saying how to get one, when the variable is unset.</summary>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set, so there is no PostgreSQL server to test against"
                + (Environment.GetEnvironmentVariable("CI") == "true" ? " (CI must start one before the tests)" : string.Empty)
                + ". Start one with: eval \"$(bash tests/Micropay.Core.Storage.PostgreSql.Tests/pg.sh start)\" (and stop it with pg.sh stop).");

    /// <summary>One pool for the whole test run; stores given it leave it open.</summary>
    public static NpgsqlDataSource DataSource => SharedDataSource.Value;

    public static string NewLedgerName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N");

    public static PostgreSqlLedgerStore Store(string ledger, int snapshotChunkBytes = 64 * 1024, int snapshotsToKeep = PostgreSqlLedgerStoreOptions.DefaultSnapshotsToKeep) =>
        new(new PostgreSqlLedgerStoreOptions
        {
            DataSource = DataSource,
            LedgerName = ledger,
            SnapshotChunkBytes = snapshotChunkBytes,
            SnapshotsToKeep = snapshotsToKeep,
        });

    /// <summary>Deletes every row of a ledger (a test's cleanup); nothing if the tables do not exist yet.</summary>
    public static async Task DeleteLedgerAsync(string ledger)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        foreach (string table in new[] { "micropay_snapshot_chunks", "micropay_snapshots", "micropay_batches", "micropay_leases" })
        {
            await using var command = new NpgsqlCommand($"DO $$ BEGIN IF to_regclass('public.{table}') IS NOT NULL THEN DELETE FROM public.{table} WHERE ledger = '{ledger.Replace("'", "''", StringComparison.Ordinal)}'; END IF; END $$", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public static async Task<object?> ScalarAsync(string sql, params object[] parameters)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (object parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteScalarAsync();
    }

    public static async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (object parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync();
    }
}
