using PayPerRequest.Load;

namespace PayPerRequest.Tests.Load;

/// <summary>The load harness runs end to end (every mode's answers must be 200s); its figures are not asserted.</summary>
public sealed class LoadHarnessTests
{
    [Fact]
    public async Task MeasureAsync_ForAFewHundredMilliseconds_ServesEveryModeAndMeasuresTheBound()
    {
        LoadReport report = await LoadHarness.MeasureAsync(TimeSpan.FromMilliseconds(200), concurrency: 2);

        Assert.True(report.UnpaidPerSecond > 0);
        Assert.True(report.TicksPerSecond > 0);
        Assert.True(report.VouchersPerSecond > 0);
        Assert.True(report.SignVerifyPerSecondPerCore > 0);
        Assert.Equal(Environment.ProcessorCount, report.Cores);
    }
}
