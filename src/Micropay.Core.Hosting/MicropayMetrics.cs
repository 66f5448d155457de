using System.Diagnostics;
using System.Diagnostics.Metrics;
using Micropay.Core.Channels;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

namespace Micropay.Core.Hosting;

/// <summary>
/// The "Micropay.Core" meter's instruments (names in <see cref="MicropayDiagnostics"/>). One per service provider: the
/// meter comes from the container's <see cref="IMeterFactory"/> when there is one (so hosts in one process, such as tests,
/// do not see each other's measurements), else it is created here and disposed with this.
/// </summary>
internal sealed class MicropayMetrics : IDisposable
{
    // Tag lists by BatchOperation code, built once: the publisher thread records per batch and should not allocate.
    private static readonly KeyValuePair<string, object?>[] OperationTags = BuildOperationTags();
    private static readonly KeyValuePair<string, object?> VoucherTag = new(MicropayDiagnostics.RedemptionKindTag, "voucher");
    private static readonly KeyValuePair<string, object?> TickTag = new(MicropayDiagnostics.RedemptionKindTag, "tick");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _transfers;
    private readonly Counter<long> _redemptions;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _appendDuration;
    private readonly Counter<long> _appendFailures;
    private readonly Counter<long> _redemptionsRejected;

    // The running engine, read by the observable gauges' callbacks (on the collecting thread); set and cleared by the
    // hosted service.
    private LedgerEngine? _engine;

    public MicropayMetrics(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MicropayDiagnostics.MeterName) ?? new Meter(MicropayDiagnostics.MeterName);
        _transfers = _meter.CreateCounter<long>(MicropayDiagnostics.Transfers, "{transfer}", "Transfer events journaled, whatever the ledger's result for each.");
        _redemptions = _meter.CreateCounter<long>(MicropayDiagnostics.Redemptions, "{redemption}", "Voucher and tick redemption events journaled.");
        _batchSize = _meter.CreateHistogram(
            MicropayDiagnostics.BatchSize,
            "{event}",
            "Events per journaled batch.",
            tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 65536, 262144, 1048576] });
        _appendDuration = _meter.CreateHistogram(
            MicropayDiagnostics.AppendDuration,
            "s",
            "How long the store took to append (and make durable) a batch.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _appendFailures = _meter.CreateCounter<long>(MicropayDiagnostics.AppendFailures, "{append}", "Store appends that failed; one stops the engine.");
        _redemptionsRejected = _meter.CreateCounter<long>(
            MicropayDiagnostics.RedemptionsRejected, "{redemption}", "Redemptions made through MicropayEngineProvider that the engine refused, by reason.");
        _meter.CreateObservableGauge(
            MicropayDiagnostics.IngressDepth,
            () => Volatile.Read(ref _engine) is { } engine ? [new Measurement<int>(engine.IngressDepth)] : Array.Empty<Measurement<int>>(),
            "{submission}",
            "Submissions waiting in the engine's ingress ring.");
        _meter.CreateObservableGauge(
            MicropayDiagnostics.SnapshotLag,
            () => Volatile.Read(ref _engine) is { } engine ? [new Measurement<long>(SnapshotLagOf(engine))] : Array.Empty<Measurement<long>>(),
            "{batch}",
            "Batches released since the newest snapshot.");
    }

    /// <summary>The meter, for tests that listen to this container's instruments only.</summary>
    public Meter Meter => _meter;

    public void Attach(LedgerEngine engine) => Volatile.Write(ref _engine, engine);

    public void Detach() => Volatile.Write(ref _engine, null);

    /// <summary>Records a batch the store made durable. Publisher thread.</summary>
    public void BatchAppended(in CommitBatchHeader header, long startTimestamp)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        KeyValuePair<string, object?> operation = TagOf(header.Operation);
        _appendDuration.Record(elapsed.TotalSeconds, operation);
        _batchSize.Record(header.EventCount, operation);
        switch (header.Operation)
        {
            case BatchOperation.CreateTransfers:
                _transfers.Add(header.EventCount);
                break;
            case BatchOperation.RedeemVouchers:
                _redemptions.Add(header.EventCount, VoucherTag);
                break;
            case BatchOperation.RedeemTicks:
                _redemptions.Add(header.EventCount, TickTag);
                break;
        }
    }

    public void AppendFailed(BatchOperation operation) => _appendFailures.Add(1, TagOf(operation));

    public void RedemptionRejected(ChannelResult reason, bool tick) =>
        _redemptionsRejected.Add(1, new KeyValuePair<string, object?>(MicropayDiagnostics.ReasonTag, reason.ToString()), tick ? TickTag : VoucherTag);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static long SnapshotLagOf(LedgerEngine engine)
    {
        ulong released = engine.ReleasedBatchNumber;
        ulong snapshot = engine.LatestSnapshotBatchNumber;
        return released > snapshot ? (long)Math.Min(released - snapshot, long.MaxValue) : 0;
    }

    private static KeyValuePair<string, object?> TagOf(BatchOperation operation) =>
        (int)operation < OperationTags.Length
            ? OperationTags[(int)operation]
            : new KeyValuePair<string, object?>(MicropayDiagnostics.OperationTag, operation.ToString());

    private static KeyValuePair<string, object?>[] BuildOperationTags()
    {
        BatchOperation[] operations = Enum.GetValues<BatchOperation>();
        int max = 0;
        foreach (BatchOperation operation in operations)
        {
            max = Math.Max(max, (int)operation);
        }

        var tags = new KeyValuePair<string, object?>[max + 1];
        for (int i = 0; i < tags.Length; i++)
        {
            tags[i] = new KeyValuePair<string, object?>(MicropayDiagnostics.OperationTag, ((BatchOperation)i).ToString());
        }

        return tags;
    }
}
