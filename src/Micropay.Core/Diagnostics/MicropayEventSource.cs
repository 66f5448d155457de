using System.Diagnostics.Tracing;

namespace Micropay.Core.Diagnostics;

/// <summary>
/// The library's log: an <see cref="EventSource"/> named "Micropay.Core", so operators can collect its events with any
/// EventSource consumer (an <see cref="EventListener"/>, dotnet-trace, dotnet-monitor, OpenTelemetry's EventSource
/// bridge) without the library taking a logging dependency.
/// </summary>
/// <remarks>
/// Events are written only on rare paths (opening), so this allocates freely; nothing here is on the hot path. Event ids
/// and payload names are a contract with whoever collects them: add new events, never renumber or reshape one.
/// </remarks>
[EventSource(Name = "Micropay.Core")]
internal sealed class MicropayEventSource : EventSource
{
    /// <summary>The event id of <see cref="JournalTailDiscarded"/>.</summary>
    public const int JournalTailDiscardedId = 1;

    /// <summary>The one instance (an EventSource must be a singleton per name).</summary>
    public static readonly MicropayEventSource Log = new();

    private MicropayEventSource()
    {
    }

    /// <summary>
    /// The store's recovery cut bytes from the end of the journal when the engine opened it (see
    /// <see cref="Storage.DiscardedJournalTail"/>). A warning, not information: usually a torn append that was never
    /// acknowledged, but a flipped bit in the last acknowledged record looks exactly the same.
    /// </summary>
    /// <param name="location">The file (or table) the bytes were cut from.</param>
    /// <param name="offset">Where the cut bytes started.</param>
    /// <param name="length">How many bytes were cut.</param>
    /// <param name="batchNumber">The batch number the first cut record's frame names, or 0 when it could not be read.</param>
    /// <param name="reason">Why the bytes did not form a whole record.</param>
    [Event(
        JournalTailDiscardedId,
        Level = EventLevel.Warning,
        Message = "The journal store cut {2} bytes at offset {1} from the end of {0} when it opened (first record's batch number {3}, 0 if unreadable): {4}.")]
    public void JournalTailDiscarded(string location, long offset, long length, ulong batchNumber, string reason)
    {
        if (IsEnabled())
        {
            // EventSourcePrimitive rather than object[]: no boxing, and no trimming warning (the library is AOT-compatible).
            WriteEvent(JournalTailDiscardedId, new EventSourcePrimitive[] { location, offset, length, batchNumber, reason });
        }
    }
}
