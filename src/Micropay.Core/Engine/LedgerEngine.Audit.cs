using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Micropay.Core.Audit;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>What <see cref="LedgerEngine.TryGetReceipt(UInt128, out AuditReceipt?)"/> found.</summary>
public enum ReceiptStatus : byte
{
    /// <summary>The receipt is there, under a checkpoint of durable batches.</summary>
    Ok = 0,

    /// <summary>The engine runs without an audit log (<see cref="LedgerEngineOptions.Audit"/> is null).</summary>
    AuditOff = 1,

    /// <summary>No released transfer has this id (a failed attempt is not a transfer: ask for it by its batch and index).</summary>
    NotFound = 2,

    /// <summary>The event is released but its batch is not durable yet (<see cref="DurabilityMode.Buffered"/>): no receipt may cover it until it is.</summary>
    NotDurableYet = 3,

    /// <summary>The transfer was made by the ledger itself (a channel's settlement or refund), not by a journaled event of its own: ask for the receipt of the operation that made it.</summary>
    NotAnEvent = 4,

    /// <summary>
    /// The event's batch was compacted out of the journal: its leaf is still provable
    /// (<see cref="LedgerEngine.GetInclusionProof"/>, from the tiles), but its record is gone, so only someone who kept it
    /// (the payer, or an earlier receipt) can show the leaf.
    /// </summary>
    Compacted = 5,
}

// The audit log: the apply loop appends each batch's leaves (after encoding its events) and puts the root in the
// batch; the publisher writes the root into the batch's version 2 header, moves the durable head after the append,
// signs checkpoints over durable batches, and makes the tiles durable before each snapshot.
public sealed partial class LedgerEngine
{
    private readonly AuditLog? _audit;
    private readonly AuditOptions? _auditOptions;

    // Apply loop only: the batch's result codes for its leaves.
    private uint[] _resultCodes = [];

    // The newest durable batch's tree (size and root); written by the publisher, read by any thread, under the lock.
    private readonly Lock _auditHeadLock = new();
    private ulong _durableBatch;
    private long _durableSize;
    private readonly byte[] _durableRoot = new byte[MerkleHashes.Size];

    // Checkpoints: signed by the publisher (periodically) or a caller (on demand), one at a time.
    private readonly Lock _checkpointLock = new();
    private SignedCheckpoint? _latestCheckpoint;
    private string? _auditOrigin;
    private int _batchesSinceCheckpoint;
    private long _lastCheckpointTicks;

    /// <summary>Whether the engine keeps an audit log (<see cref="LedgerEngineOptions.Audit"/>).</summary>
    public bool AuditEnabled => _audit is not null;

    /// <summary>
    /// The ledger's checkpoint verifier key (<c>name+hash+base64</c> through <see cref="NoteVerifierKey.ToString"/>): the
    /// operator key's public half under the log's origin. All a payer needs to check receipts offline. Null without an audit log.
    /// </summary>
    public NoteVerifierKey? AuditVerifierKey => _auditOrigin is { } origin && _options.OperatorKey is { } key ? NoteVerifierKey.Create(origin, key.VerificationKey) : null;

    /// <summary>The leaves of the audit tree over durable batches (what checkpoints may cover); 0 without an audit log.</summary>
    public long DurableAuditTreeSize
    {
        get
        {
            lock (_auditHeadLock)
            {
                return _durableSize;
            }
        }
    }

    /// <summary>The newest checkpoint the ledger signed (periodic or on demand), or null before the first.</summary>
    public SignedCheckpoint? LatestCheckpoint => Volatile.Read(ref _latestCheckpoint);

    /// <summary>
    /// Signs a checkpoint over every durable batch now (or returns the latest, if it already covers them), on the
    /// caller's thread. Batches the store has not made durable are never covered.
    /// </summary>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="InvalidOperationException">The engine has no audit log.</exception>
    public SignedCheckpoint Checkpoint()
    {
        if (_audit is null || _auditOrigin is null)
        {
            throw new InvalidOperationException("The engine has no audit log (LedgerEngineOptions.Audit is null).");
        }

        return SignCheckpoint()!;
    }

