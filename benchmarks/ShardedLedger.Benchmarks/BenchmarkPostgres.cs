namespace ShardedLedger.Benchmarks;

/// <summary>
/// One PostgreSQL server per benchmark process (a process runs several benchmark cases in-process, or each case in a
/// child process that starts its own). pg.sh's watcher stops a server this process started once it exits, whatever
/// happens; <see cref="StopAsync"/> stops it at once at the end of a normal run.
/// </summary>
internal static class BenchmarkPostgres
{
    private static readonly Lazy<Task<LocalPostgres>> Server = new(LocalPostgres.StartAsync);

    public static async Task<string> ConnectionStringAsync() => (await Server.Value).ConnectionString;

    public static async Task StopAsync()
    {
        if (Server.IsValueCreated)
        {
            await (await Server.Value).DisposeAsync();
        }
    }
}
