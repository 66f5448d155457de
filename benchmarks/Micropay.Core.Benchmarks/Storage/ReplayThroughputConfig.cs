using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// Adds BenchmarkDotNet's operations-per-second column; with <c>OperationsPerInvoke</c> set to the journal's event
/// count, as in <see cref="ReplayBenchmarks"/>, it reads as events replayed per second.
/// </summary>
public sealed class ReplayThroughputConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public ReplayThroughputConfig()
    {
        AddColumn(StatisticColumn.OperationsPerSecond);
    }
}
