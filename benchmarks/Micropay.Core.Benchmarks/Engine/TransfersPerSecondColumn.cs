using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// Throughput in transfers per second, for benchmarks whose <c>OperationsPerInvoke</c> is the number of transfers an
/// invocation submits (so BenchmarkDotNet's mean is the time per transfer, whatever the batch size): 1 s / Mean.
/// </summary>
public sealed class TransfersPerSecondColumn : IColumn
{
    /// <summary>The column.</summary>
    public static readonly IColumn Instance = new TransfersPerSecondColumn();

    private TransfersPerSecondColumn()
    {
    }

    /// <inheritdoc />
    public string Id => nameof(TransfersPerSecondColumn);

    /// <inheritdoc />
    public string ColumnName => "Transfers/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Transfers applied per second: 1 s / Mean (Mean is per transfer)";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null || statistics.Mean <= 0)
        {
            return "NA";
        }

        double perSecond = 1e9 / statistics.Mean;
        return perSecond switch
        {
            >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:N2} M"),
            >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:N1} k"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{perSecond:N0}"),
        };
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
