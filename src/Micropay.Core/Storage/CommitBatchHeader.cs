using System.Buffers.Binary;

namespace Micropay.Core.Storage;

/// <summary>
/// The fixed 128-byte header of a <see cref="CommitBatch"/>: which batch it is, when it was applied, what it
/// holds, and the hash that chains it to the batch before.
/// </summary>
/// <remarks>
/// <para>Byte layout (little-endian), written and read field by field:</para>
/// <code>
/// offset size field
///      0    4 Magic              "MPCB" (0x4D 0x50 0x43 0x42)
///      4    2 Version            1 or 2
///      6    2 Operation          the operation's code (BatchOperation); any value but 0 (stores do not interpret it)
///      8    8 BatchNumber        1, 2, 3, ... without gaps
///     16    8 Timestamp          the batch timestamp the engine passed to the ledger
///     24    4 EventCount         number of event records after the header
///     28    4 EventSize          bytes per event record; 0 means 128 (128 is always written as 0, so every
///                                batch of 128-byte events is encoded as before the field existed)
///     32   32 PreviousBatchHash  SHA-256 of the previous batch's encoded bytes; zeros for batch 1
///     64   32 AuditRoot          version 2: the audit log's RFC 9162 Merkle root after this batch; version 1: zeros
///                                (or a root, which version 1 never checks)
///     96    8 AuditTreeSize      version 2: the audit log's leaf count after this batch; version 1: zeros
///    104   24 Reserved           zeros
/// </code>
/// <para>Version 1 is a batch of an engine without the audit log (or written before it existed); version 2 carries the
/// audit tree's root and size after the batch. Both are read; an engine writes version 2 exactly when its audit log is on.</para>
/// <para>A store keeps the operation code and the events as bytes: it never decides what an operation means. The
/// engine does, when it replays, and refuses a code this build does not know by name rather than guessing.</para>
/// </remarks>
public readonly struct CommitBatchHeader : IEquatable<CommitBatchHeader>
{
    /// <summary>The size of the encoded header in bytes: 128.</summary>
    public const int Size = 128;

    /// <summary>The header version without the audit tree's size (offset 96 is zero).</summary>
    public const ushort Version1 = 1;

    /// <summary>The header version that carries the audit tree's root and size after the batch.</summary>
    public const ushort Version2 = 2;

    /// <summary>The newest header version this library writes and reads (it reads every older one too).</summary>
    public const ushort CurrentVersion = Version2;

    /// <summary>The largest event record a batch may hold, in bytes: 64 KiB.</summary>
    public const int MaxEventSize = 64 * 1024;

    /// <summary>The magic number at offset 0, "MPCB" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x4243_504D;

    private readonly BatchHash _previousBatchHash;
    private readonly BatchHash _auditRoot;

    /// <summary>Creates a header.</summary>
    /// <param name="batchNumber">The batch's number; batches are numbered 1, 2, 3, ... without gaps.</param>
    /// <param name="operation">What the batch's events are.</param>
    /// <param name="timestamp">The batch timestamp the engine passed to the ledger.</param>
    /// <param name="eventCount">How many event records follow the header.</param>
    /// <param name="previousBatchHash">SHA-256 of the previous batch's encoded bytes (<see cref="BatchHash.Zero"/> for batch 1).</param>
    /// <param name="auditRoot">The audit log's Merkle root after this batch, or <see cref="BatchHash.Zero"/>.</param>
    /// <param name="eventSize">The size of each event record: a multiple of 8 from 8 to <see cref="MaxEventSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch number is 0, the count negative, the operation
    /// <see cref="BatchOperation.None"/>, or the event size not a multiple of 8 in range.</exception>
    public CommitBatchHeader(
        ulong batchNumber, BatchOperation operation, ulong timestamp, int eventCount, BatchHash previousBatchHash, BatchHash auditRoot, int eventSize = CommitBatch.EventSize)
    {
        ArgumentOutOfRangeException.ThrowIfZero(batchNumber);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);
        if (operation == BatchOperation.None)
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "A batch's operation code is never 0 (BatchOperation.None).");
        }

        if (!IsValidEventSize(eventSize))
        {
            throw new ArgumentOutOfRangeException(nameof(eventSize), eventSize, $"An event record is a multiple of 8 bytes from 8 to {MaxEventSize}.");
        }

        EventSize = eventSize;
        Version = Version1;
        BatchNumber = batchNumber;
        Operation = operation;
        Timestamp = timestamp;
        EventCount = eventCount;
        _previousBatchHash = previousBatchHash;
        _auditRoot = auditRoot;
    }

    /// <summary>A version 2 header: one that carries the audit tree's root and size after the batch.</summary>
    /// <param name="batchNumber">The batch's number; batches are numbered 1, 2, 3, ... without gaps.</param>
    /// <param name="operation">What the batch's events are.</param>
    /// <param name="timestamp">The batch timestamp the engine passed to the ledger.</param>
    /// <param name="eventCount">How many event records follow the header.</param>
    /// <param name="previousBatchHash">SHA-256 of the previous batch's encoded bytes (<see cref="BatchHash.Zero"/> for batch 1).</param>
    /// <param name="auditRoot">The audit log's Merkle root after this batch.</param>
    /// <param name="auditTreeSize">The audit log's leaf count after this batch.</param>
    /// <param name="eventSize">The size of each event record: a multiple of 8 from 8 to <see cref="MaxEventSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">As for the version 1 constructor.</exception>
    /// <returns>The header.</returns>
    public static CommitBatchHeader WithAuditTree(
        ulong batchNumber, BatchOperation operation, ulong timestamp, int eventCount, BatchHash previousBatchHash, BatchHash auditRoot, ulong auditTreeSize, int eventSize) =>
        new(batchNumber, operation, timestamp, eventCount, previousBatchHash, auditRoot, eventSize, auditTreeSize);

    private CommitBatchHeader(
        ulong batchNumber, BatchOperation operation, ulong timestamp, int eventCount, BatchHash previousBatchHash, BatchHash auditRoot, int eventSize, ulong auditTreeSize)
        : this(batchNumber, operation, timestamp, eventCount, previousBatchHash, auditRoot, eventSize)
    {
        Version = Version2;
        AuditTreeSize = auditTreeSize;
    }

    /// <summary>The header's format version: <see cref="Version1"/> or <see cref="Version2"/>.</summary>
    public ushort Version { get; }

    /// <summary>The audit log's leaf count after this batch (version 2); 0 in a version 1 header.</summary>
    public ulong AuditTreeSize { get; }

    /// <summary>The batch's number: 1 for the first batch, then consecutive.</summary>
    public ulong BatchNumber { get; }

    /// <summary>What the batch's events are.</summary>
    public BatchOperation Operation { get; }

    /// <summary>The batch timestamp the engine passed to the ledger (replay passes it again, so replay is deterministic).</summary>
    public ulong Timestamp { get; }

    /// <summary>How many event records follow the header.</summary>
    public int EventCount { get; }

    /// <summary>The size of each event record in bytes (128 unless the operation defines another).</summary>
    public int EventSize { get; }

    /// <summary>The length of the batch's event records: <see cref="EventCount"/> times <see cref="EventSize"/>.</summary>
    public long EventsLength => (long)EventCount * EventSize;

    /// <summary>SHA-256 of the previous batch's encoded bytes; <see cref="BatchHash.Zero"/> for batch 1.</summary>
    public BatchHash PreviousBatchHash => _previousBatchHash;

    /// <summary>The audit log's Merkle root after this batch (version 2); in version 1, <see cref="BatchHash.Zero"/> as written by this library.</summary>
    public BatchHash AuditRoot => _auditRoot;

    /// <summary>Writes the header's 128 bytes.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/>.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination must hold at least {Size} bytes.", nameof(destination));
        }

        destination = destination[..Size];
        destination.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Operation);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], BatchNumber);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], EventCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], EventSize == CommitBatch.EventSize ? 0U : (uint)EventSize);
        _previousBatchHash.CopyTo(destination[32..]);
        _auditRoot.CopyTo(destination[64..]);
        if (Version == Version2)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[96..], AuditTreeSize);
        }
    }

    /// <summary>Reads a header, checking every field that has a fixed or bounded value.</summary>
    /// <param name="source">The encoded header (at least <see cref="Size"/> bytes; more are ignored).</param>
    /// <param name="header">The header, when the result is <see cref="CommitBatchParseResult.Ok"/>.</param>
    /// <returns>What is wrong with the bytes, or <see cref="CommitBatchParseResult.Ok"/>.</returns>
    public static CommitBatchParseResult TryParse(ReadOnlySpan<byte> source, out CommitBatchHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return CommitBatchParseResult.Truncated;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            return CommitBatchParseResult.BadMagic;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (version is not (Version1 or Version2))
        {
            return CommitBatchParseResult.UnsupportedVersion;
        }

        var operation = (BatchOperation)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]);
        if (operation == BatchOperation.None)
        {
            return CommitBatchParseResult.BadOperation;
        }

        ulong batchNumber = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        if (batchNumber == 0)
        {
            return CommitBatchParseResult.BadBatchNumber;
        }

        int eventCount = BinaryPrimitives.ReadInt32LittleEndian(source[24..]);
        if (eventCount < 0 || eventCount > CommitBatch.MaxEventCount)
        {
            return CommitBatchParseResult.BadEventCount;
        }

        uint eventSizeField = BinaryPrimitives.ReadUInt32LittleEndian(source[28..]);
        int eventSize = eventSizeField == 0 ? CommitBatch.EventSize : (int)Math.Min(eventSizeField, int.MaxValue);

        // 128 written as itself would give one header two encodings (and two hashes): only 0 means 128.
        if (eventSizeField == CommitBatch.EventSize || !IsValidEventSize(eventSize) || (long)eventCount * eventSize > CommitBatch.MaxEventsLength)
        {
            return CommitBatchParseResult.BadEventSize;
        }

        // Version 1 reserved everything from offset 96; version 2 uses 8 bytes of it. Every reserved byte must be zero,
        // so a header has exactly one encoding (and one hash).
        if (source[(version == Version1 ? 96 : 104)..Size].IndexOfAnyExcept((byte)0) >= 0)
        {
            return CommitBatchParseResult.ReservedNotZero;
        }

        ulong timestamp = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        var previous = new BatchHash(source.Slice(32, BatchHash.Size));
        var auditRoot = new BatchHash(source.Slice(64, BatchHash.Size));
        header = version == Version1
            ? new CommitBatchHeader(batchNumber, operation, timestamp, eventCount, previous, auditRoot, eventSize)
            : WithAuditTree(batchNumber, operation, timestamp, eventCount, previous, auditRoot, BinaryPrimitives.ReadUInt64LittleEndian(source[96..]), eventSize);
        return CommitBatchParseResult.Ok;
    }

    /// <inheritdoc />
    public bool Equals(CommitBatchHeader other) =>
        BatchNumber == other.BatchNumber && Operation == other.Operation && Timestamp == other.Timestamp &&
        EventCount == other.EventCount && EventSize == other.EventSize && _previousBatchHash == other._previousBatchHash && _auditRoot == other._auditRoot &&
        Version == other.Version && AuditTreeSize == other.AuditTreeSize;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CommitBatchHeader other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BatchNumber, Operation, Timestamp, EventCount, _previousBatchHash);

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator ==(CommitBatchHeader left, CommitBatchHeader right) => left.Equals(right);

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator !=(CommitBatchHeader left, CommitBatchHeader right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"Batch {BatchNumber} ({Operation}, {EventCount} events of {EventSize} bytes, timestamp {Timestamp})";

    private static bool IsValidEventSize(int eventSize) => eventSize is >= 8 and <= MaxEventSize && eventSize % 8 == 0;
}
