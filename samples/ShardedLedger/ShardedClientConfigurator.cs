using Orleans.Configuration;
using Orleans.TestingHost;

namespace ShardedLedger;

/// <summary>The local cluster's client: calls time out like the silos' (a call to a killed silo fails rather than hangs),
/// and the gateway list is refreshed every second.</summary>
public sealed class ShardedClientConfigurator : IClientBuilderConfigurator
{
    /// <inheritdoc />
    public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder)
    {
        ArgumentNullException.ThrowIfNull(clientBuilder);
        clientBuilder.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(10));

        // The client sends through gateways; it must drop a dead silo's gateway from its list within seconds.
        clientBuilder.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
    }
}
