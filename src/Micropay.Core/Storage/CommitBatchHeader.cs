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
///      4    2 Version            1
///      6    2 Operation          BatchOperation (1 = CreateAccounts, 2 = CreateTransfers)
///      8    8 BatchNumber        1, 2, 3, ... without gaps
///     16    8 Timestamp          the batch timestamp the engine passed to the ledger
///     24    4 EventCount         number of 128-byte event records after the header
///     28    4 Reserved           0
///     32   32 PreviousBatchHash  SHA-256 of the previous batch's encoded bytes; zeros for batch 1
///     64   32 AuditRoot          reserved for the audit log's Merkle root; zeros until then
///     96   32 Reserved           zeros
/// </code>
/// </remarks>
public readonly struct CommitBatchHeader : IEquatable<CommitBatchHeader>
{
    /// <summary>The size of the encoded header in bytes: 128.</summary>
    public const int Size = 128;

    /// <summary>The header format version this library writes and reads.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The magic number at offset 0, "MPCB" read as a little-endian 32-bit integer.</summary>
    public const uint Magic = 0x4243_504D;

    private readonly BatchHash _previousBatchHash;
    private readonly BatchHash _auditRoot;

    /// <summary>Creates a header.</summary>
    /// <param name="batchNumber">The batch's number; batches are numbered 1, 2, 3, ... without gaps.</param>
    /// <param name="operation">What the batch's events are.</param>
    /// <param name="timestamp">The batch timestamp the engine passed to the ledger.</param>
    /// <param name="eventCount">How many 128-byte event records follow the header.</param>
    /// <param name="previousBatchHash">SHA-256 of the previous batch's encoded bytes (<see cref="BatchHash.Zero"/> for batch 1).</param>
    /// <param name="auditRoot">The audit log's Merkle root after this batch, or <see cref="BatchHash.Zero"/>.</param>
    public CommitBatchHeader(ulong batchNumber, BatchOperation operation, ulong timestamp, int eventCount, BatchHash previousBatchHash, BatchHash auditRoot)
    {
        ArgumentOutOfRangeException.ThrowIfZero(batchNumber);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);
        if (operation is not (BatchOperation.CreateAccounts or BatchOperation.CreateTransfers))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "A batch is either CreateAccounts or CreateTransfers.");
        }

        BatchNumber = batchNumber;
        Operation = operation;
        Timestamp = timestamp;
        EventCount = eventCount;
        _previousBatchHash = previousBatchHash;
        _auditRoot = auditRoot;
    }

    /// <summary>The batch's number: 1 for the first batch, then consecutive.</summary>
    public ulong BatchNumber { get; }

    /// <summary>What the batch's events are.</summary>
    public BatchOperation Operation { get; }

    /// <summary>The batch timestamp the engine passed to the ledger (replay passes it again, so replay is deterministic).</summary>
    public ulong Timestamp { get; }

    /// <summary>How many 128-byte event records follow the header.</summary>
    public int EventCount { get; }

    /// <summary>SHA-256 of the previous batch's encoded bytes; <see cref="BatchHash.Zero"/> for batch 1.</summary>
    public BatchHash PreviousBatchHash => _previousBatchHash;

    /// <summary>The audit log's Merkle root after this batch; <see cref="BatchHash.Zero"/> until the audit log exists.</summary>
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
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Operation);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], BatchNumber);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], EventCount);
        _previousBatchHash.CopyTo(destination[32..]);
        _auditRoot.CopyTo(destination[64..]);
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

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) != CurrentVersion)
        {
            return CommitBatchParseResult.UnsupportedVersion;
        }

        var operation = (BatchOperation)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]);
        if (operation is not (BatchOperation.CreateAccounts or BatchOperation.CreateTransfers))
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

        if (BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != 0 || source[96..Size].IndexOfAnyExcept((byte)0) >= 0)
        {
            return CommitBatchParseResult.ReservedNotZero;
        }

        header = new CommitBatchHeader(
            batchNumber,
            operation,
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
            eventCount,
            new BatchHash(source.Slice(32, BatchHash.Size)),
            new BatchHash(source.Slice(64, BatchHash.Size)));
        return CommitBatchParseResult.Ok;
    }

    /// <inheritdoc />
    public bool Equals(CommitBatchHeader other) =>
        BatchNumber == other.BatchNumber && Operation == other.Operation && Timestamp == other.Timestamp &&
        EventCount == other.EventCount && _previousBatchHash == other._previousBatchHash && _auditRoot == other._auditRoot;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is CommitBatchHeader other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BatchNumber, Operation, Timestamp, EventCount, _previousBatchHash);

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator ==(CommitBatchHeader left, CommitBatchHeader right) => left.Equals(right);

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator !=(CommitBatchHeader left, CommitBatchHeader right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => $"Batch {BatchNumber} ({Operation}, {EventCount} events, timestamp {Timestamp})";
}
