using BenchmarkDotNet.Configs;
using Micropay.Core.Benchmarks.Engine;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// For the order benchmarks: events per second (<see cref="TransfersPerSecondColumn"/>: every order is one transfer, so
/// the column reads as orders, transfers or signature checks per second, 1 s / Mean).
/// </summary>
public sealed class OrderThroughputConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public OrderThroughputConfig() => AddColumn(TransfersPerSecondColumn.Instance);
}
