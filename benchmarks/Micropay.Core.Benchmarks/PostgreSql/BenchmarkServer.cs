using System.Diagnostics;
using System.Globalization;

namespace Micropay.Core.Benchmarks.PostgreSql;

/// <summary>
/// The PostgreSQL server the benchmarks in this folder run against: the one <c>MICROPAY_PG_CONNECTION</c> names (an
/// Npgsql connection string, as CI exports it), or else a throwaway one this process starts with the tests' <c>pg.sh</c>
/// (copied beside the benchmarks at build: initdb in a temporary directory, 127.0.0.1 only, PostgreSQL's durable
/// defaults), started once per process and stopped when the process exits (by a handler here, and by pg.sh's own
/// watcher should the process be killed).
/// </summary>
public static class BenchmarkServer
{
    /// <summary>The environment variable naming a server.</summary>
    public const string Variable = "MICROPAY_PG_CONNECTION";

    private static readonly Lazy<string> Started = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private static string? _stateFile;

    /// <summary>The connection string of the server to use; starts one on first use when the variable is unset.</summary>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : Started.Value;

    private static string Start()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pg.sh");
        _stateFile = Path.Combine(Path.GetTempPath(), $"micropay-pg-bench-{Environment.ProcessId}.env");
        (int code, string output, string error) = Run(script, "start");
        const string Prefix = "export " + Variable + "='";
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        if (code != 0 || line is null)
        {
            throw new InvalidOperationException(
                $"{Variable} is not set and pg.sh could not start a PostgreSQL server (exit {code}): {error.Trim()} " +
                "Install PostgreSQL's binaries (initdb, pg_ctl), or point the variable at a server.");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => Run(script, "stop");
        return line[Prefix.Length..].TrimEnd('\'', '\r');
    }

    private static (int Code, string Output, string Error) Run(string script, string command)
    {
        var start = new ProcessStartInfo("bash", [script, command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MICROPAY_PG_STATE"] = _stateFile;
        start.Environment["MICROPAY_PG_OWNER_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
