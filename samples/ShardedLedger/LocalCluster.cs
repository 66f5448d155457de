using System.Globalization;
using Npgsql;
using Orleans.TestingHost;

namespace ShardedLedger;

/// <summary>
/// A sharded-ledger cluster of several silos in this process (Orleans' TestingHost: real silos talking over loopback
/// TCP, with the test cluster's development membership, which needs the first silo: only the others are killed), plus a
/// client and the journal. Used by the sample's demo, its
/// tests and its benchmark. In production each silo is its own process on its own machine with the same grains and a
/// real membership provider; nothing in the grains knows the difference.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private LocalCluster(TestCluster cluster, ShardedLedgerSettings settings, NpgsqlDataSource dataSource)
    {
        Cluster = cluster;
        Settings = settings;
        _dataSource = dataSource;
        Map = new ShardMap(settings.ShardCount);
        Client = new ShardedLedgerClient(cluster.GrainFactory, Map);
        Journal = new PaymentJournal(dataSource, settings.Cluster);
    }

    /// <summary>The Orleans test cluster.</summary>
    public TestCluster Cluster { get; }

    /// <summary>The settings every silo runs with.</summary>
    public ShardedLedgerSettings Settings { get; }

    /// <summary>The shard map.</summary>
    public ShardMap Map { get; }

    /// <summary>The application's client.</summary>
    public ShardedLedgerClient Client { get; }

    /// <summary>The coordinators' journal.</summary>
    public PaymentJournal Journal { get; }

    /// <summary>Starts a cluster whose data is new (a fresh cluster name: its own ledgers and journal rows).</summary>
    /// <param name="connectionString">The PostgreSQL database.</param>
    /// <param name="shardCount">Shards.</param>
    /// <param name="silos">Silos (at least 1).</param>
    /// <param name="stallAfterHolds">Fault injection (<see cref="ShardedLedgerSettings.StallAfterHolds"/>).</param>
    /// <param name="stallAfterDecision">Fault injection (<see cref="ShardedLedgerSettings.StallAfterDecision"/>).</param>
    /// <returns>The running cluster.</returns>
    public static async Task<LocalCluster> StartAsync(string connectionString, int shardCount, int silos = 2, PaymentIdRange stallAfterHolds = default, PaymentIdRange stallAfterDecision = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(silos, 1);
        var settings = new ShardedLedgerSettings
        {
            ShardCount = shardCount,
            Cluster = "sharded-" + Guid.NewGuid().ToString("N")[..12],
            ConnectionString = connectionString,
            StallAfterHolds = stallAfterHolds,
            StallAfterDecision = stallAfterDecision,
        };
        _ = new ShardMap(shardCount); // checks the count before any silo starts
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.ClusterId = settings.Cluster;

        // TestingHost logs every silo and the client to files under ./logs by default: a sample that CI runs from the
        // repository's root must leave nothing behind (SHARDED_DEBUG=1 prints the silos' warnings instead).
        builder.Options.ConfigureFileLogging = false;
        string Key(string name) => ShardedLedgerSettings.Section + ":" + name;
        builder.Properties[Key(nameof(ShardedLedgerSettings.ShardCount))] = shardCount.ToString(CultureInfo.InvariantCulture);
        builder.Properties[Key(nameof(ShardedLedgerSettings.Cluster))] = settings.Cluster;
        builder.Properties[Key(nameof(ShardedLedgerSettings.ConnectionString))] = connectionString;
        builder.Properties[Key(nameof(ShardedLedgerSettings.StallAfterHolds))] = stallAfterHolds.ToString();
        builder.Properties[Key(nameof(ShardedLedgerSettings.StallAfterDecision))] = stallAfterDecision.ToString();
        builder.AddSiloBuilderConfigurator<ShardedSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ShardedClientConfigurator>();
        TestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var local = new LocalCluster(cluster, settings, dataSource);
        await local.Journal.EnsureTableAsync();
        return local;
    }

    /// <summary>The silo an activation reported, or null if it is not one of the running silos.</summary>
    /// <param name="activation">What the grain reported.</param>
    /// <returns>The silo's handle.</returns>
    public SiloHandle? SiloOf(ActivationInfo activation) =>
        Cluster.Silos.FirstOrDefault(s => activation.Silo.Contains(s.SiloAddress.Endpoint.ToString(), StringComparison.Ordinal));

    /// <summary>The first coordinator key, from <paramref name="firstKey"/> up, whose activation runs on a silo other than the
    /// primary (which hosts the test cluster's membership and must not be killed).</summary>
    /// <param name="firstKey">Where to start looking.</param>
    /// <returns>The key and the silo.</returns>
    /// <exception cref="InvalidOperationException">The cluster has one silo, or no key up to 1,000 tries landed on another.</exception>
    public async Task<(long Key, SiloHandle Silo)> CoordinatorOnSecondaryAsync(long firstKey)
    {
        for (long key = firstKey; key < firstKey + 1000; key++)
        {
            ActivationInfo info = await Cluster.GrainFactory.GetGrain<IPaymentCoordinatorGrain>(key).GetActivationAsync();
            if (SiloOf(info) is { } silo && silo != Cluster.Primary)
            {
                return (key, silo);
            }
        }

        throw new InvalidOperationException("No coordinator activation landed on a secondary silo.");
    }

    /// <summary>
    /// Makes sure shard <paramref name="shard"/> runs on <paramref name="silo"/>, migrating its activation there if it runs
    /// elsewhere (the migration deactivates it, so its engine closes, and the new activation reopens the store under a
    /// higher fencing epoch). Placement is the runtime's choice, so without this a silo about to be killed may host no
    /// shard at all, and a kill would then show nothing of the takeover.
    /// </summary>
    /// <param name="shard">The shard.</param>
    /// <param name="silo">A live silo.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">The shard still runs elsewhere after the migration.</exception>
    public async Task PlaceShardOnAsync(int shard, SiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ILedgerShardGrain grain = Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(shard);
        if (SiloOf(await grain.GetActivationAsync()) == silo)
        {
            return;
        }

        await Cluster.MigrateAsync(grain, silo.SiloAddress);
        if (SiloOf(await grain.GetActivationAsync()) != silo)
        {
            throw new InvalidOperationException($"Shard {shard} did not move to silo {silo.SiloAddress}.");
        }
    }

    /// <summary>Kills a silo without a graceful shutdown (its activations are not deactivated, and whatever they were
    /// doing in this process may go on, as a partitioned or paused machine's would), then waits until the cluster has
    /// declared it dead, so that calls reach new activations on the silos left.</summary>
    /// <param name="silo">A secondary silo.</param>
    /// <returns>A task.</returns>
    /// <exception cref="TimeoutException">The cluster did not declare it dead within 30 s.</exception>
    public async Task KillAsync(SiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        await Cluster.KillSiloAsync(silo);
        IManagementGrain management = Cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await management.GetHosts(onlyActive: true)).ContainsKey(silo.SiloAddress))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"Silo {silo.SiloAddress} was killed but is still active in the membership after 30 s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs a call, retrying for up to 30 s while it fails because it was routed to a silo that died (a
    /// client or silo may still hold the dead silo's address for a grain until it learns of the death).</summary>
    /// <typeparam name="T">The call's result.</typeparam>
    /// <param name="call">The call.</param>
    /// <returns>Its result.</returns>
    public static async Task<T> RetryAfterFailoverAsync<T>(Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        finally
        {
            await Cluster.DisposeAsync();
            await _dataSource.DisposeAsync();
        }
    }
}
