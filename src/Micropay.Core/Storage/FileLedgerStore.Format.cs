using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Micropay.Core.Storage;

// The segment file format. Every integer is little-endian and written field by field with BinaryPrimitives.
//
// A segment file is a 32-byte file header followed by records, back to back, up to the end of the file.
//
// File header (32 bytes):
// offset size field
//      0    4 Magic             "MPSG" (0x4D 0x50 0x53 0x47)
//      4    2 Version           1
//      6    2 HeaderSize        32
//      8    8 Salt              random per file; seeds every record's CRC, so a record copied from another file
//                               (or a stale block the file system hands back) never verifies here
//     16    8 FirstBatchNumber  the batch number of the file's first record; also in the file name
//     24    4 Reserved          0
//     28    4 HeaderCrc         CRC-32C of bytes 0..27
//
// Record (32-byte frame + payload):
// offset size field
//      0    4 Magic             "MPRC" (0x4D 0x50 0x52 0x43)
//      4    4 PayloadLength     length of the encoded CommitBatch: 128 + EventCount * EventSize
//      8    8 BatchNumber       equal to the batch header's BatchNumber
//     16   12 Reserved          0
//     28    4 Crc               CRC-32C of: Salt (8 bytes, LE) || frame bytes 0..27 || payload
//     32    n Payload           the encoded CommitBatch (CommitBatchHeader + event records)
//
// CRC-32C is Castagnoli's CRC (System.IO.Hashing's Crc32ParameterSet.Crc32C, hardware accelerated). "Seeded with the
// salt" means the salt is hashed first; this keeps the standard, well-tested CRC while making it file-specific.
public sealed partial class FileLedgerStore
{
    internal const int FileHeaderSize = 32;
    internal const int FrameSize = 32;
    internal const uint SegmentMagic = 0x4753_504D; // "MPSG"
    internal const uint RecordMagic = 0x4352_504D; // "MPRC"
    internal const ushort SegmentVersion = 1;
    internal const string SegmentPrefix = "segment-";
    internal const string SegmentExtension = ".seg";
    private const long MaxPayloadLength = CommitBatchHeader.Size + CommitBatch.MaxEventsLength;

    // Reads are done in chunks of this size (or one record, when larger), not one syscall per record.
    private const int ReadChunkSize = 1 << 20;

    internal static string SegmentFileName(ulong firstBatchNumber) =>
        SegmentPrefix + firstBatchNumber.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension;

