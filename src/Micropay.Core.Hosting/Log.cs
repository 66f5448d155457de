using Micropay.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Micropay.Core.Hosting;

/// <summary>The package's log events (source-generated: no boxing, and nothing formatted when the level is off); ids in <see cref="MicropayEventIds"/>.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = MicropayEventIds.EngineOpening, EventName = nameof(MicropayEventIds.EngineOpening), Level = LogLevel.Information,
        Message = "Opening the Micropay ledger engine ({Journal}, {Durability}).")]
    public static partial void EngineOpening(ILogger logger, string journal, DurabilityMode durability);

    [LoggerMessage(EventId = MicropayEventIds.EngineOpened, EventName = nameof(MicropayEventIds.EngineOpened), Level = LogLevel.Information,
        Message = "Opened the Micropay ledger engine: instance {InstanceId}, recovered to batch {ReleasedBatchNumber} from the snapshot at batch {SnapshotBatchNumber}, {Durability}, in {ElapsedMilliseconds} ms.")]
    public static partial void EngineOpened(ILogger logger, string instanceId, ulong releasedBatchNumber, ulong snapshotBatchNumber, DurabilityMode durability, long elapsedMilliseconds);

    [LoggerMessage(EventId = MicropayEventIds.EngineOpenFailed, EventName = nameof(MicropayEventIds.EngineOpenFailed), Level = LogLevel.Error,
        Message = "The Micropay ledger engine failed to open ({Journal}).")]
    public static partial void EngineOpenFailed(ILogger logger, Exception exception, string journal);

    [LoggerMessage(EventId = MicropayEventIds.JournalTailDiscarded, EventName = nameof(MicropayEventIds.JournalTailDiscarded), Level = LogLevel.Warning,
        Message = "Opening cut {Length} bytes at offset {Offset} from the end of {Location} (first record's batch number {BatchNumber}, 0 if unreadable): {Reason}.")]
    public static partial void JournalTailDiscarded(ILogger logger, long length, long offset, string location, ulong batchNumber, string reason);

    [LoggerMessage(EventId = MicropayEventIds.EngineStopping, EventName = nameof(MicropayEventIds.EngineStopping), Level = LogLevel.Information,
        Message = "Stopping the Micropay ledger engine at batch {ReleasedBatchNumber}; accepted submissions finish first.")]
    public static partial void EngineStopping(ILogger logger, ulong releasedBatchNumber);

    [LoggerMessage(EventId = MicropayEventIds.EngineStopped, EventName = nameof(MicropayEventIds.EngineStopped), Level = LogLevel.Information,
        Message = "Stopped the Micropay ledger engine at batch {ReleasedBatchNumber} in {ElapsedMilliseconds} ms.")]
    public static partial void EngineStopped(ILogger logger, ulong releasedBatchNumber, long elapsedMilliseconds);

    [LoggerMessage(EventId = MicropayEventIds.EngineStopAbandoned, EventName = nameof(MicropayEventIds.EngineStopAbandoned), Level = LogLevel.Warning,
        Message = "The host's shutdown timeout passed before the Micropay ledger engine stopped; it goes on stopping in the background.")]
    public static partial void EngineStopAbandoned(ILogger logger);

    [LoggerMessage(EventId = MicropayEventIds.EngineFaulted, EventName = nameof(MicropayEventIds.EngineFaulted), Level = LogLevel.Critical,
        Message = "The Micropay ledger engine stopped after a failure and refuses all work; restart the service to recover the durable state.")]
    public static partial void EngineFaulted(ILogger logger, Exception exception);

    [LoggerMessage(EventId = MicropayEventIds.SnapshotFailed, EventName = nameof(MicropayEventIds.SnapshotFailed), Level = LogLevel.Warning,
        Message = "A Micropay ledger snapshot failed (the journal is unaffected; the newest snapshot is still at batch {SnapshotBatchNumber}).")]
    public static partial void SnapshotFailed(ILogger logger, Exception exception, ulong snapshotBatchNumber);

    [LoggerMessage(EventId = MicropayEventIds.SnapshotWritten, EventName = nameof(MicropayEventIds.SnapshotWritten), Level = LogLevel.Debug,
        Message = "The Micropay ledger's newest snapshot is at batch {SnapshotBatchNumber}.")]
    public static partial void SnapshotWritten(ILogger logger, ulong snapshotBatchNumber);

    [LoggerMessage(EventId = MicropayEventIds.EngineStopFailed, EventName = nameof(MicropayEventIds.EngineStopFailed), Level = LogLevel.Error,
        Message = "Stopping the Micropay ledger engine failed.")]
    public static partial void EngineStopFailed(ILogger logger, Exception exception);
}
