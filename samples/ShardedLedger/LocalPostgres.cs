using System.Diagnostics;
using System.Globalization;

namespace ShardedLedger;

/// <summary>
/// The PostgreSQL server the sample, its tests and its benchmark use: the one <c>MICROPAY_PG_CONNECTION</c> names, or
/// else a throwaway one that <c>pg.sh</c> (the PostgreSQL store tests' script, copied beside the program) starts on
/// 127.0.0.1 and that <see cref="DisposeAsync"/> stops. pg.sh also leaves a watcher that stops it when this process
/// has exited, however it ends.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    /// <summary>The variable that names a server.</summary>
    public const string Variable = "MICROPAY_PG_CONNECTION";

    private readonly string? _stateFile;

    private LocalPostgres(string connectionString, string? stateFile)
    {
        ConnectionString = connectionString;
        _stateFile = stateFile;
    }

    /// <summary>The Npgsql connection string.</summary>
    public string ConnectionString { get; }

    /// <summary>Whether this process started the server (and stops it).</summary>
    public bool Started => _stateFile is not null;

    /// <summary>Uses the named server, or starts one.</summary>
    /// <returns>The server.</returns>
    /// <exception cref="InvalidOperationException">No server is named and pg.sh could not start one (the message says why).</exception>
    public static async Task<LocalPostgres> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } named)
        {
            return new LocalPostgres(named, null);
        }

        string state = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"micropay-sharded-pg-{Environment.ProcessId}-{Guid.NewGuid():N}.env"));
        (int code, string output, string error) = await RunAsync("start", state);
        const string Prefix = "export " + Variable + "='";
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        if (code != 0 || line is null)
        {
            throw new InvalidOperationException(
                $"{Variable} is not set and pg.sh could not start a PostgreSQL server (exit {code}): {error.Trim()} " +
                "Install PostgreSQL's binaries (initdb, pg_ctl), or point the variable at a server.");
        }

        return new LocalPostgres(line[Prefix.Length..].TrimEnd('\'', '\r'), state);
    }

    /// <summary>Stops the server if this process started it.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_stateFile is not null)
        {
            await RunAsync("stop", _stateFile);
        }
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(string command, string state)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pg.sh");
        var start = new ProcessStartInfo("bash", [script, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MICROPAY_PG_STATE"] = state;
        start.Environment["MICROPAY_PG_OWNER_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not run bash.");
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output, await error);
    }
}
