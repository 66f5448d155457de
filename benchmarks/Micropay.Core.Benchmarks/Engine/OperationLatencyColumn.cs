using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// A percentile of the latencies a benchmark recorded per operation in a <see cref="LatencyHistogram"/> and logged
/// with <see cref="LatencyLog.AppendIteration"/>: unlike BenchmarkDotNet's own statistics, which describe whole
/// iterations, these describe individual submits (one transfer, or one batch for the batch benchmarks).
/// </summary>
/// <param name="percentile">The percentile, for example 50, 99 or 99.9.</param>
public sealed class OperationLatencyColumn(double percentile) : IColumn
{
    /// <summary>The median latency of one operation.</summary>
    public static readonly IColumn P50 = new OperationLatencyColumn(50);

    /// <summary>The 99th percentile of one operation's latency.</summary>
    public static readonly IColumn P99 = new OperationLatencyColumn(99);

    /// <summary>The 99.9th percentile of one operation's latency.</summary>
    public static readonly IColumn P999 = new OperationLatencyColumn(99.9);

    private readonly string _name = string.Create(CultureInfo.InvariantCulture, $"P{percentile} op");

    /// <inheritdoc />
    public string Id => $"{nameof(OperationLatencyColumn)}.{_name}";

    /// <inheritdoc />
    public string ColumnName => _name;

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => (int)(percentile * 10);

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => string.Create(
        CultureInfo.InvariantCulture,
        $"{percentile}% of the individual submits (one call: a transfer, or a whole batch) in the measured iterations took at most this long (±1%)");

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report is null || LatencyLog.ReadMeasured(report) is not var (histogram, frequency))
        {
            return "NA";
        }

        return Format(histogram.GetPercentile(percentile) * 1e9 / frequency);
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public override string ToString() => ColumnName;

    /// <summary>Nanoseconds with a unit chosen for three significant digits.</summary>
    internal static string Format(double nanoseconds) => nanoseconds switch
    {
        double.NaN => "NA",
        < 1e3 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:N0} ns"),
        < 1e4 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:N2} μs"),
        < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:N1} μs"),
        < 1e9 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:N2} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e9:N2} s"),
    };
}
