using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// Throughput in events per second for benchmarks whose operation is one batch: the <c>EventsPerBatch</c> parameter
/// divided by the mean time per operation.
/// </summary>
public sealed class EventsPerSecondColumn : IColumn
{
    /// <summary>The column.</summary>
    public static readonly IColumn Instance = new EventsPerSecondColumn();

    private EventsPerSecondColumn()
    {
    }

    /// <inheritdoc />
    public string Id => nameof(EventsPerSecondColumn);

    /// <inheritdoc />
    public string ColumnName => "Events/s";

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
    public string Legend => "Events appended per second: EventsPerBatch / Mean";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null || benchmarkCase.Parameters["EventsPerBatch"] is not int events || statistics.Mean <= 0)
        {
            return "NA";
        }

        double perSecond = events / (statistics.Mean / 1e9);
        return perSecond >= 1e6
            ? string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:N2} M")
            : string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:N1} k");
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
