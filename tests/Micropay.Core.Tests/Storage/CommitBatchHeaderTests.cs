using System.Buffers.Binary;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// The batch header's operation code and event size: a batch of 128-byte events encodes exactly as a version-1 header
/// always did (event size field 0, so old journals and their hash chains are unchanged); other sizes round-trip; a
/// store accepts any operation code but 0 (judging codes is the engine's job); malformed sizes get their own status.
/// </summary>
public sealed class CommitBatchHeaderTests
{
    private static readonly BatchHash Previous = BatchHash.Compute("previous"u8);

    [Fact]
    public void Encode_128ByteEvents_WritesTheVersion1BytesWithTheSizeFieldZero()
    {
        var header = new CommitBatchHeader(7, BatchOperation.CreateTransfers, 1_000, 3, Previous, BatchHash.Zero);
        byte[] bytes = new byte[CommitBatchHeader.Size];
        header.Encode(bytes);

        // Golden bytes of the fields before the hashes (the layout's byte table).
        Assert.Equal(Convert.FromHexString("4D504342" + "0100" + "0200" + "0700000000000000" + "E803000000000000" + "03000000" + "00000000"), bytes[..32]);
        Assert.Equal(128, header.EventSize);
        Assert.Equal(3L * 128, header.EventsLength);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(136)]
    [InlineData(CommitBatchHeader.MaxEventSize)]
    public void TryParse_OtherEventSizes_RoundTrip(int eventSize)
    {
        var header = new CommitBatchHeader(2, (BatchOperation)0x7FF0, 5, 4, Previous, BatchHash.Zero, eventSize);
        byte[] bytes = new byte[CommitBatchHeader.Size];
        header.Encode(bytes);
        Assert.Equal((uint)eventSize, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)));

        Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader parsed));
        Assert.Equal(header, parsed);
        Assert.Equal(eventSize, parsed.EventSize);
        Assert.Equal((BatchOperation)0x7FF0, parsed.Operation);
    }

    [Theory]
    [InlineData(128u)]
    [InlineData(12u)]
    [InlineData(4u)]
    [InlineData(CommitBatchHeader.MaxEventSize + 8u)]
    [InlineData(uint.MaxValue)]
    public void TryParse_BadEventSize_ReportsBadEventSize(uint field)
    {
        byte[] bytes = Encoded(new CommitBatchHeader(2, BatchOperation.CreateTransfers, 5, 1, Previous, BatchHash.Zero));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), field);
        Assert.Equal(CommitBatchParseResult.BadEventSize, CommitBatchHeader.TryParse(bytes, out _));
    }

    [Fact]
    public void TryParse_EventsBeyondTheBatchLimit_ReportsBadEventSize()
    {
        // The most events at twice the default size: twice the most bytes a batch may hold.
        byte[] bytes = Encoded(new CommitBatchHeader(2, BatchOperation.CreateTransfers, 5, CommitBatch.MaxEventCount, Previous, BatchHash.Zero, 256));
        Assert.Equal(CommitBatchParseResult.BadEventSize, CommitBatchHeader.TryParse(bytes, out _));
    }

    [Fact]
    public void TryParse_OperationZero_ReportsBadOperation()
    {
        byte[] bytes = Encoded(new CommitBatchHeader(2, BatchOperation.CreateTransfers, 5, 1, Previous, BatchHash.Zero));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), 0);
        Assert.Equal(CommitBatchParseResult.BadOperation, CommitBatchHeader.TryParse(bytes, out _));
    }

    [Fact]
    public void Constructor_BadArguments_NameThem()
    {
        Assert.Throws<ArgumentOutOfRangeException>("operation", () => new CommitBatchHeader(1, BatchOperation.None, 0, 0, Previous, BatchHash.Zero));
        Assert.Throws<ArgumentOutOfRangeException>("eventSize", () => new CommitBatchHeader(1, BatchOperation.CreateAccounts, 0, 0, Previous, BatchHash.Zero, 100));
    }

    [Fact]
    public void CommitBatch_EventsOfTheHeadersSize_ParseBack()
    {
        var header = new CommitBatchHeader(3, (BatchOperation)0x7FF0, 9, 2, Previous, BatchHash.Zero, 24);
        byte[] events = [.. Enumerable.Range(0, 48).Select(i => (byte)i)];
        var batch = new CommitBatch(header, events);
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        Assert.Equal(128 + 48, encoded.Length);

        Assert.Equal(CommitBatchParseResult.Ok, CommitBatch.TryParse(encoded, out CommitBatch parsed));
        Assert.Equal(events, parsed.Events.ToArray());
        Assert.Equal(CommitBatchParseResult.Truncated, CommitBatch.TryParse(encoded.AsMemory(0, encoded.Length - 8), out _));
        Assert.Throws<ArgumentException>("events", () => new CommitBatch(header, new byte[128 * 2]));
    }

    private static byte[] Encoded(CommitBatchHeader header)
    {
        byte[] bytes = new byte[CommitBatchHeader.Size];
        header.Encode(bytes);
        return bytes;
    }
}