    /// <summary>The consistency proof (RFC 9162 2.1.4) between the trees of two checkpoints' sizes, both over durable batches.</summary>
    /// <param name="size1">The older tree's size.</param>
    /// <param name="size2">The newer tree's size, at most <see cref="DurableAuditTreeSize"/>.</param>
    /// <returns>The proof's hashes, concatenated.</returns>
    /// <exception cref="InvalidOperationException">The engine has no audit log.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public byte[] GetConsistencyProof(long size1, long size2)
    {
        AuditLog audit = _audit ?? throw new InvalidOperationException("The engine has no audit log (LedgerEngineOptions.Audit is null).");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size2, DurableAuditTreeSize);
        return audit.GetConsistencyProof(size1, size2);
    }

    /// <summary>
    /// A receipt for the transfer <paramref name="transferId"/>: the journaled event that created it (a transfer, or
    /// the payment order whose id it is), its result and timestamp, its inclusion proof, and a checkpoint covering it
    /// (signed now if the latest does not). Any thread.
    /// </summary>
    /// <param name="transferId">The transfer's id.</param>
    /// <param name="receipt">The receipt, when the status is <see cref="ReceiptStatus.Ok"/>.</param>
    /// <returns>What was found.</returns>
    public ReceiptStatus TryGetReceipt(UInt128 transferId, out AuditReceipt? receipt)
    {
        receipt = null;
        if (_audit is null)
        {
            return ReceiptStatus.AuditOff;
        }

        if (!TryGetTransfer(transferId, out Transfer transfer))
        {
            return ReceiptStatus.NotFound;
        }

        long leafIndex = _audit.FindLeafByTimestamp(transfer.Timestamp);
        if (leafIndex < 0)
        {
            // Every event's leaf is published by the apply loop before its transfers can be read, so a released transfer
            // without one was stamped by the ledger between events (a deadline's refund).
            return ReceiptStatus.NotAnEvent;
        }

        if (leafIndex >= DurableAuditTreeSize)
        {
            return ReceiptStatus.NotDurableYet;
        }

        if (ReadLeaf(leafIndex) is not { } leafBytes)
        {
            return ReceiptStatus.Compacted;
        }

        if (!AuditLeaf.TryParse(leafBytes, out AuditLeaf leaf, out _) || !EventCreated(leaf, transferId))
        {
            // The timestamp belongs to another event: the transfer was made by the ledger inside that event (a channel's settlement).
            return ReceiptStatus.NotAnEvent;
        }

        return ReceiptFor(leafIndex, leafBytes, out receipt);
    }

    /// <summary>A receipt for any event, by its place in the journal: event <paramref name="eventIndex"/> of batch <paramref name="batchNumber"/>, failed ones included.</summary>
    /// <param name="batchNumber">The journal batch.</param>
    /// <param name="eventIndex">The event's index in it.</param>
    /// <param name="receipt">The receipt, when the status is <see cref="ReceiptStatus.Ok"/>.</param>
    /// <returns>What was found.</returns>
    public ReceiptStatus TryGetReceipt(ulong batchNumber, int eventIndex, out AuditReceipt? receipt)
    {
        receipt = null;
        if (_audit is null)
        {
            return ReceiptStatus.AuditOff;
        }

        long leafIndex = _audit.FindLeaf(batchNumber, eventIndex);
        if (leafIndex < 0)
        {
            return ReceiptStatus.NotFound;
        }

        if (leafIndex >= DurableAuditTreeSize)
        {
            return ReceiptStatus.NotDurableYet;
        }

        return ReadLeaf(leafIndex) is { } leafBytes ? ReceiptFor(leafIndex, leafBytes, out receipt) : ReceiptStatus.Compacted;
    }

    /// <summary>The inclusion proof (RFC 9162 2.1.3) of a leaf in the tree of <paramref name="treeSize"/> leaves (a checkpoint's size), from the tiles: also for compacted events.</summary>
    /// <param name="leafIndex">The leaf.</param>
    /// <param name="treeSize">The tree's size, at most <see cref="DurableAuditTreeSize"/>.</param>
    /// <returns>The proof's hashes, concatenated.</returns>
    /// <exception cref="InvalidOperationException">The engine has no audit log.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or index is out of range.</exception>
    public byte[] GetInclusionProof(long leafIndex, long treeSize)
    {
        AuditLog audit = _audit ?? throw new InvalidOperationException("The engine has no audit log (LedgerEngineOptions.Audit is null).");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(treeSize, DurableAuditTreeSize);
        return audit.GetInclusionProof(leafIndex, treeSize);
    }

    /// <summary>A leaf's bytes: its record read back from the journal, with what the audit log keeps; null when its batch was compacted away.</summary>
    private byte[]? ReadLeaf(long leafIndex)
    {
        LeafLocation location = _audit!.LocateLeaf(leafIndex);
        IAsyncEnumerator<CommitBatch> batches = _store!.ReadBatchesAsync(location.BatchNumber).GetAsyncEnumerator();
        try
        {
            // The stores read synchronously underneath; a store that does not is waited for (receipts are not a hot path).
            ValueTask<bool> next = batches.MoveNextAsync();
            if (!(next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult()) || batches.Current.BatchNumber != location.BatchNumber)
            {
                return null;
            }

            CommitBatch batch = batches.Current;
            return AuditLog.BuildLeaf(location, batch.Events.Span.Slice(location.EventIndex * location.EventSize, location.EventSize));
        }
        finally
        {
            ValueTask disposed = batches.DisposeAsync();
            if (!disposed.IsCompletedSuccessfully)
            {
                disposed.AsTask().GetAwaiter().GetResult();
            }
        }
    }

    private ReceiptStatus ReceiptFor(long leafIndex, byte[] leafBytes, out AuditReceipt? receipt)
    {
        SignedCheckpoint? checkpoint = LatestCheckpoint;
        if (checkpoint is null || checkpoint.Size <= leafIndex)
        {
            checkpoint = SignCheckpoint();
        }

        byte[] proof = _audit!.GetInclusionProof(leafIndex, checkpoint!.Size);
        receipt = new AuditReceipt(leafIndex, leafBytes, proof, checkpoint.Note);
        return ReceiptStatus.Ok;
    }

    /// <summary>Whether the leaf's event is the one that created transfer <paramref name="id"/>.</summary>
    private static bool EventCreated(in AuditLeaf leaf, UInt128 id) => leaf.Operation switch
    {
        BatchOperation.CreateTransfers => Transfer.TryParse(leaf.Event.Span, out Transfer t) && t.Id == id,
        BatchOperation.ExecuteOrders or BatchOperation.ExecuteCoSignedOrders => PaymentOrder.TryParse(leaf.Event.Span, out PaymentOrder order, out _) && order.Id == id,
        _ => false,
    };

    /// <summary>Apply loop: appends the applied batch's events as leaves and records the tree's root and size in the batch.</summary>
    private void AppendAuditLeaves(InFlightBatch batch)
    {
        int count = batch.Count;
        if (_resultCodes.Length < count)
        {
            _resultCodes = new uint[Math.Max(count, _maxBatchSize)];
        }

        batch.Staging.CopyResultCodes(count, _resultCodes);
        int eventSize = batch.Operation!.EventSize;
        ReadOnlyMemory<byte> events = batch.Encoded.AsMemory(batch.EncodedOffset + CommitBatchHeader.Size, count * eventSize);

        // Event i carries the batch's start plus i; the ledger's clock ends at the last event's (or at the start, for an empty batch).
        ulong first = count == 0 ? _ledger.LastTimestamp : _ledger.LastTimestamp - (ulong)(count - 1);
        try
        {
            _audit!.AppendBatch(batch.BatchNumber, batch.Operation.Code, first, events, eventSize, _resultCodes.AsMemory(0, count));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerEngineException(
                $"Writing the audit log in '{_auditOptions!.Directory}' failed after batch {batch.BatchNumber} was applied, so the engine stopped; reopening " +
                "recovers the journal's state and rebuilds the audit files from the last snapshot.", e);
        }

        _audit.GetCurrentRoot(batch.AuditRoot);
        batch.AuditSize = _audit.Size;
    }

    /// <summary>Publisher: a durable batch moves the head checkpoints may cover; signs one when due.</summary>
    private void AfterDurable(InFlightBatch batch)
    {
        lock (_auditHeadLock)
        {
            _durableBatch = batch.BatchNumber;
            _durableSize = batch.AuditSize;
            batch.AuditRoot.CopyTo(_durableRoot, 0);
        }

        _batchesSinceCheckpoint++;
        AuditOptions options = _auditOptions!;
        if ((options.CheckpointEveryBatches > 0 && _batchesSinceCheckpoint >= options.CheckpointEveryBatches) || CheckpointIntervalPassed())
        {
            SignCheckpointOrStop();
        }
    }

    /// <summary>Publisher, while no batch arrives: durable batches that have waited the interval get their checkpoint.</summary>
    private void IdleCheckpoint()
    {
        if (_batchesSinceCheckpoint > 0 && CheckpointIntervalPassed() && Volatile.Read(ref _fault) is null)
        {
            try
            {
                SignCheckpointOrStop();
            }
            catch (LedgerEngineException e)
            {
                // No batch is in hand to carry the failure: stop the engine here, as the append path would.
                Fault(e);
            }
        }
    }

    // The publisher's periodic checkpoint: a write failure of checkpoints.bin stops the engine, like the apply loop's
    // failure to write the tiles (the audit directory is failing), with a message that names it.
    private void SignCheckpointOrStop()
    {
        try
        {
            SignCheckpoint();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerEngineException($"Writing a checkpoint to the audit log in '{_auditOptions!.Directory}' failed, so the engine stopped.", e);
        }
    }

    /// <summary>How long the publisher waits for a batch before <see cref="IdleCheckpoint"/>: the checkpoint interval, or forever.</summary>
    private int PublisherIdleTimeout =>
        _auditOptions is { CheckpointInterval: var interval } && interval > TimeSpan.Zero ? (int)Math.Clamp(interval.TotalMilliseconds, 1, int.MaxValue) : Timeout.Infinite;

    private bool CheckpointIntervalPassed() =>
        _auditOptions!.CheckpointInterval > TimeSpan.Zero && Stopwatch.GetElapsedTime(_lastCheckpointTicks) >= _auditOptions.CheckpointInterval;

    /// <summary>Signs a checkpoint over the durable head, unless the latest already covers it; null when no origin is fixed yet.</summary>
    private SignedCheckpoint? SignCheckpoint()
    {
        if (_auditOrigin is not { } origin || _options.OperatorKey is not { } key)
        {
            return null;
        }

        lock (_checkpointLock)
        {
            ulong batchNumber;
            long size;
            byte[] root = new byte[MerkleHashes.Size];
            lock (_auditHeadLock)
            {
                batchNumber = _durableBatch;
                size = _durableSize;
                _durableRoot.CopyTo(root, 0);
            }

            _batchesSinceCheckpoint = 0;
            _lastCheckpointTicks = Stopwatch.GetTimestamp();
            if (_latestCheckpoint is { } latest && latest.Size == size)
            {
                return latest;
            }

            Audit.Checkpoint body = Audit.Checkpoint.Create(origin, size, root);
            string note = SignedNote.Sign(body.ToText(), origin, key);
            _audit!.AppendCheckpoint(batchNumber, note);
            var signed = new SignedCheckpoint(note, body, batchNumber);
            Volatile.Write(ref _latestCheckpoint, signed);
            return signed;
        }
    }

    /// <summary>Fixes the checkpoints' origin once the instance id is known (open), and restores the latest checkpoint recovered.</summary>
    private void StartAudit()
    {
        if (_audit is null)
        {
            return;
        }

        string origin = _auditOptions!.Origin ?? $"micropay/ledger/{_instanceId:x32}";
        if (_options.OperatorKey is null)
        {
            throw new ArgumentException("The audit log signs checkpoints with LedgerEngineOptions.OperatorKey, which is not set.", nameof(LedgerEngineOptions.OperatorKey));
        }

        var verifier = NoteVerifierKey.Create(origin, _options.OperatorKey.VerificationKey);
        Span<byte> root = stackalloc byte[MerkleHashes.Size];
        if (_audit.RecoveredCheckpoint is (ulong batchNumber, string note))
        {
            // The latest stored checkpoint must be this ledger's and agree with the tree the journal rebuilt: one the tree
            // contradicts means the journal (or the tiles) changed after it was signed. Only the latest is checked here (an
            // open must not grow with the log's age).
            if (SignedNote.TryOpen(System.Text.Encoding.UTF8.GetBytes(note), [verifier], out string? text, out _) != NoteResult.Ok ||
                !Audit.Checkpoint.TryParse(text, out Audit.Checkpoint? body, out _) || body.Size > _audit.Size)
            {
                throw new AuditLogException(
                    $"The latest stored checkpoint (batch {batchNumber}) does not verify under the ledger's key {verifier}, or covers more than the journal holds.");
            }

            _audit.GetRoot(body.Size, root);
            if (!root.SequenceEqual(body.RootHash))
            {
                throw new AuditLogException(
                    $"The stored checkpoint of batch {batchNumber} (tree size {body.Size}) signed a root the journal no longer gives: history was rewritten after it was signed.");
            }

            _latestCheckpoint = new SignedCheckpoint(note, body, batchNumber);
        }

        Volatile.Write(ref _auditOrigin, origin);
    }
}

