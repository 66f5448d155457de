namespace Micropay.Core.Hosting;

/// <summary>
/// The <see cref="Microsoft.Extensions.Logging.EventId"/>s this package logs with (category
/// <c>Micropay.Core.Hosting.MicropayEngineService</c>), so alerts can match on ids rather than on message text. Each id's
/// event name is the constant's name. A contract: ids are added, never renumbered or reused.
/// </summary>
public static class MicropayEventIds
{
    /// <summary>Information: the engine is opening (journal directory or "in memory", durability mode).</summary>
    public const int EngineOpening = 1;

    /// <summary>
    /// Information: the engine opened and recovered (instance id, the last released batch number it recovered to, the
    /// snapshot batch it recovered from, durability mode, and how long opening took in milliseconds).
    /// </summary>
    public const int EngineOpened = 2;

    /// <summary>Error: the engine failed to open (the exception says why); the host does not start.</summary>
    public const int EngineOpenFailed = 3;

    /// <summary>
    /// Warning: opening cut a partial record from the end of the journal (location, offset, length, batch number, reason;
    /// see <see cref="Engine.LedgerEngine.DiscardedTailAtOpen"/>). Usually a torn write that was never acknowledged; after a
    /// clean shutdown, it points at the disk.
    /// </summary>
    public const int JournalTailDiscarded = 4;

    /// <summary>Information: the host is stopping the engine, which finishes every accepted submission first (released batch number).</summary>
    public const int EngineStopping = 5;

    /// <summary>Information: the engine stopped and closed its journal (released batch number, milliseconds the stop took).</summary>
    public const int EngineStopped = 6;

    /// <summary>Warning: the host's shutdown timeout passed before the engine finished stopping; it goes on stopping in the background.</summary>
    public const int EngineStopAbandoned = 7;

    /// <summary>
    /// Critical: the engine stopped after a failure (usually its store's) and refuses all work until the service is
    /// restarted, which recovers exactly the durable state. Logged once, by the monitor loop.
    /// </summary>
    public const int EngineFaulted = 8;

    /// <summary>Warning: a snapshot failed (the journal is unaffected; reopening replays more of it). Logged once per failed attempt seen by the monitor loop.</summary>
    public const int SnapshotFailed = 9;

    /// <summary>Debug: the monitor loop saw a newer snapshot in the store (its batch number).</summary>
    public const int SnapshotWritten = 10;

    /// <summary>Error: stopping the engine failed (the exception says why).</summary>
    public const int EngineStopFailed = 11;
}