    internal static void EncodeFileHeader(Span<byte> destination, ulong salt, ulong firstBatchNumber)
    {
        destination = destination[..FileHeaderSize];
        destination.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, SegmentMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], SegmentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], FileHeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], salt);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], firstBatchNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, destination[..28]));
    }

    /// <summary>Checks a file header; returns null when it is sound, else what is wrong (and the offset of the bad field).</summary>
    private static string? ParseFileHeader(ReadOnlySpan<byte> source, out ulong salt, out ulong firstBatchNumber, out long badOffset)
    {
        salt = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        firstBatchNumber = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        badOffset = 0;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != SegmentMagic)
        {
            return "the file header's magic is not \"MPSG\"";
        }

        badOffset = 28;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, source[..28]))
        {
            return "the file header's CRC-32C does not match";
        }

        badOffset = 4;
        if (BinaryPrimitives.ReadUInt16LittleEndian(source[4..]) != SegmentVersion || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != FileHeaderSize)
        {
            return "unsupported segment version or header size";
        }

        badOffset = 16;
        return firstBatchNumber == 0 ? "the first batch number is 0" : null;
    }

    /// <summary>Frames <paramref name="batch"/> as one record into <paramref name="destination"/>; returns the record's length.</summary>
    internal static int EncodeRecord(Span<byte> destination, Crc32 crc, ulong salt, in CommitBatch batch)
    {
        int payloadLength = batch.EncodedLength;
        batch.Encode(destination.Slice(FrameSize, payloadLength));
        return EncodeFrame(destination, crc, salt, batch.BatchNumber, payloadLength);
    }

    /// <summary>Writes the frame of a record whose payload (the encoded batch) is already at <c>destination[FrameSize..]</c>.</summary>
    internal static int EncodeFrame(Span<byte> destination, Crc32 crc, ulong salt, ulong batchNumber, int payloadLength)
    {
        Span<byte> frame = destination[..FrameSize];
        frame.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], payloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[8..], batchNumber);
        Span<byte> payload = destination.Slice(FrameSize, payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[28..], RecordCrc(crc, salt, frame, payload));
        return FrameSize + payloadLength;
    }

    private static uint RecordCrc(Crc32 crc, ulong salt, ReadOnlySpan<byte> frame, ReadOnlySpan<byte> payload)
    {
        Span<byte> saltBytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(saltBytes, salt);
        crc.Reset();
        crc.Append(saltBytes);
        crc.Append(frame[..28]);
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>Whether <paramref name="data"/> holds, at offset 0, a whole record whose checksum verifies.</summary>
    private static bool IsValidRecordAt(ReadOnlySpan<byte> data, Crc32 crc, ulong salt)
    {
        if (data.Length < FrameSize || BinaryPrimitives.ReadUInt32LittleEndian(data) != RecordMagic)
        {
            return false;
        }

        long length = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (!IsPlausiblePayloadLength(length) || FrameSize + length > data.Length)
        {
            return false;
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(data[28..]) == RecordCrc(crc, salt, data[..FrameSize], data.Slice(FrameSize, (int)length));
    }

    private static bool IsPlausiblePayloadLength(long length) =>
        length >= CommitBatchHeader.Size && length <= MaxPayloadLength && length % 8 == 0;

    private enum RecordStatus
    {
        Ok,
        Incomplete,
        BadMagic,
        BadLength,
        BadReserved,
        BadCrc,
    }

    private static string Describe(RecordStatus status) => status switch
    {
        RecordStatus.Incomplete => "the record is incomplete (the file ends inside it)",
        RecordStatus.BadMagic => "the record's magic is not \"MPRC\"",
        RecordStatus.BadLength => "the record's payload length is impossible",
        RecordStatus.BadReserved => "the record frame's reserved bytes are not zero",
        RecordStatus.BadCrc => "the record's CRC-32C does not match",
        _ => status.ToString(),
    };

    /// <summary>
    /// Reads records of one segment through a pooled chunk buffer: one read syscall per chunk, not per record. A
    /// returned payload is a slice of the buffer, valid until the next call.
    /// </summary>
    private sealed class RecordScanner : IDisposable
    {
        private readonly StoreFile _handle;
        private readonly ulong _salt;
        private readonly Crc32 _crc = new(Crc32ParameterSet.Crc32C);
        private byte[] _buffer;
        private long _bufferOffset;
        private int _bufferCount;

        public RecordScanner(StoreFile handle, ulong salt)
        {
            _handle = handle;
            _salt = salt;
            _buffer = ArrayPool<byte>.Shared.Rent(ReadChunkSize);
        }

        /// <summary>Reads the record at <paramref name="offset"/>, which must lie wholly before <paramref name="limit"/>.</summary>
        public RecordStatus TryRead(long offset, long limit, out ulong batchNumber, out ReadOnlyMemory<byte> payload)
        {
            batchNumber = 0;
            payload = default;
            if (!Ensure(offset, FrameSize, limit))
            {
                return RecordStatus.Incomplete;
            }

            ReadOnlySpan<byte> frame = _buffer.AsSpan(checked((int)(offset - _bufferOffset)), FrameSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(frame) != RecordMagic)
            {
                return RecordStatus.BadMagic;
            }

            long length = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
            if (!IsPlausiblePayloadLength(length))
            {
                return RecordStatus.BadLength;
            }

            batchNumber = BinaryPrimitives.ReadUInt64LittleEndian(frame[8..]);
            if (!Ensure(offset, FrameSize + length, limit))
            {
                return RecordStatus.Incomplete;
            }

            int start = checked((int)(offset - _bufferOffset));
            frame = _buffer.AsSpan(start, FrameSize);
            ReadOnlySpan<byte> payloadSpan = _buffer.AsSpan(start + FrameSize, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(frame[28..]) != RecordCrc(_crc, _salt, frame, payloadSpan))
            {
                return RecordStatus.BadCrc;
            }

            if (frame[16..28].IndexOfAnyExcept((byte)0) >= 0)
            {
                return RecordStatus.BadReserved;
            }

            payload = _buffer.AsMemory(start + FrameSize, (int)length);
            return RecordStatus.Ok;
        }

        private bool Ensure(long offset, long count, long limit)
        {
            if (offset + count > limit)
            {
                return false;
            }

            if (offset >= _bufferOffset && offset + count <= _bufferOffset + _bufferCount)
            {
                return true;
            }

            if (count > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(checked((int)count));
            }

            int wanted = (int)Math.Min(_buffer.Length, limit - offset);
            int total = 0;
            while (total < wanted)
            {
                int read = _handle.Read(_buffer.AsSpan(total, wanted - total), offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            _bufferOffset = offset;
            _bufferCount = total;
            return total >= count;
        }

        public void Dispose()
        {
            byte[] buffer = _buffer;
            _buffer = [];
            _bufferCount = 0;
            if (buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
