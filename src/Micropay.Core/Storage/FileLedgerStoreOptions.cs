namespace Micropay.Core.Storage;

/// <summary>Settings of a <see cref="FileLedgerStore"/>.</summary>
public sealed class FileLedgerStoreOptions
{
    /// <summary>The default <see cref="SegmentSizeBytes"/>: 64 MiB.</summary>
    public const long DefaultSegmentSizeBytes = 64L * 1024 * 1024;

    /// <summary>The smallest allowed <see cref="SegmentSizeBytes"/>: 4 KiB.</summary>
    public const long MinSegmentSizeBytes = 4096;

    /// <summary>
    /// The size a segment file stays within. A batch never spans two segments: a new segment starts when the next
    /// batch would not fit in the current one. A single batch larger than this gets a segment of its own (which then
    /// exceeds the bound). Default <see cref="DefaultSegmentSizeBytes"/>.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = DefaultSegmentSizeBytes;

    /// <summary>The default <see cref="SnapshotsToKeep"/>: 2 (the newest, and one to fall back to if it is damaged).</summary>
    public const int DefaultSnapshotsToKeep = 2;

    /// <summary>
    /// How many snapshot files to keep: after a snapshot is written, older ones beyond the newest this many are
    /// deleted (a snapshot is a copy of the whole ledger, so keeping every one fills the disk at any regular
    /// snapshot interval). 0 keeps every snapshot. Default <see cref="DefaultSnapshotsToKeep"/>.
    /// </summary>
    public int SnapshotsToKeep { get; init; } = DefaultSnapshotsToKeep;

    /// <summary>
    /// Whether <see cref="FileLedgerStore.OpenAsync"/> recomputes the SHA-256 hash chain of the whole journal
    /// (<see langword="true"/>) or only from the latest intact snapshot's batch onward (<see langword="false"/>, the
    /// default). Either way every record's frame and CRC-32C is checked, so a damaged record anywhere is refused; what
    /// the default skips is recomputing the chain links of batches the snapshot already covers (about 1.4 GB/s of
    /// SHA-256 on a 1.3 GB journal), which only detects a record rewritten with a valid CRC, i.e. deliberate tampering
    /// rather than a crash or a disk fault. Set it for an audit-grade open.
    /// </summary>
    public bool VerifyHashChainOnOpen { get; init; }

    /// <summary>
    /// Whether the store asks the operating system to drop the journal's pages from its page cache once they are
    /// durable (<see langword="true"/>, the default; Linux only, elsewhere nothing happens). The journal is written once
    /// and read back only to recover or replay, so caching it evicts data that is read again, and every appended MiB
    /// takes fresh memory the kernel must find: on a virtual machine whose free memory is returned to the host that
    /// costs a host fault per page, which halved the engine's durable batch throughput in this project's benchmarks.
    /// The newest MiB of the active segment stays cached (the next append writes into its last page). Nothing is lost
    /// either way: the pages dropped are clean copies of what the disk holds. Set <see langword="false"/> when something
    /// reads the journal soon after writing it and should find it in memory. (PostgreSQL drops its WAL files' pages the
    /// same way when nothing streams them.)
    /// </summary>
    public bool DropJournalFromPageCache { get; init; } = true;
}
