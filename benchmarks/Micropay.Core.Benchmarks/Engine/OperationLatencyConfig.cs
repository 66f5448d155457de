using BenchmarkDotNet.Configs;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// Adds <c>Transfers/s</c> (<see cref="TransfersPerSecondColumn"/>) and the per-operation latency percentiles
/// <c>P50 op</c>, <c>P99 op</c>, <c>P99.9 op</c> (<see cref="OperationLatencyColumn"/>) to whatever job the command line
/// chooses. Use it with <c>[Config(typeof(OperationLatencyConfig))]</c> on a class whose benchmarks record into a
/// <see cref="LatencyHistogram"/> and log it with <see cref="LatencyLog.AppendIteration"/> at each iteration cleanup.
/// </summary>
public sealed class OperationLatencyConfig : ManualConfig
{
    /// <summary>Creates the config, and the host's latency directory with it (see <see cref="LatencyLog"/>).</summary>
    public OperationLatencyConfig()
    {
        // BenchmarkDotNet builds configs in the host before it starts any benchmark process: the processes it starts
        // inherit the environment variable that names the directory only if it is set by then.
        LatencyLog.EnsureInitialized();
        AddColumn(TransfersPerSecondColumn.Instance, OperationLatencyColumn.P50, OperationLatencyColumn.P99, OperationLatencyColumn.P999);
    }
}
