using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Micropay.Core.Hosting.Tests;

/// <summary>The engine's lifetime in the generic host: opened on start, reachable from DI, drained and closed on stop.</summary>
public sealed class MicropayEngineServiceTests : HostingTestKit
{
    [Fact]
    public async Task StartAsync_FreshDirectory_OpensTheEngineAndAcceptsWork()
    {
        var logs = new CapturingLoggerProvider();
        using IHost host = BuildHost(logs);
        MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();
        Assert.False(provider.IsRunning);

        await host.StartAsync();
        Assert.True(provider.IsRunning);
        LedgerEngine engine = provider.Engine;
        Assert.Equal(DurabilityMode.Durable, engine.Durability);
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(2)));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
        Assert.True(engine.TryGetAccount(2, out Account payee));
        Assert.Equal((UInt128)5, payee.CreditsPosted);
        Assert.True(Directory.EnumerateFileSystemEntries(JournalDirectory).Any());
        await host.StopAsync();
    }

    [Fact]
    public async Task Engine_BeforeStart_ThrowsSayingItIsNotRunningYet()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => provider.Engine);
        Assert.Contains("not running yet", e.Message, StringComparison.Ordinal);
        Assert.False(provider.TryGetEngine(out _));
    }

    [Fact]
    public async Task Engine_AfterStop_ThrowsSayingItStoppedAndTheEngineRefusesWork()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        await host.StartAsync();
        MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();
        LedgerEngine engine = provider.Engine;

        await host.StopAsync();

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => provider.Engine);
        Assert.Contains("stopped", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateAccountAsync(Acct(1)));
    }

    [Fact]
    public async Task WaitForEngineAsync_BeforeStart_CompletesWhenTheHostStarts()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();
        Task<LedgerEngine> waiting = provider.WaitForEngineAsync();
        Assert.False(waiting.IsCompleted);

        await host.StartAsync();

        Assert.Same(provider.Engine, await waiting.WaitAsync(TimeSpan.FromMinutes(1)));
        await host.StopAsync();
    }

    [Fact]
    public async Task StopAsync_WithSubmissionsInFlight_FinishesThemAndReopeningRecoversEveryTransfer()
    {
        const int Transfers = 200;
        using (IHost host = BuildHost(new CapturingLoggerProvider()))
        {
            await host.StartAsync();
            LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
            var results = new CreateAccountResult[2];
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, results));
            var pending = new Task<CreateTransferResult>[Transfers];
            for (int i = 0; i < Transfers; i++)
            {
                pending[i] = engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)).AsTask();
            }

            // Stopping does not wait for these callers; the engine finishes what it accepted before it closes.
            await host.StopAsync();
            CreateTransferResult[] outcomes = await Task.WhenAll(pending);
            Assert.All(outcomes, r => Assert.Equal(CreateTransferResult.Ok, r));
        }

        var logs = new CapturingLoggerProvider();
        using (IHost reopened = BuildHost(logs))
        {
            await reopened.StartAsync();
            LedgerEngine engine = reopened.Services.GetRequiredService<MicropayEngineProvider>().Engine;
            for (int i = 0; i < Transfers; i++)
            {
                Assert.True(engine.TryGetTransfer((UInt128)(100 + i), out _), $"transfer {100 + i} recovered");
            }

            Assert.True(engine.TryGetAccount(2, out Account payee));
            Assert.Equal((UInt128)Transfers, payee.CreditsPosted);
            CapturingLoggerProvider.LogEntry opened = Assert.Single(logs.WithId(MicropayEventIds.EngineOpened));
            Assert.Equal(engine.ReleasedBatchNumber, Assert.IsType<ulong>(opened.State.Single(p => p.Key == "ReleasedBatchNumber").Value));
            Assert.NotEqual(0UL, engine.ReleasedBatchNumber);
            await reopened.StopAsync();
        }
    }

    [Fact]
    public async Task StartAndStop_LogTheLifecycleEventsWithTheirIds()
    {
        var logs = new CapturingLoggerProvider();
        using (IHost host = BuildHost(logs))
        {
            await host.StartAsync();
            await host.StopAsync();
        }

        int[] lifecycle = [.. logs.Entries.Where(e => e.Category.StartsWith("Micropay.Core.Hosting", StringComparison.Ordinal)).Select(e => e.EventId.Id)];
        Assert.Equal([MicropayEventIds.EngineOpening, MicropayEventIds.EngineOpened, MicropayEventIds.EngineStopping, MicropayEventIds.EngineStopped], lifecycle);
        CapturingLoggerProvider.LogEntry opened = Assert.Single(logs.WithId(MicropayEventIds.EngineOpened));
        Assert.Equal(nameof(MicropayEventIds.EngineOpened), opened.EventId.Name);
        Assert.Equal(LogLevel.Information, opened.Level);
        Assert.Contains(opened.State, p => p.Key == "ElapsedMilliseconds");
    }

    [Fact]
    public async Task StartAsync_DirectoryLockedByAnotherEngine_LogsOpenFailedAndThrows()
    {
        using IHost first = BuildHost(new CapturingLoggerProvider());
        await first.StartAsync();
        var logs = new CapturingLoggerProvider();
        using IHost second = BuildHost(logs);

        await Assert.ThrowsAnyAsync<Exception>(() => second.StartAsync());

        CapturingLoggerProvider.LogEntry failed = Assert.Single(logs.WithId(MicropayEventIds.EngineOpenFailed));
        Assert.NotNull(failed.Exception);
        Assert.False(second.Services.GetRequiredService<MicropayEngineProvider>().IsRunning);
        await first.StopAsync();
    }

    [Fact]
    public async Task ConfigureEngine_ReturnsChangedOptions_TheEngineOpensWithThem()
    {
        UInt128 instance = new(0xABCD, 0x1234);
        using IHost host = BuildHost(new CapturingLoggerProvider(), options => options.ConfigureEngine = engine => new LedgerEngineOptions
        {
            Store = engine.Store,
            Durability = engine.Durability,
            IngressCapacity = engine.IngressCapacity,
            InstanceId = instance,
        });

        await host.StartAsync();

        Assert.Equal(instance, host.Services.GetRequiredService<MicropayEngineProvider>().Engine.InstanceId);
        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_InMemory_RunsWithoutAJournalDirectory()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider(), options =>
        {
            options.Durability = DurabilityMode.InMemory;
            options.JournalDirectory = null;
        });

        await host.StartAsync();

        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(DurabilityMode.InMemory, engine.Durability);
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        Assert.False(Directory.Exists(JournalDirectory));
        await host.StopAsync();
    }
}
