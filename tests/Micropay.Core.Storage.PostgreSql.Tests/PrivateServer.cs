namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// A PostgreSQL server of one test's own, started with pg.sh under a state file of its own, for what the shared server
/// (<see cref="TestServer"/>, used by tests running in parallel) must not go through: a restart. Always a throwaway
/// server, even when <c>MICROPAY_PG_CONNECTION</c> names one, since that one is not ours to restart. Disposing it stops
/// it and deletes its data (pg.sh's watcher does too, should the test process die first).
/// </summary>
internal sealed class PrivateServer : IDisposable
{
    private readonly string _script = Path.Combine(AppContext.BaseDirectory, "pg.sh");
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"micropay-pg-{Environment.ProcessId}-{Guid.NewGuid():N}.env");

    private PrivateServer()
    {
    }

    public string ConnectionString { get; private set; } = "";

    public static PrivateServer Start()
    {
        var server = new PrivateServer();
        (int code, string output, string error) = TestServer.RunScript(server._script, "start", server._state);
        const string Prefix = "export " + TestServer.Variable + "='";
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        if (code != 0 || line is null)
        {
            server.Dispose();
            throw new InvalidOperationException($"pg.sh could not start a private PostgreSQL server (exit {code}): {error.Trim()}");
        }

        server.ConnectionString = line[Prefix.Length..].TrimEnd('\'', '\r');
        return server;
    }

    /// <summary>Restarts the server (fast shutdown: every session is ended) on the same port and data; returns when it accepts connections again.</summary>
    public void Restart()
    {
        (int code, _, string error) = TestServer.RunScript(_script, "restart", _state);
        if (code != 0)
        {
            throw new InvalidOperationException($"pg.sh restart failed (exit {code}): {error.Trim()}");
        }
    }

    public void Dispose() => TestServer.RunScript(_script, "stop", _state);
}
