namespace Micropay.Core.Engine;

/// <summary>When <see cref="LedgerEngine"/> releases a result, and therefore what survives a crash.</summary>
public enum DurabilityMode
{
    /// <summary>
    /// The default. A result is released only after the store's append of its batch has completed, which the
    /// <see cref="Storage.ILedgerStore"/> contract defines as durable (for <see cref="Storage.FileLedgerStore"/>:
    /// written and fsynced). After a process crash or a power loss, every acknowledged event is present on reopen,
    /// plus possibly some applied-but-unacknowledged batches (whose callers saw an exception or nothing).
    /// </summary>
    Durable = 0,

    /// <summary>
    /// A result is released as soon as its batch is applied and queued, in order, for the store; the store appends
    /// it in the background. After a crash (process or power), the journal is still a gap-free prefix of the
    /// applied batches, but the last acknowledged batches may be missing: at most the engine's in-flight batches
    /// (two) plus what the store had not made durable. Use it where losing the last milliseconds of payments on a
    /// crash is acceptable and latency is not.
    /// </summary>
    Buffered = 1,

    /// <summary>
    /// No store: results are released when the batch is applied. Nothing survives the process; reopening starts
    /// from an empty ledger. For tests, simulations and caches.
    /// </summary>
    InMemory = 2,
}
