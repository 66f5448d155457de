namespace Micropay.Core.Tests.Soak;

/// <summary>One sample of the soak run: the process's resources (after a full, compacting collection) and the data they hold.</summary>
internal readonly record struct SoakSample
{
    public double Seconds { get; init; }

    public long ManagedHeap { get; init; }

    public long WorkingSet { get; init; }

    public int OpenFiles { get; init; }

    /// <summary>Journal segment files in the ledger directory.</summary>
    public long JournalOnDisk { get; init; }

    public int SegmentFiles { get; init; }

    public long SnapshotsOnDisk { get; init; }

    public int SnapshotFiles { get; init; }

    /// <summary>The latest snapshot file's size.</summary>
    public long LatestSnapshot { get; init; }

    /// <summary>The ledger directory's other files (the lock, temporaries).</summary>
    public long OtherLedgerFiles { get; init; }

    public long AuditOnDisk { get; init; }

    /// <summary>Bytes ever appended to the journal: the last size seen of every segment, deleted ones included.</summary>
    public long JournalWritten { get; init; }

    /// <summary>Events committed: the audit tree's durable size (one leaf per event).</summary>
    public long Events { get; init; }

    public long Accounts { get; init; }

    public long Transfers { get; init; }

    public long BurntIds { get; init; }

    public long Channels { get; init; }

    public long Keys { get; init; }

    public long Rounds { get; init; }

    public int HoldExpiryEntries { get; init; }

    public int ChannelDeadlineEntries { get; init; }

    /// <summary>Timed holds submitted within the longest timeout (plus 15 s) before the sample: what the expiry queue may hold.</summary>
    public long RecentTimedHolds { get; init; }

    /// <summary>Channels opened within an hour and a minute before the sample: what the deadline queue may hold.</summary>
    public long RecentChannels { get; init; }

    public long TotalDisk => JournalOnDisk + SnapshotsOnDisk + OtherLedgerFiles + AuditOnDisk;
}
