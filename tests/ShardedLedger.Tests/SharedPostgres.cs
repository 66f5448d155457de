namespace ShardedLedger.Tests;

/// <summary>
/// One PostgreSQL server for the whole test run: MICROPAY_PG_CONNECTION's, or one pg.sh starts (it stops when this
/// process is gone). Every cluster has a name of its own, so its ledgers and journal rows never meet another's.
/// </summary>
internal static class SharedPostgres
{
    private static readonly Lazy<Task<LocalPostgres>> Server = new(LocalPostgres.StartAsync);

    public static async Task<string> ConnectionStringAsync() => (await Server.Value).ConnectionString;
}

/// <summary>A 4-shard cluster on 2 silos, shared by the tests of a class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await LocalCluster.StartAsync(await SharedPostgres.ConnectionStringAsync(), shardCount: 4, silos: 2);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
