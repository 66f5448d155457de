using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting.Tests;

/// <summary>Wrong options fail the host's start with a message naming the setting, before the engine opens anything.</summary>
public sealed class MicropayOptionsValidatorTests : HostingTestKit
{
    [Fact]
    public async Task StartAsync_NoJournalDirectory_ThrowsNamingJournalDirectory()
    {
        OptionsValidationException e = await StartFailsAsync(options => options.JournalDirectory = null);

        Assert.Contains("MicropayOptions.JournalDirectory is required in Durable mode", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UndefinedDurability_ThrowsNamingDurability()
    {
        OptionsValidationException e = await StartFailsAsync(options => options.Durability = (DurabilityMode)7);

        Assert.Contains("MicropayOptions.Durability is 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_AuditWithoutOperatorKey_ThrowsNamingOperatorKey()
    {
        OptionsValidationException e = await StartFailsAsync(options => options.AuditDirectory = Path.Combine(Root, "audit"));

        Assert.Contains("MicropayOptions.OperatorKey is not", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Root, "audit")));
    }

    [Fact]
    public async Task StartAsync_SeveralWrongSettings_ListsEveryOne()
    {
        OptionsValidationException e = await StartFailsAsync(options =>
        {
            options.IngressCapacity = 1000;
            options.MaxBatchSize = 0;
            options.SnapshotIntervalBatches = -1;
        });

        Assert.Contains("MicropayOptions.IngressCapacity is 1000", e.Message, StringComparison.Ordinal);
        Assert.Contains("MicropayOptions.MaxBatchSize is 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("MicropayOptions.SnapshotIntervalBatches is -1", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, e.Failures.Count());
    }

    [Fact]
    public async Task StartAsync_AuditWithOperatorKey_OpensAndKeepsAnAuditLog()
    {
        using SigningKey key = SigningKey.Generate();
        string audit = Path.Combine(Root, "audit");
        using IHost host = BuildHost(new CapturingLoggerProvider(), options =>
        {
            options.AuditDirectory = audit;
            options.OperatorKey = key;
        });

        await host.StartAsync();

        Assert.True(host.Services.GetRequiredService<MicropayEngineProvider>().Engine.AuditEnabled);
        Assert.True(Directory.Exists(audit));
        await host.StopAsync();
    }

    [Fact]
    public async Task AddMicropay_FromConfiguration_BindsTheSection()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Micropay:JournalDirectory"] = JournalDirectory,
            ["Micropay:Durability"] = "Buffered",
            ["Micropay:IngressCapacity"] = "4096",
        });
        builder.Services.AddMicropay(builder.Configuration.GetSection(MicropayOptions.DefaultSectionName));
        using IHost host = builder.Build();

        await host.StartAsync();

        MicropayOptions options = host.Services.GetRequiredService<IOptions<MicropayOptions>>().Value;
        Assert.Equal(4096, options.IngressCapacity);
        Assert.Equal(DurabilityMode.Buffered, host.Services.GetRequiredService<MicropayEngineProvider>().Engine.Durability);
        await host.StopAsync();
    }

    private async Task<OptionsValidationException> StartFailsAsync(Action<MicropayOptions> configure)
    {
        var logs = new CapturingLoggerProvider();
        using IHost host = BuildHost(logs, configure);
        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Empty(logs.WithId(MicropayEventIds.EngineOpening));
        Assert.False(Directory.Exists(JournalDirectory));
        return e;
    }
}
