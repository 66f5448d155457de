using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Micropay.Core.Benchmarks.Engine;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// For <see cref="RedeemBenchmarks"/>: events per second (<see cref="TransfersPerSecondColumn"/>: every redemption is one
/// transfer out of escrow, so the column reads as redemptions or transfers per second), and one baseline per category
/// (the engine's plain transfers for the engine's redemptions, the ledger's for the ledger's).
/// </summary>
public sealed class RedeemThroughputConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public RedeemThroughputConfig()
    {
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        AddColumn(CategoriesColumn.Default, TransfersPerSecondColumn.Instance);
    }
}
