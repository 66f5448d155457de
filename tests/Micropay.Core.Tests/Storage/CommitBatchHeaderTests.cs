using System.Buffers.Binary;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// The batch header's operation code and event size: a batch of 128-byte events encodes exactly as a version-1 header
/// always did (event size field 0, so old journals and their hash chains are unchanged); other sizes round-trip; a
/// store accepts any operation code but 0 (judging codes is the engine's job); malformed sizes get their own status.
/// Version 2 (issue 14) adds the audit tree's size at offset 96: it round-trips, version 1 is still read and encodes
/// byte for byte as before (golden bytes and batch hash computed with Python from the byte table), and every byte
/// either version reserves must be zero.
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

    // hashlib.sha256(b"previous"), hashlib.sha256(b"root"), and the header fields packed with struct.pack('<HHQQiI', ...).
    private const string Version1Golden =
        "4d504342" + "0100" + "0200" + "0700000000000000" + "e803000000000000" + "03000000" + "00000000" +
        "6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d" +
        "0000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000" + "000000000000000000000000000000000000000000000000";

    private const string Version2Golden =
        "4d504342" + "0200" + "0200" + "0700000000000000" + "e803000000000000" + "03000000" + "00000000" +
        "6da0633528deaa0144e7b058315f0b753ec0b945163a72bf96a0d18180f9de0d" +
        "4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2" +
        "0807060504030201" + "000000000000000000000000000000000000000000000000";

    // SHA-256 of the golden header followed by the 384 event bytes (i * 7) & 0xFF.
    private const string Version1BatchHash = "c497351897486c2cea04d5d258bda1271f71d5ed02090efcca70e0412087f71b";
    private const string Version2BatchHash = "42636ab59f7c14ec30f17cfd1c40087fb302a1d8f7e4ffb09e36f8a8adadf333";

    private static readonly BatchHash AuditRoot = BatchHash.Compute("root"u8);

    private static byte[] GoldenEvents => [.. Enumerable.Range(0, 3 * 128).Select(i => unchecked((byte)(i * 7)))];

    [Fact]
    public void Encode_Version1_IsByteForByteTheFormatBeforeVersion2AndHashesAsBefore()
    {
        var header = new CommitBatchHeader(7, BatchOperation.CreateTransfers, 1_000, 3, Previous, BatchHash.Zero);
        Assert.Equal(CommitBatchHeader.Version1, header.Version);
        Assert.Equal(0UL, header.AuditTreeSize);
        Assert.Equal(Version1Golden, Convert.ToHexStringLower(Encoded(header)));

        // The batch hash the next header chains to is unchanged, so journals written before version 2 still verify.
        var batch = new CommitBatch(header, GoldenEvents);
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        Assert.Equal(Version1BatchHash, BatchHash.Compute(encoded).ToString());
    }

    [Fact]
    public void Encode_Version2_GivesTheGoldenBytesAndHash()
    {
        CommitBatchHeader header = CommitBatchHeader.WithAuditTree(7, BatchOperation.CreateTransfers, 1_000, 3, Previous, AuditRoot, 0x0102030405060708, 128);
        Assert.Equal(CommitBatchHeader.Version2, header.Version);
        Assert.Equal(Version2Golden, Convert.ToHexStringLower(Encoded(header)));

        var batch = new CommitBatch(header, GoldenEvents);
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        Assert.Equal(Version2BatchHash, BatchHash.Compute(encoded).ToString());
    }

    [Theory]
    [InlineData(0UL, 128)]
    [InlineData(1UL, 8)]
    [InlineData(0x0102030405060708UL, 136)]
    [InlineData(ulong.MaxValue, CommitBatchHeader.MaxEventSize)]
    public void TryParse_Version2_RoundTrips(ulong treeSize, int eventSize)
    {
        CommitBatchHeader header = CommitBatchHeader.WithAuditTree(9, (BatchOperation)0x7FF0, 5, 2, Previous, AuditRoot, treeSize, eventSize);
        byte[] bytes = Encoded(header);
        Assert.Equal(CommitBatchHeader.Version2, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(treeSize, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(96)));

        Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader parsed));
        Assert.Equal(header, parsed);
        Assert.Equal(CommitBatchHeader.Version2, parsed.Version);
        Assert.Equal(treeSize, parsed.AuditTreeSize);
        Assert.Equal(AuditRoot, parsed.AuditRoot);
        Assert.Equal(eventSize, parsed.EventSize);
        Assert.Equal(bytes, Encoded(parsed));
    }

    [Fact]
    public void TryParse_Version1_IsStillReadAsVersion1()
    {
        byte[] bytes = Convert.FromHexString(Version1Golden);
        Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader parsed));
        Assert.Equal(CommitBatchHeader.Version1, parsed.Version);
        Assert.Equal(0UL, parsed.AuditTreeSize);
        Assert.Equal(new CommitBatchHeader(7, BatchOperation.CreateTransfers, 1_000, 3, Previous, BatchHash.Zero), parsed);
        Assert.Equal(bytes, Encoded(parsed));

        // Version 1 never checked offset 64 (reserved for a root): a root there is read and written back unchanged.
        AuditRoot.CopyTo(bytes.AsSpan(64));
        Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader withRoot));
        Assert.Equal(CommitBatchHeader.Version1, withRoot.Version);
        Assert.Equal(AuditRoot, withRoot.AuditRoot);
        Assert.Equal(bytes, Encoded(withRoot));

        // The same fields in version 1 and version 2 (tree size 0) are different headers, with different bytes.
        CommitBatchHeader version2 = CommitBatchHeader.WithAuditTree(7, BatchOperation.CreateTransfers, 1_000, 3, Previous, AuditRoot, 0, 128);
        Assert.NotEqual(withRoot, version2);
        Assert.NotEqual(bytes, Encoded(version2));
    }

    [Fact]
    public void TryParse_Version1WithAnyByteFrom96Set_ReportsReservedNotZero()
    {
        for (int offset = 96; offset < CommitBatchHeader.Size; offset++)
        {
            byte[] bytes = Convert.FromHexString(Version1Golden);
            bytes[offset] = 1;
            Assert.Equal(CommitBatchParseResult.ReservedNotZero, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader header));
            Assert.Equal(default, header);
        }
    }

    [Fact]
    public void TryParse_Version2WithAnyByteFrom104Set_ReportsReservedNotZero()
    {
        for (int offset = 104; offset < CommitBatchHeader.Size; offset++)
        {
            byte[] bytes = Convert.FromHexString(Version2Golden);
            bytes[offset] = 0x80;
            Assert.Equal(CommitBatchParseResult.ReservedNotZero, CommitBatchHeader.TryParse(bytes, out _));
        }

        // Offsets 96 to 103 are the tree size in version 2: any value is read.
        for (int offset = 96; offset < 104; offset++)
        {
            byte[] bytes = Convert.FromHexString(Version2Golden);
            bytes[offset] = 0xFF;
            Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(bytes, out CommitBatchHeader header));
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(96)), header.AuditTreeSize);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(0x0102)]
    [InlineData(ushort.MaxValue)]
    public void TryParse_AnotherVersion_ReportsUnsupportedVersion(ushort version)
    {
        foreach (string golden in new[] { Version1Golden, Version2Golden })
        {
            byte[] bytes = Convert.FromHexString(golden);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), version);
            Assert.Equal(CommitBatchParseResult.UnsupportedVersion, CommitBatchHeader.TryParse(bytes, out _));
        }
    }

    [Fact]
    public void WithAuditTree_BadArguments_NameThem()
    {
        Assert.Throws<ArgumentOutOfRangeException>("batchNumber", () => CommitBatchHeader.WithAuditTree(0, BatchOperation.CreateTransfers, 0, 0, Previous, AuditRoot, 1, 128));
        Assert.Throws<ArgumentOutOfRangeException>("operation", () => CommitBatchHeader.WithAuditTree(1, BatchOperation.None, 0, 0, Previous, AuditRoot, 1, 128));
        Assert.Throws<ArgumentOutOfRangeException>("eventSize", () => CommitBatchHeader.WithAuditTree(1, BatchOperation.CreateTransfers, 0, 0, Previous, AuditRoot, 1, 12));
    }

    private static byte[] Encoded(CommitBatchHeader header)
    {
        byte[] bytes = new byte[CommitBatchHeader.Size];
        header.Encode(bytes);
        return bytes;
    }
}
