using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// A percentile of the iteration times, for any percentile (BenchmarkDotNet's <see cref="StatisticColumn"/> offers
/// P0, P25, P50, P67, P80, P85, P90, P95 and P100, but no P99). With one invocation per iteration, as in
/// <see cref="AppendBenchmarks"/>, the iteration times are the individual operations' latencies.
/// </summary>
/// <param name="percentile">The percentile, 1 to 99.</param>
public sealed class LatencyPercentileColumn(int percentile) : IColumn
{
    /// <summary>The 99th percentile.</summary>
    public static readonly IColumn P99 = new LatencyPercentileColumn(99);

    /// <inheritdoc />
    public string Id => $"{nameof(LatencyPercentileColumn)}.P{percentile}";

    /// <inheritdoc />
    public string ColumnName => $"P{percentile}";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Statistics;

    /// <inheritdoc />
    public int PriorityInCategory => percentile;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => $"Percentile {percentile}: {percentile}% of the measured iterations took at most this long";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null)
        {
            return "NA";
        }

        double nanoseconds = statistics.Percentiles.Percentile(percentile);
        return nanoseconds switch
        {
            < 1e3 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:N1} ns"),
            < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:N1} μs"),
            < 1e9 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:N3} ms"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e9:N3} s"),
        };
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