/// <summary>
/// The audit log's place in a snapshot ("audit"), always written: the batch the snapshot follows and that batch's hash
/// (so a snapshot swapped for another is detected against the journal), and with the audit log on, the tree's size,
/// root and frontier.
/// </summary>
/// <remarks>
/// <para>Layout (little-endian):</para>
/// <code>
/// offset size field
///      0    4 Version       1
///      4    4 Flags         bit 0: the tree fields hold an audit tree
///      8    8 BatchNumber   the batch the snapshot follows
///     16   32 BatchHash     SHA-256 of that batch's encoded bytes (filled in by the publisher, which alone knows it)
///     48    8 TreeSize      leaves
///     56    8 BatchCount    batch records in batches.bin
///     64    8 Checkpoints   bytes of checkpoints.bin made durable with the snapshot
///     72   32 Root          the tree's root (checked against the frontier)
///    104 32*k Frontier      k = popcount(TreeSize) hashes of complete subtrees, largest (leftmost) first
/// </code>
/// <para>"audit" sorts first in the envelope, so the batch hash sits at a fixed offset of the snapshot's first bytes
/// (<see cref="BatchHashOffset"/>), where the publisher writes it before handing the snapshot to the store.</para>
/// </remarks>
internal sealed class AuditSnapshotSection(Func<(ulong BatchNumber, AuditLog? Log)> state) : SnapshotSection(SectionName)
{
    public const string SectionName = "audit";

