using System.Buffers.Binary;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Audit;

/// <summary>
/// One leaf of the ledger's audit log: a committed event as the journal holds it, with what the ledger decided about it
/// (its result code) and when (the timestamp the ledger assigned), so a receipt proves "this event was applied at t with
/// this result", and a failed attempt is provably failed.
/// </summary>
/// <remarks>
/// <para>Byte layout (little-endian, like the journal), defined once here; the leaf's hash is RFC 9162's
/// <c>SHA-256(0x00 || bytes)</c>:</para>
/// <code>
/// offset size field
///      0    2 Version      1
///      2    2 Operation    the batch's operation code (CommitBatchHeader.Operation), never 0
///      4    4 Result       the operation's per-event result code; 0 is Ok for every operation
///      8    8 Timestamp    the timestamp the ledger assigned to the event: the batch's start plus the event's index
///     16    8 BatchNumber  the journal batch that holds the event
///     24    4 EventIndex   the event's place in that batch, from 0
///     28    4 EventSize    the length of the event record that follows: a multiple of 8 from 8 to 64 KiB
///     32    n Event        the event record exactly as journaled (what the caller submitted; timestamp fields 0)
/// </code>
/// <para>Every leaf of a ledger is distinct (batch number and index), and the leaves are in journal order, one per
/// event, failed events included.</para>
/// </remarks>
public readonly struct AuditLeaf
{
    /// <summary>The size of the fixed part before the event record: 32 bytes.</summary>
    public const int HeaderSize = 32;

    /// <summary>The leaf format's version.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>Creates a leaf.</summary>
    /// <param name="operation">The batch's operation.</param>
    /// <param name="result">The event's result code (0 = Ok).</param>
    /// <param name="timestamp">The timestamp the ledger assigned.</param>
    /// <param name="batchNumber">The journal batch (from 1).</param>
    /// <param name="eventIndex">The event's index in the batch.</param>
    /// <param name="eventRecord">The journaled event record.</param>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of its range (the operation is None, the batch 0, the index negative, the record not a multiple of 8 from 8 to 64 KiB).</exception>
    public AuditLeaf(BatchOperation operation, uint result, ulong timestamp, ulong batchNumber, int eventIndex, ReadOnlyMemory<byte> eventRecord)
    {
        if (operation == BatchOperation.None)
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "An event's operation is never 0.");
        }

        ArgumentOutOfRangeException.ThrowIfZero(batchNumber);
        ArgumentOutOfRangeException.ThrowIfNegative(eventIndex);
        if (!IsValidEventSize(eventRecord.Length))
        {
            throw new ArgumentOutOfRangeException(nameof(eventRecord), eventRecord.Length, "An event record is a multiple of 8 bytes from 8 to 64 KiB.");
        }

        Operation = operation;
        Result = result;
        Timestamp = timestamp;
        BatchNumber = batchNumber;
        EventIndex = eventIndex;
        Event = eventRecord;
    }

    /// <summary>The batch's operation code.</summary>
    public BatchOperation Operation { get; }

    /// <summary>The event's result code (the operation's result enum as a number; 0 is Ok).</summary>
    public uint Result { get; }

    /// <summary>The timestamp the ledger assigned to the event (nanoseconds on the ledger's clock).</summary>
    public ulong Timestamp { get; }

    /// <summary>The journal batch that holds the event.</summary>
    public ulong BatchNumber { get; }

    /// <summary>The event's index in its batch.</summary>
    public int EventIndex { get; }

    /// <summary>The event record as journaled.</summary>
    public ReadOnlyMemory<byte> Event { get; }

    /// <summary>Whether the ledger applied the event (result 0).</summary>
    public bool IsOk => Result == 0;

    /// <summary>The encoded leaf's length: 32 plus the event record's.</summary>
    public int EncodedLength => HeaderSize + Event.Length;

    /// <summary>Writes the encoded leaf.</summary>
    /// <param name="destination">At least <see cref="EncodedLength"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedLength)
        {
            throw new ArgumentException($"The destination must hold at least {EncodedLength} bytes.", nameof(destination));
        }

        WriteHeader(destination, Operation, Result, Timestamp, BatchNumber, EventIndex, Event.Length);
        Event.Span.CopyTo(destination[HeaderSize..]);
    }

    /// <summary>The encoded leaf.</summary>
    public byte[] ToBytes()
    {
        byte[] bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Writes the leaf's RFC 9162 hash, <c>SHA-256(0x00 || encoded leaf)</c>.</summary>
    /// <param name="destination">At least 32 bytes.</param>
    public void ComputeHash(Span<byte> destination) => MerkleHashes.Leaf(ToBytes(), destination);

    /// <summary>The event as a transfer, when the leaf is a <see cref="BatchOperation.CreateTransfers"/> event.</summary>
    /// <param name="transfer">The transfer as submitted (its timestamp is the leaf's <see cref="Timestamp"/>).</param>
    /// <returns>Whether the leaf holds a transfer record.</returns>
    public bool TryGetTransfer(out Transfer transfer)
    {
        transfer = default;
        if (Operation != BatchOperation.CreateTransfers || !Transfer.TryParse(Event.Span, out transfer))
        {
            return false;
        }

        transfer.Timestamp = Timestamp;
        return true;
    }

    /// <summary>Reads an encoded leaf; never throws. The leaf's <see cref="Event"/> is a slice of <paramref name="data"/>.</summary>
    /// <param name="data">Exactly one encoded leaf.</param>
    /// <param name="leaf">The leaf, when the bytes are one.</param>
    /// <param name="error">What is wrong with the bytes, or null.</param>
    /// <returns>Whether the bytes are a leaf.</returns>
    public static bool TryParse(ReadOnlyMemory<byte> data, out AuditLeaf leaf, out string? error)
    {
        leaf = default;
        ReadOnlySpan<byte> s = data.Span;
        if (s.Length < HeaderSize)
        {
            error = $"a leaf is at least {HeaderSize} bytes; this is {s.Length}";
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(s);
        var operation = (BatchOperation)BinaryPrimitives.ReadUInt16LittleEndian(s[2..]);
        ulong batch = BinaryPrimitives.ReadUInt64LittleEndian(s[16..]);
        int index = BinaryPrimitives.ReadInt32LittleEndian(s[24..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(s[28..]);
        error = version != CurrentVersion ? $"the leaf's version is {version}; this build reads version {CurrentVersion}"
            : operation == BatchOperation.None ? "the leaf's operation code is 0"
            : batch == 0 ? "the leaf's batch number is 0"
            : index < 0 ? "the leaf's event index is negative"
            : size > int.MaxValue || !IsValidEventSize((int)size) ? $"the leaf's event size {size} is not a multiple of 8 from 8 to 64 KiB"
            : s.Length != HeaderSize + (long)size ? $"the leaf says its event is {size} bytes, but {s.Length - HeaderSize} follow"
            : null;
        if (error is not null)
        {
            return false;
        }

        leaf = new AuditLeaf(operation, BinaryPrimitives.ReadUInt32LittleEndian(s[4..]), BinaryPrimitives.ReadUInt64LittleEndian(s[8..]), batch, index, data[HeaderSize..]);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"Leaf of batch {BatchNumber} event {EventIndex} ({Operation}, result {Result}, timestamp {Timestamp})";

    /// <summary>Writes the 32-byte fixed part (the engine writes it in front of each journaled record it hashes).</summary>
    internal static void WriteHeader(Span<byte> d, BatchOperation operation, uint result, ulong timestamp, ulong batchNumber, int eventIndex, int eventSize)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(d, CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], (ushort)operation);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], result);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], timestamp);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], batchNumber);
        BinaryPrimitives.WriteInt32LittleEndian(d[24..], eventIndex);
        BinaryPrimitives.WriteInt32LittleEndian(d[28..], eventSize);
    }

    private static bool IsValidEventSize(int size) => size is >= 8 and <= CommitBatchHeader.MaxEventSize && size % 8 == 0;
}
