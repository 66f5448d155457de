namespace Micropay.Core.Engine;

/// <summary>Read-only state for monitoring (health checks, metrics); cheap enough to poll from any thread.</summary>
public sealed partial class LedgerEngine
{
    /// <summary>
    /// The failure that stopped the engine (its store failed, or an internal error), or <see langword="null"/> while it
    /// runs. Once set it never clears: every later submission fails with a <see cref="LedgerEngineException"/> wrapping
    /// it, and only disposing and reopening the engine recovers (to exactly the durable state).
    /// </summary>
    public Exception? Failure => Volatile.Read(ref _fault);

    /// <summary>
    /// Submissions waiting in the ingress ring for the apply loop (at most <see cref="LedgerEngineOptions.IngressCapacity"/>;
    /// callers waiting for room in a full ring are not counted). Approximate while submissions arrive; for monitoring.
    /// </summary>
    public int IngressDepth => _ring.ApproximateCount;

    /// <summary>
    /// For the soak test: the entries of the ledger's hold expiry queue and of the channels' deadline queue, stale ones
    /// included (4.10), and the transfer ids burnt by transient failures (4.7). Read without synchronisation from the
    /// writer's state: each count is one the writer held recently.
    /// </summary>
    internal (int Holds, int ChannelDeadlines, int BurntIds) WriterCountsUnsynchronized =>
        (_ledger.ExpiryQueueCount, Channels.ChannelBook.Find(_ledger)?.DeadlineCount ?? 0, _ledger.BurntIdCount);
}
