using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// Latency percentiles (P50, P95 from BenchmarkDotNet, P99 from <see cref="LatencyPercentileColumn"/>) and events per
/// second (<see cref="EventsPerSecondColumn"/>), added to whatever job the command line chooses.
/// </summary>
public sealed class StorageLatencyConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public StorageLatencyConfig()
    {
        AddColumn(StatisticColumn.P50, StatisticColumn.P95, LatencyPercentileColumn.P99, EventsPerSecondColumn.Instance);
    }
}
