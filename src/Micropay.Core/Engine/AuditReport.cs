namespace Micropay.Core.Engine;

/// <summary>What <see cref="AuditVerifier.VerifyAsync"/> checked and found.</summary>
public sealed class AuditReport
{
    private readonly byte[] _rootHash;

    internal AuditReport(
        IReadOnlyList<AuditFinding> findings, ulong lastBatch, ulong firstReplayedBatch, ulong batches, long leaves, byte[] rootHash, int checkpointsVerified, long signaturesVerified)
    {
        Findings = findings;
        LastBatch = lastBatch;
        FirstReplayedBatch = firstReplayedBatch;
        Batches = batches;
        Leaves = leaves;
        _rootHash = rootHash;
        CheckpointsVerified = checkpointsVerified;
        SignaturesVerified = signaturesVerified;
    }

    /// <summary>Whether nothing was found wrong: every batch replayed and every check passed.</summary>
    public bool IsIntact => Findings.Count == 0;

    /// <summary>What was found wrong, in the order found (at most 100 of each kind are listed; a last one of that kind says how many more there were).</summary>
    public IReadOnlyList<AuditFinding> Findings { get; }

    /// <summary>The highest batch number the journal holds (0 for an empty journal).</summary>
    public ulong LastBatch { get; }

    /// <summary>
    /// The first batch replayed: 1, or for a compacted journal the batch after the snapshot the replay started from (its
    /// earlier history is covered by that snapshot and by the audit files' leaves, which were checked against the tiles,
    /// the snapshot's tree and the signed checkpoints, but no longer against a journal). 0 when nothing was replayed.
    /// </summary>
    public ulong FirstReplayedBatch { get; }

    /// <summary>The batches replayed and checked (leaves, tree, header roots, signatures), from <see cref="FirstReplayedBatch"/> on.</summary>
    public ulong Batches { get; }

    /// <summary>The leaves of the recomputed audit tree.</summary>
    public long Leaves { get; }

    /// <summary>The root of the recomputed audit tree (RFC 9162; the empty tree's root for no leaves).</summary>
    public ReadOnlySpan<byte> RootHash => _rootHash;

    /// <summary>The stored checkpoints whose signature verified under the ledger's key and whose root is the recomputed tree's at their size.</summary>
    public int CheckpointsVerified { get; }

    /// <summary>The signed events (payment orders, channel opens, vouchers, unilateral closes, hash-chain ticks) whose signatures, co-signatures included, were re-verified.</summary>
    public long SignaturesVerified { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{(IsIntact ? "Intact" : $"{Findings.Count} findings")}: {Batches} batches replayed from batch {FirstReplayedBatch} to {LastBatch}, {Leaves} leaves, " +
        $"{CheckpointsVerified} checkpoints and {SignaturesVerified} signed events verified";
}
