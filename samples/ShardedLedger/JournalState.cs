namespace ShardedLedger;

/// <summary>A payment's state in the journal.</summary>
public enum JournalState : short
{
    /// <summary>Intent journaled; holds may or may not be placed; no decision.</summary>
    Prepared = 0,

    /// <summary>Decided to commit: both sides are to be posted.</summary>
    Committing = 1,

    /// <summary>Decided to abort: both sides are to be voided (or never held).</summary>
    Aborting = 2,

    /// <summary>Both sides posted.</summary>
    Committed = 3,

    /// <summary>Both sides voided or never held.</summary>
    Aborted = 4,
}
