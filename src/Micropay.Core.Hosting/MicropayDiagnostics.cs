namespace Micropay.Core.Hosting;

/// <summary>
/// The names of the package's <see cref="System.Diagnostics.Metrics.Meter"/>, <see cref="System.Diagnostics.ActivitySource"/>
/// and instruments, for OpenTelemetry's <c>AddMeter</c>/<c>AddSource</c>, dotnet-counters or a
/// <see cref="System.Diagnostics.Metrics.MeterListener"/>. A contract: names and tags are added, never changed.
/// </summary>
/// <remarks>
/// Journal instruments are measured around the engine's store (every batch the engine makes durable), so they count
/// events whatever the ledger's result for each (a transfer the ledger refused for lack of funds is journaled and
/// counted too). <see cref="RedemptionsRejected"/> is recorded only by the redemptions made through
/// <see cref="MicropayEngineProvider"/>, the one place that sees their results.
/// </remarks>
public static class MicropayDiagnostics
{
    /// <summary>The meter's name: "Micropay.Core".</summary>
    public const string MeterName = "Micropay.Core";

    /// <summary>The activity source's name: "Micropay.Core" (activities "Micropay.Core.Open", "Micropay.Core.Stop", "Micropay.Core.RedeemVoucher", "Micropay.Core.RedeemTick").</summary>
    public const string ActivitySourceName = "Micropay.Core";

    /// <summary>Counter of transfer events journaled ("{transfer}"): divide by time for transfers per second.</summary>
    public const string Transfers = "micropay.transfers";

    /// <summary>Counter of redemption events journaled ("{redemption}"), tagged <see cref="RedemptionKindTag"/> ("voucher" or "tick").</summary>
    public const string Redemptions = "micropay.redemptions";

    /// <summary>Histogram of events per journaled batch ("{event}"), tagged <see cref="OperationTag"/>.</summary>
    public const string BatchSize = "micropay.batch.size";

    /// <summary>
    /// Histogram of how long the store took to append a batch ("s"), tagged <see cref="OperationTag"/>: writing and, in
    /// the default durable mode of the file store, fsyncing it, plus the engine's work overlapped with the device write.
    /// </summary>
    public const string AppendDuration = "micropay.journal.append.duration";

    /// <summary>Counter of store appends that failed ("{append}"); one stops the engine.</summary>
    public const string AppendFailures = "micropay.journal.append.failures";

    /// <summary>
    /// Counter of voucher and tick redemptions the engine refused ("{redemption}"), tagged <see cref="ReasonTag"/> (the
    /// <see cref="Channels.ChannelResult"/> name: BadSignature, BadTick, InstanceMismatch, AlreadyRedeemed, ...) and
    /// <see cref="RedemptionKindTag"/>. Only redemptions made through <see cref="MicropayEngineProvider"/> are seen.
    /// </summary>
    public const string RedemptionsRejected = "micropay.redemptions.rejected";

    /// <summary>Observable gauge of submissions waiting in the engine's ingress ring ("{submission}"; <see cref="Engine.LedgerEngine.IngressDepth"/>).</summary>
    public const string IngressDepth = "micropay.ingress.depth";

    /// <summary>Observable gauge of batches released since the newest snapshot ("{batch}"): roughly what the next open replays; growing means snapshots fail or are off.</summary>
    public const string SnapshotLag = "micropay.snapshot.lag";

    /// <summary>The tag naming a batch's operation (the <see cref="Storage.BatchOperation"/> name, such as "CreateTransfers").</summary>
    public const string OperationTag = "micropay.operation";

    /// <summary>The tag naming a redemption's kind: "voucher" or "tick".</summary>
    public const string RedemptionKindTag = "micropay.redemption.kind";

    /// <summary>The tag naming why a redemption was refused.</summary>
    public const string ReasonTag = "reason";
}
