using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace ShardedLedger;

/// <summary>
/// Configures each silo of the local cluster: the settings from the cluster's properties, one Npgsql data source per
/// silo, and failure detection tuned for a cluster on one machine (a killed silo is declared dead within a few
/// seconds, so its shards move quickly; the defaults are for networks and take tens of seconds).
/// </summary>
public sealed class ShardedSiloConfigurator : ISiloConfigurator
{
    /// <inheritdoc />
    public void Configure(ISiloBuilder siloBuilder)
    {
        ArgumentNullException.ThrowIfNull(siloBuilder);
        ShardedLedgerSettings settings = ShardedLedgerSettings.Read(siloBuilder.Configuration);
        siloBuilder.Services.AddSingleton(settings);
        if (Environment.GetEnvironmentVariable("SHARDED_DEBUG") == "1")
        {
            siloBuilder.Services.AddLogging(l => l.AddSimpleConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning));
        }

        siloBuilder.Services.AddSingleton(_ => NpgsqlDataSource.Create(settings.ConnectionString));
        siloBuilder.Configure<ClusterMembershipOptions>(options =>
        {
            options.ProbeTimeout = TimeSpan.FromSeconds(1);
            options.NumMissedProbesLimit = 2;
            options.NumVotesForDeathDeclaration = 1;
            options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
        });
        siloBuilder.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(10));
    }
}
