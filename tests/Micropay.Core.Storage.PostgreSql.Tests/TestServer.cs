using Npgsql;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// The PostgreSQL server the tests run against: a real one. The environment variable <c>MICROPAY_PG_CONNECTION</c> (an
/// Npgsql connection string, as <c>pg.sh start</c> beside this file prints it) names one; without it, the first test
/// that needs a server starts a throwaway one with <c>pg.sh start</c> (initdb in a temporary directory, listening on
/// 127.0.0.1 only), which pg.sh stops and deletes once the test process has exited. So a plain <c>dotnet test</c> on a fresh
/// clone needs nothing but the PostgreSQL binaries (pg.sh installs the Debian package when they are missing and it
/// runs as root).
/// </summary>
/// <remarks>
/// When no server can be started every test here fails, saying why: the conformance kit's facts are inherited
/// <c>[Fact]</c>s that xUnit 2 cannot skip at run time, and a store that "passed" by skipping would prove nothing.
/// Each test works on ledgers of its own (a fresh name), so test classes run in parallel on one database.
/// </remarks>
internal static class TestServer
{
    public const string Variable = "MICROPAY_PG_CONNECTION";

    private static readonly Lazy<NpgsqlDataSource> SharedDataSource = new(() => NpgsqlDataSource.Create(ConnectionString));

    private static readonly Lazy<string> Started = new(StartServer);

    /// <summary>The connection string: the variable's, or that of a server this process started; fails the test, saying why, when there is none.</summary>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : Started.Value;

    /// <summary>One pool for the whole test run; stores given it leave it open.</summary>
    public static NpgsqlDataSource DataSource => SharedDataSource.Value;

    // Runs pg.sh start with a state file of this process's own; pg.sh's watcher stops that server when this process has
    // exited (a ProcessExit handler is not enough: the test host may be killed at the end of a run).
    private static string StartServer()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pg.sh");
        string state = Path.Combine(Path.GetTempPath(), $"micropay-pg-{Environment.ProcessId}.env");
        (int code, string output, string error) = RunScript(script, "start", state);
        const string Prefix = "export " + Variable + "='";
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        if (code != 0 || line is null)
        {
            throw new InvalidOperationException(
                $"{Variable} is not set and pg.sh could not start a PostgreSQL server (exit {code}): {error.Trim()} " +
                "Install PostgreSQL's binaries (initdb, pg_ctl), or point the variable at a server.");
        }

        return line[Prefix.Length..].TrimEnd('\'', '\r');
    }

    internal static (int Code, string Output, string Error) RunScript(string script, string command, string state)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash", [script, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MICROPAY_PG_STATE"] = state;
        start.Environment["MICROPAY_PG_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

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
