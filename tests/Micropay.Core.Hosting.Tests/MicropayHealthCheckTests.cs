using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Micropay.Core.Hosting.Tests;

/// <summary>The engine's health check through the host's HealthCheckService.</summary>
public sealed class MicropayHealthCheckTests : HostingTestKit
{
    [Fact]
    public async Task CheckHealth_BeforeStartAndAfterStop_IsUnhealthy()
    {
        using IHost host = BuildHealthHost();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();

        HealthReportEntry before = (await health.CheckHealthAsync()).Entries[MicropayHealthChecksBuilderExtensions.DefaultName];
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("not running", before.Description, StringComparison.Ordinal);

        await host.StartAsync();
        await host.StopAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task CheckHealth_Running_IsHealthyAndReportsTheBatchAndFreeSpace()
    {
        using IHost host = BuildHealthHost(degradedBelow: 1, unhealthyBelow: 1);
        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));

        HealthReportEntry entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["micropay"];

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(engine.ReleasedBatchNumber, entry.Data["releasedBatchNumber"]);
        Assert.True((long)entry.Data["journalFreeBytes"] > 0);
        await host.StopAsync();
    }

    [Fact]
    public async Task CheckHealth_FreeSpaceBelowTheDegradedThreshold_IsDegraded()
    {
        using IHost host = BuildHealthHost(degradedBelow: long.MaxValue, unhealthyBelow: 0);
        await host.StartAsync();

        HealthReportEntry entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["micropay"];

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("journal volume has", entry.Description, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task CheckHealth_FreeSpaceBelowTheUnhealthyThreshold_IsTheFailureStatus()
    {
        using IHost host = BuildHealthHost(degradedBelow: long.MaxValue, unhealthyBelow: long.MaxValue);
        await host.StartAsync();

        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["micropay"].Status);
        Assert.Contains("appends will soon fail", report.Entries["micropay"].Description, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task CheckHealth_InMemory_SkipsTheDiskCheck()
    {
        using IHost host = BuildHealthHost(degradedBelow: long.MaxValue, unhealthyBelow: long.MaxValue, inMemory: true);
        await host.StartAsync();

        HealthReportEntry entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["micropay"];

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.False(entry.Data.ContainsKey("journalFreeBytes"));
        await host.StopAsync();
    }

    private IHost BuildHealthHost(long degradedBelow = 0, long unhealthyBelow = 0, bool inMemory = false) =>
        BuildHost(
            new CapturingLoggerProvider(),
            options =>
            {
                if (inMemory)
                {
                    options.Durability = DurabilityMode.InMemory;
                }
            },
            services => services.AddHealthChecks().AddMicropay(configure: thresholds =>
            {
                thresholds.DegradedBelowFreeBytes = degradedBelow;
                thresholds.UnhealthyBelowFreeBytes = unhealthyBelow;
            }));
}