    /// <summary>Where the batch hash lies in the whole envelope: its header (16), the section's frame, then 16 bytes in.</summary>
    public const int BatchHashOffset = 16 + 2 + 5 + 8 + 16;

    private const int FixedSize = 104;
    private const uint Version = 1;

    private AuditSnapshotState? _captured;

    public override long Size
    {
        get
        {
            (_, AuditLog? log) = state();
            _captured = log?.CaptureState();
            return FixedSize + (_captured?.Frontier.Length ?? 0);
        }
    }

    public override void Write(IBufferWriter<byte> destination)
    {
        (ulong batchNumber, AuditLog? log) = state();
        AuditSnapshotState captured = _captured ?? AuditSnapshotState.Empty;
        int size = FixedSize + captured.Frontier.Length;
        Span<byte> p = destination.GetSpan(size)[..size];
        p.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(p, Version);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], log is null ? 0U : 1U);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], batchNumber);
        if (log is not null)
        {
            BinaryPrimitives.WriteInt64LittleEndian(p[48..], captured.TreeSize);
            BinaryPrimitives.WriteUInt64LittleEndian(p[56..], captured.BatchCount);
            BinaryPrimitives.WriteInt64LittleEndian(p[64..], captured.CheckpointsLength);
            log.GetCurrentRoot(p.Slice(72, MerkleHashes.Size));
            captured.Frontier.Span.CopyTo(p[FixedSize..]);
        }

        destination.Advance(size);
    }

    /// <summary>Writes the snapshot's batch hash into its bytes (the publisher, before the store sees them).</summary>
    public static void FillBatchHash(ReadOnlySequence<byte> snapshot, BatchHash hash)
    {
        if (!MemoryMarshal.TryGetArray(snapshot.First, out ArraySegment<byte> first) || first.Count < BatchHashOffset + BatchHash.Size)
        {
            throw new InvalidOperationException("A snapshot's first segment must be an array holding the audit section's header.");
        }

        hash.CopyTo(first.AsSpan(BatchHashOffset, BatchHash.Size));
    }

    /// <summary>Reads the section.</summary>
    /// <exception cref="LedgerSnapshotException">The section is malformed.</exception>
    public static Parsed Read(ReadOnlySequence<byte> section)
    {
        if (section.Length < FixedSize || section.Length > FixedSize + (64 * MerkleHashes.Size))
        {
            throw new LedgerSnapshotException(0, $"the \"{SectionName}\" section is {section.Length} bytes");
        }

        byte[] p = section.ToArray();
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(p);
        if (version != Version)
        {
            throw new LedgerSnapshotException(0, $"the \"{SectionName}\" section has version {version}; this build reads version {Version}");
        }

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(4));
        long treeSize = BinaryPrimitives.ReadInt64LittleEndian(p.AsSpan(48));
        int frontier = p.Length - FixedSize;
        if (flags > 1 || treeSize < 0 || frontier != System.Numerics.BitOperations.PopCount((ulong)treeSize) * MerkleHashes.Size)
        {
            throw new LedgerSnapshotException(4, $"the \"{SectionName}\" section's flags or tree fields are inconsistent");
        }

        long checkpoints = BinaryPrimitives.ReadInt64LittleEndian(p.AsSpan(64));
        if (checkpoints < 0)
        {
            throw new LedgerSnapshotException(64, $"the \"{SectionName}\" section's checkpoints length is negative");
        }

        var state = new AuditSnapshotState(treeSize, BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(56)), checkpoints, p.AsMemory(FixedSize));
        return new Parsed(
            BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(8)),
            new BatchHash(p.AsSpan(16, BatchHash.Size)),
            flags == 1,
            state,
            p.AsMemory(72, MerkleHashes.Size));
    }

    public readonly record struct Parsed(ulong BatchNumber, BatchHash BatchHash, bool HasTree, AuditSnapshotState Tree, ReadOnlyMemory<byte> Root);
}
