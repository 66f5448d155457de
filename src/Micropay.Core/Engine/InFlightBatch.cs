using System.Buffers;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// One batch on its way from the apply loop to the publisher: the events as applied, their results, the
/// submissions to complete, the account rows it changed (copied right after it was applied), the encoded journal
/// record and, when due, the ledger snapshot taken right after it.
/// </summary>
/// <remarks>
/// The engine keeps a fixed ring of these (<see cref="LedgerEngine.PipelineDepth"/>), so batches neither allocate
/// nor wait for memory. Owned by the apply loop until it releases the "filled" semaphore, then by the publisher
/// until it releases the "free" semaphore (the semaphores order the hand-offs).
/// </remarks>
internal sealed class InFlightBatch
{
    public InFlightBatch(int maxBatchSize, int encodedOffset, OperationRegistry operations)
    {
        EncodedOffset = encodedOffset;
        _stagings = new OperationStaging[operations.All.Count];
        for (int i = 0; i < _stagings.Length; i++)
        {
            _stagings[i] = operations.All[i].CreateStaging(maxBatchSize);
        }

        _maxBatchSize = maxBatchSize;
        Encoded = new byte[encodedOffset + CommitBatchHeader.Size + (maxBatchSize * Math.Min(operations.MaxEventSize, PreallocatedEventSize))];
        Images = new AccountImageLog(maxBatchSize * 2);
    }

    // Events up to this size get encode room at construction (every transfer, account, channel and plain order record);
    // a batch of larger records (key operations, co-signed orders and opens, rare) grows the buffer the first time.
    private const int PreallocatedEventSize = 256;

    private readonly int _maxBatchSize;

    // Room for a batch of each operation, by operation index (a batch holds events of one operation).
    private readonly OperationStaging[] _stagings;

    /// <summary>The operation of the batch's events; null until the first submission (or pulse) is gathered.</summary>
    public Operation? Operation;
    public int Count;

    /// <summary>The events and results of the batch's operation.</summary>
    public OperationStaging Staging => _stagings[Operation!.Index];

    public Submission[] Members = new Submission[64];
    public int MemberCount;

    /// <summary>
    /// The snapshot requests that end this batch, kept apart from <see cref="Members"/>: the publisher completes them
    /// after the other members were released (and possibly already reused), so it must never look through Members then.
    /// </summary>
    public Submission? SnapshotRequests;

    /// <summary>Set when the batch reached the ledger: its number and the timestamp passed to the ledger.</summary>
    public ulong BatchNumber;
    public ulong Timestamp;

    /// <summary>Why the batch was not applied (the ledger refused it whole, e.g. it is full); its members get this.</summary>
    public Exception? Error;

    /// <summary>The account rows the batch changed, with their content (logged by the ledger); new rows are [AccountsStart, AccountsEnd).</summary>
    public readonly AccountImageLog Images;

    /// <summary>The channel changes the batch made (logged by the channels' state, <see cref="Channels.ChannelBook.Changes"/>).</summary>
    public readonly Channels.ChannelChangeLog ChannelChanges = new();

    /// <summary>The key registry changes the batch made (logged by <see cref="Identity.IdentityBook.Changes"/>).</summary>
    public readonly Identity.KeyChangeLog KeyChanges = new();
    public int AccountsStart;
    public int AccountsEnd;

    /// <summary>The transfer rows the batch added: [TransfersStart, TransfersEnd).</summary>
    public int TransfersStart;
    public int TransfersEnd;

    /// <summary>With the audit log on: the tree's root and size after this batch (set by the apply loop, written into the header).</summary>
    public readonly byte[] AuditRoot = new byte[Audit.MerkleHashes.Size];
    public long AuditSize;

    /// <summary>The journal header the publisher encoded for this batch.</summary>
    public CommitBatchHeader Header;

    /// <summary>
    /// Where the encoded batch starts in <see cref="Encoded"/>: room for the store's record framing in front
    /// (<see cref="IEncodedBatchAppender.RecordPrefixSize"/>, read once at open; 0 without that fast path), so the store
    /// writes the batch from here without copying it.
    /// </summary>
    public readonly int EncodedOffset;

    /// <summary>
    /// The encoded batch at <see cref="EncodedOffset"/>: the header (written by the publisher, which knows the previous
    /// batch's hash), then the events (written by the apply loop right after applying them).
    /// </summary>
    public byte[] Encoded { get; private set; }

    /// <summary>
    /// Makes room for a full batch of <paramref name="eventSize"/>-byte events (the apply loop, before encoding; the
    /// batch belongs to it then, and the publisher reads the buffer only after the hand-off).
    /// </summary>
    public void EnsureEncodedRoom(int eventSize)
    {
        int needed = EncodedOffset + CommitBatchHeader.Size + (_maxBatchSize * eventSize);
        if (Encoded.Length < needed)
        {
            Encoded = new byte[needed];
        }
    }

    /// <summary>The encoded batch's length (header and events).</summary>
    public int EncodedLength => CommitBatchHeader.Size + (Count * Operation!.EventSize);

    /// <summary>Whether the publisher has inserted the batch's new transfers into the read index (not yet visible: see _releasedTransferCount).</summary>
    public bool TransfersIndexed;

    /// <summary>The ledger's snapshot right after this batch, when one was due or asked for: one array, or segments past an array's size.</summary>
    public ReadOnlySequence<byte>? Snapshot;
    public ulong SnapshotBatchNumber;

    /// <summary>Apply the batch even when it holds no event: a clock pulse that releases due holds.</summary>
    public bool Pulse;

    /// <summary>The last batch: the publisher stops after it.</summary>
    public bool Stop;

    public void Reset()
    {
        if (Operation is not null)
        {
            Staging.Clear();
        }

        Operation = null;
        Count = 0;
        Array.Clear(Members, 0, MemberCount);
        MemberCount = 0;
        SnapshotRequests = null;
        BatchNumber = 0;
        Timestamp = 0;
        Error = null;
        Images.Clear();
        ChannelChanges.Clear();
        KeyChanges.Clear();
        AccountsStart = AccountsEnd = TransfersStart = TransfersEnd = 0;
        AuditSize = 0;
        Snapshot = null;
        SnapshotBatchNumber = 0;
        Stop = false;
        Pulse = false;
        TransfersIndexed = false;
    }

    public void AddMember(Submission submission)
    {
        if (MemberCount == Members.Length)
        {
            // Grows only past the most submissions a batch has held so far.
            Array.Resize(ref Members, Members.Length * 2);
        }

        Members[MemberCount++] = submission;
    }
}
