namespace Micropay.Core.Engine;

/// <summary>What <see cref="AuditVerifier"/> found wrong (<see cref="AuditFinding.Kind"/>).</summary>
public enum AuditFindingKind : byte
{
    /// <summary>
    /// Journal bytes that hold no sound record: a segment header, or a record's framing, checksum or batch header is
    /// damaged (a flipped byte, a cut file). The finding's offset is where the damage starts; its batch the one expected
    /// there. At the very end of the journal this is also what a crash leaves (a torn write, which the store cuts when it
    /// next opens).
    /// </summary>
    RecordDamaged = 0,

    /// <summary>Batch numbers the journal does not hold, and no damage explains: removed batches (or a compacted journal with no intact snapshot covering its start).</summary>
    BatchMissing = 1,

    /// <summary>A batch stored after a later one, or a second time: batches were reordered or copied.</summary>
    BatchOutOfOrder = 2,

    /// <summary>A batch's previous batch hash is not the SHA-256 of the batch before it (or not the hash a snapshot recorded of it): a batch was changed and its chain not repaired.</summary>
    ChainBroken = 3,

    /// <summary>A batch that cannot be replayed: an operation this build does not know, a wrong event size, a record that does not parse, or an apply that fails. Replay stops there.</summary>
    ReplayFailed = 4,

    /// <summary>A version 2 batch header's audit tree size or root is not what replaying the journal gives.</summary>
    HeaderRootMismatch = 5,

    /// <summary>A result in results.bin is not the result replaying the journal gives (what a receipt would then prove wrongly), or the file is shorter or longer than the journal's leaves.</summary>
    LeafMismatch = 6,

    /// <summary>A batch record in batches.bin is not what the replay gives (first leaf, first timestamp, offset, count, event size, operation), or the file is shorter or longer.</summary>
    BatchIndexMismatch = 7,

    /// <summary>A hash in the tiles (hashes-L.bin) is not the hash of the leaves below it, or a level file is shorter or longer than the tree needs.</summary>
    TileMismatch = 8,

    /// <summary>A stored checkpoint that is malformed, not signed by the ledger's key, of another origin, or whose recorded batch does not end at its tree size; or a damaged tail of checkpoints.bin.</summary>
    CheckpointInvalid = 9,

    /// <summary>
    /// A checkpoint validly signed by the ledger's key whose root is not the root of the journal's tree at its size (or
    /// whose size the journal's tree no longer reaches): the history it covers was rewritten after it was signed. The only
    /// finding a rewrite with a correctly recomputed hash chain, headers and audit files leaves.
    /// </summary>
    CheckpointContradicted = 10,

    /// <summary>A signed event in the journal (a payment order, a channel open, a voucher, a unilateral close, a co-signature, a hash-chain tick) that does not verify against the keys and channels applied before it: the edge would have refused it.</summary>
    SignatureInvalid = 11,

    /// <summary>What could not be verified because replay stopped (at a missing, damaged or unreplayable batch): the batches from there on were checked for framing, order and hash chain only.</summary>
    NotVerified = 12,
}
