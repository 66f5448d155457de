using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Micropay.Core.Hosting.Tests;

/// <summary>The "Micropay.Core" meter, read with a MeterListener on one host's meter.</summary>
public sealed class MicropayMetricsTests : HostingTestKit
{
    private const ulong Hour = 3600UL * 1_000_000_000UL;

    [Fact]
    public void MeterName_IsMicropayCore()
    {
        Assert.Equal("Micropay.Core", MicropayDiagnostics.MeterName);
        using IHost host = BuildHost(new CapturingLoggerProvider());
        Assert.Equal(MicropayDiagnostics.MeterName, host.Services.GetRequiredService<MicropayMetrics>().Meter.Name);
    }

    [Fact]
    public async Task Transfers_CountsEveryJournaledTransferEventAndBatchSizesAddUp()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        using var metrics = new MetricRecorder(host.Services.GetRequiredService<MicropayMetrics>().Meter);
        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
        Assert.Equal(0, await engine.CreateTransfersAsync(new[] { Tr(11, 1, 2, 1), Tr(12, 2, 1, 1), Tr(13, 1, 2, 1) }, new CreateTransferResult[3]));
        // Refused by the ledger (no such account), but journaled like any event: counted.
        Assert.Equal(CreateTransferResult.DebitAccountNotFound, await engine.CreateTransferAsync(Tr(14, 9, 2, 1)));

        Assert.Equal(5, metrics.Sum(MicropayDiagnostics.Transfers));
        IReadOnlyList<MetricRecorder.Recorded> sizes = metrics.Of(MicropayDiagnostics.BatchSize);
        Assert.Equal(5, sizes.Where(m => Equals(m.Tags[MicropayDiagnostics.OperationTag], nameof(BatchOperation.CreateTransfers))).Sum(m => m.Value));
        Assert.Equal(2, sizes.Where(m => Equals(m.Tags[MicropayDiagnostics.OperationTag], nameof(BatchOperation.CreateAccounts))).Sum(m => m.Value));
        Assert.Contains(sizes, m => Equals(m.Tags[MicropayDiagnostics.OperationTag], nameof(BatchOperation.CreateTransfers)) && m.Value == 3);

        // One append per journaled batch, each timed; the new ledger's first batch records its instance id.
        IReadOnlyList<MetricRecorder.Recorded> appends = metrics.Of(MicropayDiagnostics.AppendDuration);
        Assert.Equal((int)engine.ReleasedBatchNumber, appends.Count);
        Assert.All(appends, m => Assert.True(m.Value >= 0));
        Assert.Empty(metrics.Of(MicropayDiagnostics.AppendFailures));
        await host.StopAsync();
    }

    [Fact]
    public async Task Redemptions_CountsJournaledVouchersAndRefusalsByReason()
    {
        using var payerKey = SigningKey.Generate();
        using IHost host = BuildHost(new CapturingLoggerProvider());
        using var metrics = new MetricRecorder(host.Services.GetRequiredService<MicropayMetrics>().Meter);
        await host.StartAsync();
        MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();
        LedgerEngine engine = provider.Engine;
        Assert.Equal(0, await engine.CreateAccountsAsync(
            new[] { Acct(1), Acct(2) with { Flags = AccountFlags.DebitsMustNotExceedCredits }, Acct(3) }, new CreateAccountResult[3]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100, 1, 2, 1_000)));
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, 2, 3, 1, payerKey.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(payerKey, config, 500)));

        Voucher Sign(ulong sequence, UInt128 cumulative) => Voucher.Sign(payerKey, engine.InstanceId, config.Id, 0, sequence, cumulative, ulong.MaxValue);
        Assert.Equal(ChannelResult.Ok, await provider.RedeemVoucherAsync(Sign(1, 40)));
        Assert.Equal(ChannelResult.Ok, await provider.RedeemVoucherAsync(Sign(2, 90)));
        Assert.Equal(ChannelResult.AlreadyRedeemed, await provider.RedeemVoucherAsync(Sign(2, 90)));
        ChannelResult staleResult = await provider.RedeemVoucherAsync(Sign(1, 95));
        Assert.NotEqual(ChannelResult.Ok, staleResult);
        using var forger = SigningKey.Generate();
        Voucher forged = Voucher.Sign(forger, engine.InstanceId, config.Id, 0, 3, 100, ulong.MaxValue);
        ChannelResult forgedResult = await provider.RedeemVoucherAsync(forged);
        Assert.NotEqual(ChannelResult.Ok, forgedResult);

        IReadOnlyList<MetricRecorder.Recorded> rejected = metrics.Of(MicropayDiagnostics.RedemptionsRejected);
        Assert.Equal(3, rejected.Count);
        Assert.All(rejected, m => Assert.Equal("voucher", m.Tags[MicropayDiagnostics.RedemptionKindTag]));
        Assert.Equal(
            new[] { nameof(ChannelResult.AlreadyRedeemed), staleResult.ToString(), forgedResult.ToString() },
            rejected.Select(m => (string?)m.Tags[MicropayDiagnostics.ReasonTag]));
        Assert.True(metrics.Sum(MicropayDiagnostics.Redemptions) >= 2);
        Assert.All(metrics.Of(MicropayDiagnostics.Redemptions), m => Assert.Equal("voucher", m.Tags[MicropayDiagnostics.RedemptionKindTag]));
        await host.StopAsync();
    }

    [Fact]
    public async Task Gauges_ReportTheIdleRingAndTheSnapshotLag()
    {
        using IHost host = BuildHost(new CapturingLoggerProvider());
        using var metrics = new MetricRecorder(host.Services.GetRequiredService<MicropayMetrics>().Meter);
        metrics.Observe();
        Assert.Empty(metrics.Of(MicropayDiagnostics.IngressDepth));

        await host.StartAsync();
        LedgerEngine engine = host.Services.GetRequiredService<MicropayEngineProvider>().Engine;
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        metrics.Observe();
        Assert.Equal(0, Assert.Single(metrics.Of(MicropayDiagnostics.IngressDepth)).Value);
        Assert.Equal(engine.ReleasedBatchNumber, (ulong)Assert.Single(metrics.Of(MicropayDiagnostics.SnapshotLag)).Value);

        Assert.NotEqual(0UL, await engine.TakeSnapshotAsync());
        metrics.Observe();
        Assert.Equal(0, metrics.Of(MicropayDiagnostics.SnapshotLag)[^1].Value);
        await host.StopAsync();

        // A stopped engine is not observed.
        metrics.Observe();
        Assert.Equal(2, metrics.Of(MicropayDiagnostics.IngressDepth).Count);
    }
}
