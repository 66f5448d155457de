using System.Diagnostics;
using Micropay.Core.Audit;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// Audits a ledger's journal and audit log offline, reading only: re-derives every batch hash and the hash chain,
/// replays every batch through this build's operation descriptions to recompute every leaf and the Merkle tree, compares
/// them with each version 2 header's root, with the audit files (results.bin, batches.bin, every level of tiles), checks
/// every stored checkpoint against the ledger's key and the recomputed tree, and re-verifies every signature the journal
/// holds with the edge's own checks. Everything wrong is reported with its batch, file and offset; damaged input never
/// throws.
/// </summary>
/// <remarks>
/// <para><b>What each tamper leaves.</b> A flipped byte fails a record's checksum (<see cref="AuditFindingKind.RecordDamaged"/>);
/// a removed batch leaves a gap (<see cref="AuditFindingKind.BatchMissing"/>); a reordered or copied one is out of order
/// (<see cref="AuditFindingKind.BatchOutOfOrder"/>; it is still replayed in batch order); a rewritten batch whose checksum
/// was recomputed breaks the chain (<see cref="AuditFindingKind.ChainBroken"/>) and its leaf, the later headers' roots and
/// tiles; one whose chain, headers and audit files were all recomputed too (an attacker with write access) is caught only
/// by the signed checkpoints, whose roots the rewritten tree no longer gives (<see cref="AuditFindingKind.CheckpointContradicted"/>):
/// the ledger's key is the one thing such an attacker cannot use. A forged signature in a rewritten event is
/// <see cref="AuditFindingKind.SignatureInvalid"/> whatever else was recomputed.</para>
/// <para><b>What it cannot check.</b> Unsigned events (accounts, transfers, key registrations, top-ups, cooperative
/// closes, the instance id) are the operator's: a rewrite of those with everything recomputed after the newest checkpoint,
/// or before the first, verifies. For a compacted journal (one that starts after batch 1), replay starts from the oldest
/// intact snapshot that covers the journal's start, whose state is trusted; the earlier leaves are checked from the audit
/// files alone (against the tiles, the snapshot's tree and the checkpoints). Run it on a ledger no engine has open, after
/// a clean shutdown or a reopen: after a crash the journal may end in a torn record and the audit log run ahead of it,
/// which the next open repairs and this reports.</para>
/// <para><b>Cost.</b> The journal is read twice (checksums and order, then the replay in batch order); the audit files
/// once. Memory: the replayed ledger, 24 bytes per journal batch (where each is), and O(log n) for the tree, which is
/// rebuilt as a compact range whatever its size.</para>
/// </remarks>
public static partial class AuditVerifier
{
    /// <summary>Audits the ledger whose journal (a <see cref="FileLedgerStore"/> directory) and audit log are given; changes nothing.</summary>
    /// <param name="journalDirectory">The <see cref="FileLedgerStore"/>'s directory.</param>
    /// <param name="auditDirectory">The audit log's directory (<see cref="AuditOptions.Directory"/>).</param>
    /// <param name="ledgerKey">The ledger's checkpoint verifier key (<see cref="LedgerEngine.AuditVerifierKey"/>): its name is the checkpoints' origin.</param>
    /// <param name="progress">Receives how far the audit has come, or null.</param>
    /// <param name="cancellationToken">Cancels the audit.</param>
    /// <returns>The report: findings (none for an intact ledger) and what was verified.</returns>
    /// <exception cref="ArgumentException">A directory is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="ledgerKey"/> is null.</exception>
    /// <exception cref="DirectoryNotFoundException">The journal directory does not exist.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static ValueTask<AuditReport> VerifyAsync(
        string journalDirectory, string auditDirectory, NoteVerifierKey ledgerKey, IProgress<AuditProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(journalDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(auditDirectory);
        ArgumentNullException.ThrowIfNull(ledgerKey);
        if (!Directory.Exists(journalDirectory))
        {
            throw new DirectoryNotFoundException($"The journal directory '{journalDirectory}' does not exist.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AuditReport>(cancellationToken);
        }

        var verification = new Verification(StoreFileSystem.Os, Path.GetFullPath(journalDirectory), Path.GetFullPath(auditDirectory), ledgerKey, progress, cancellationToken);
        return new ValueTask<AuditReport>(Task.Run(verification.Run, cancellationToken));
    }

    /// <summary>
    /// The same audit over another file system (the simulator's disk), on the caller's thread, so a simulated run stays
    /// one deterministic sequence of disk calls.
    /// </summary>
    internal static AuditReport Verify(StoreFileSystem fileSystem, string journalDirectory, string auditDirectory, NoteVerifierKey ledgerKey) =>
        new Verification(fileSystem, journalDirectory, auditDirectory, ledgerKey, null, CancellationToken.None).Run();

    /// <summary>One audit: its inputs, its findings, and the state of its passes (one thread).</summary>
    private sealed partial class Verification(
        StoreFileSystem fs, string journal, string audit, NoteVerifierKey key, IProgress<AuditProgress>? progress, CancellationToken cancellationToken)
    {
        private const int MaxFindingsPerKind = 100;
        private static readonly long ProgressInterval = Stopwatch.Frequency / 10;

        private readonly StoreFileSystem _fs = fs;
        private readonly List<AuditFinding> _findings = [];
        private readonly int[] _findingsPerKind = new int[(int)AuditFindingKind.NotVerified + 1];

        private long _bytesTotal;
        private long _bytesDone;
        private ulong _batchesDone;
        private long _lastProgress;

        public AuditReport Run()
        {
            using AuditFiles files = AuditFiles.Open(_fs, audit);
            _files = files;
            LoadCheckpoints();
            ScanJournal();
            ReplayJournal();
            FinishTree();
            ReportProgress(force: true);

            for (int kind = 0; kind < _findingsPerKind.Length; kind++)
            {
                if (_findingsPerKind[kind] > MaxFindingsPerKind)
                {
                    _findings.Add(new AuditFinding(
                        (AuditFindingKind)kind, 0, "", 0, $"{_findingsPerKind[kind] - MaxFindingsPerKind} more {(AuditFindingKind)kind} findings are not listed."));
                }
            }

            byte[] root = new byte[MerkleHashes.Size];
            _tree.GetRoot(root);
            return new AuditReport(_findings, _lastBatch, _firstReplayed, _replayed, _tree.Size, root, _checkpointsVerified, _signaturesVerified);
        }

        private void Report(AuditFindingKind kind, ulong batchNumber, string location, long offset, string message)
        {
            if (++_findingsPerKind[(int)kind] <= MaxFindingsPerKind)
            {
                _findings.Add(new AuditFinding(kind, batchNumber, location, offset, message));
            }
        }

        private void Advance(long bytes, bool batchDone)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _bytesDone += bytes;
            _batchesDone += batchDone ? 1UL : 0UL;
            ReportProgress(force: false);
        }

        private void ReportProgress(bool force)
        {
            if (progress is null)
            {
                return;
            }

            long now = Stopwatch.GetTimestamp();
            if (force || now - _lastProgress >= ProgressInterval)
            {
                _lastProgress = now;
                progress.Report(new AuditProgress(_batchesDone, _bytesDone, _bytesTotal));
            }
        }
    }
}
