namespace Micropay.Core.Storage;

/// <summary>Settings of a <see cref="FileLedgerStore"/>.</summary>
public sealed class FileLedgerStoreOptions
{
    /// <summary>The default <see cref="SegmentSizeBytes"/>: 64 MiB.</summary>
    public const long DefaultSegmentSizeBytes = 64L * 1024 * 1024;

    /// <summary>The smallest allowed <see cref="SegmentSizeBytes"/>: 4 KiB.</summary>
    public const long MinSegmentSizeBytes = 4096;

    /// <summary>
    /// The largest allowed <see cref="SegmentSizeBytes"/>: 1 GiB. Larger segments buy nothing (a new segment costs one file
    /// creation per gigabyte) and make the whole-segment scans slower (reading from a batch in the middle of a segment,
    /// verifying a retried batch).
    /// </summary>
    public const long MaxSegmentSizeBytes = 1L << 30;

    /// <summary>
    /// The size a segment file stays within, from <see cref="MinSegmentSizeBytes"/> to <see cref="MaxSegmentSizeBytes"/>. A
    /// batch never spans two segments: a new segment starts when the next
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
    /// the default skips is recomputing the chain links of batches the snapshot already covers (SHA-256 of most of the
    /// journal, the largest part of opening a large one), which only detects a record rewritten with a valid CRC, i.e.
    /// deliberate tampering rather than a crash or a disk fault. Set it for an audit-grade open.
    /// </summary>
    public bool VerifyHashChainOnOpen { get; init; }

    /// <summary>
    /// Whether the store asks the operating system to drop the journal's pages from its page cache once they are
    /// durable (Linux only; elsewhere nothing happens). Default <see langword="false"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The journal is written once and read back only to recover or replay, so caching it evicts data that is read
    /// again, and every appended MiB takes fresh memory the kernel must find. On a virtual machine whose free memory is
    /// returned to the host (free page reporting, ballooning), that costs a host fault per page, and setting this
    /// raises the engine's durable batch throughput markedly (figures in the repository's benchmarks/README.md). The
    /// newest MiB of the active segment stays cached (the next append writes into its last page); sealed segments are
    /// dropped whole. Nothing can be lost: the pages dropped are clean copies of what the disk holds.
    /// </para>
    /// <para>
    /// The price is paid when the store opens: it checks every record of the journal, which must then come from the
    /// disk, so a large journal opens markedly slower than from the page cache (figures in the repository's
    /// benchmarks/README.md). Set it for a write-heavy service that restarts rarely; leave it off when opening
    /// fast, or something reading the journal soon after it is written, matters more. (PostgreSQL advises the same for
    /// each WAL file it closes when its WAL level is minimal, i.e. when no archiving or replication reads the WAL.)
    /// </para>
    /// </remarks>
    public bool DropJournalFromPageCache { get; init; }
}
