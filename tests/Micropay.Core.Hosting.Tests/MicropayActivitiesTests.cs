using System.Collections.Concurrent;
using System.Diagnostics;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Micropay.Core.Hosting.Tests;

/// <summary>The "Micropay.Core" activity source around open, stop and redemptions.</summary>
public sealed class MicropayActivitiesTests : HostingTestKit
{
    [Fact]
    public async Task StartStopAndRedeem_EmitActivitiesFromTheMicropayCoreSource()
    {
        // The source is process-wide: other tests' hosts may add activities, so this one marks its own with a parent.
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MicropayDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var parent = new Activity("test").Start();
        using var payerKey = SigningKey.Generate();

        using (IHost host = BuildHost(new CapturingLoggerProvider()))
        {
            await host.StartAsync();
            MicropayEngineProvider provider = host.Services.GetRequiredService<MicropayEngineProvider>();
            Voucher unknownChannel = Voucher.Sign(payerKey, provider.Engine.InstanceId, 12345, 0, 1, 10, ulong.MaxValue);
            ChannelResult result = await provider.RedeemVoucherAsync(unknownChannel);
            Assert.NotEqual(ChannelResult.Ok, result);
            await host.StopAsync();

            Activity[] mine = [.. stopped.Where(a => a.TraceId == parent.TraceId)];
            Assert.Equal(["Micropay.Core.Open", "Micropay.Core.RedeemVoucher", "Micropay.Core.Stop"], mine.Select(a => a.OperationName));
            Assert.Equal(result.ToString(), mine[1].GetTagItem(MicropayDiagnostics.ReasonTag));
        }
    }
}
