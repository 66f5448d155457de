using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace Micropay.Core.Benchmarks.Crypto;

/// <summary>
/// Groups a class's benchmarks by <c>[BenchmarkCategory]</c> and shows the category, so each category compares with
/// its own <c>Baseline = true</c> method (signing with raw signing, verifying with raw verifying) and the <c>Ratio</c>
/// column stays within a category.
/// </summary>
public sealed class BaselinePerCategoryConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public BaselinePerCategoryConfig()
    {
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        AddColumn(CategoriesColumn.Default);
    }
}
