using System.Buffers.Binary;
using Micropay.Core.Audit;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The audit leaf's byte table: a golden vector (computed independently, with Python's struct and hashlib), what the
/// audit log's writer produces for the same fields, and a parser that rejects each malformed field with a reason.
/// </summary>
public sealed class AuditLeafTests() : TemporaryDirectoryTest("mp-audit-leaf-")
{
    // struct.pack('<HHIQQiI', 1, 2, 0x04030201, 0x1716151413121110, 0x1F1E1D1C1B1A1918, 0x23222120, 128) + bytes(range(0x80, 0x100))
    private const string GoldenHex =
        "0100" + "0200" + "01020304" + "1011121314151617" + "18191a1b1c1d1e1f" + "20212223" + "80000000" +
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    // hashlib.sha256(b'\x00' + leaf).hexdigest()
    private const string GoldenLeafHash = "de0529287ac79bc583e9423efb0c06c7a0c41492a832798f92f20d7b81b7d729";

    private const uint GoldenResult = 0x04030201;
    private const ulong GoldenTimestamp = 0x1716151413121110;
    private const ulong GoldenBatch = 0x1F1E1D1C1B1A1918;
    private const int GoldenIndex = 0x23222120;

    private static byte[] GoldenEvent => [.. Enumerable.Range(0x80, 128).Select(b => (byte)b)];

    private static AuditLeaf Golden => new(BatchOperation.CreateTransfers, GoldenResult, GoldenTimestamp, GoldenBatch, GoldenIndex, GoldenEvent);

    [Fact]
    public void Encode_TheGoldenFields_GivesTheGoldenBytesAndHash()
    {
        AuditLeaf leaf = Golden;
        Assert.Equal(160, leaf.EncodedLength);
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(leaf.ToBytes()));

        byte[] into = new byte[200];
        leaf.Encode(into);
        Assert.Equal(GoldenHex, Convert.ToHexStringLower(into.AsSpan(0, 160)));
        Assert.Throws<ArgumentException>("destination", () => leaf.Encode(new byte[159]));

        byte[] hash = new byte[MerkleHashes.Size];
        leaf.ComputeHash(hash);
        Assert.Equal(GoldenLeafHash, Convert.ToHexStringLower(hash));
        MerkleHashes.Leaf(Convert.FromHexString(GoldenHex), hash);
        Assert.Equal(GoldenLeafHash, Convert.ToHexStringLower(hash));
    }

    [Fact]
    public void TryParse_TheGoldenBytes_GivesTheGoldenFields()
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        Assert.True(AuditLeaf.TryParse(bytes, out AuditLeaf leaf, out string? error), error);
        Assert.Null(error);
        Assert.Equal(BatchOperation.CreateTransfers, leaf.Operation);
        Assert.Equal(GoldenResult, leaf.Result);
        Assert.False(leaf.IsOk);
        Assert.Equal(GoldenTimestamp, leaf.Timestamp);
        Assert.Equal(GoldenBatch, leaf.BatchNumber);
        Assert.Equal(GoldenIndex, leaf.EventIndex);
        Assert.Equal(GoldenEvent, leaf.Event.ToArray());
        Assert.Equal(bytes, leaf.ToBytes());
    }

    [Fact]
    public void AuditLogWriter_TheGoldenFields_WritesTheGoldenLeafAndHash()
    {
        // The log writes its leaves with its own loop (header then record, hashed in place): it must be the same bytes.
        // Batch numbers run from 1, so the golden batch is written as a second log's only batch, field for field
        // otherwise; the batch number's bytes are then patched in the expectation.
        using AuditLog log = AuditLog.Open(Path.Combine(Directory, "audit"), StoreFileSystem.Os);
        log.Restore(AuditSnapshotState.Empty);
        byte[] events = GoldenEvent;
        log.AppendBatch(1, BatchOperation.CreateTransfers, GoldenTimestamp, events, 128, new uint[] { GoldenResult });

        byte[] expected = new AuditLeaf(BatchOperation.CreateTransfers, GoldenResult, GoldenTimestamp, 1, 0, GoldenEvent).ToBytes();
        byte[] golden = Convert.FromHexString(GoldenHex);
        Assert.Equal(golden.AsSpan(0, 16).ToArray(), expected.AsSpan(0, 16).ToArray());
        Assert.Equal(golden.AsSpan(28).ToArray(), expected.AsSpan(28).ToArray());
        Assert.Equal(expected, AuditLog.BuildLeaf(log.LocateLeaf(0), events));
        Assert.Equal(Rfc9162Reference.LeafHash(expected), log.ReadTile(0, 0, 1));

        byte[] root = new byte[MerkleHashes.Size];
        log.GetCurrentRoot(root);
        Assert.Equal(Rfc9162Reference.LeafHash(expected), root);
    }

    [Fact]
    public void TryGetTransfer_ATransfersLeaf_GivesTheTransferWithTheLeafsTimestamp()
    {
        Transfer transfer = Tr(42, 1, 2, 7);
        byte[] record = new byte[Transfer.Size];
        transfer.Encode(record);
        var leaf = new AuditLeaf(BatchOperation.CreateTransfers, 0, 12_345, 3, 1, record);
        Assert.True(leaf.IsOk);
        Assert.True(leaf.TryGetTransfer(out Transfer read));
        Assert.Equal((UInt128)42, read.Id);
        Assert.Equal((UInt128)7, read.Amount);
        Assert.Equal(12_345UL, read.Timestamp);

        var accountLeaf = new AuditLeaf(BatchOperation.CreateAccounts, 0, 12_345, 3, 1, record);
        Assert.False(accountLeaf.TryGetTransfer(out _));
        Assert.Contains("batch 3 event 1", leaf.ToString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, int, long, string> MalformedFields => new()
    {
        // field, offset, value written (little-endian, field's width), what the error mentions
        { "version 0", 0, 0, "version" },
        { "version 2", 0, 2, "version" },
        { "operation 0", 2, 0, "operation" },
        { "batch 0", 16, 0, "batch number" },
        { "index negative", 24, -1, "event index" },
        { "index int.MinValue", 24, int.MinValue, "event index" },
        { "size 0", 28, 0, "event size" },
        { "size 4", 28, 4, "event size" },
        { "size 127", 28, 127, "event size" },
        { "size 64 KiB + 8", 28, (64 * 1024) + 8, "event size" },
        { "size 2^31", 28, int.MinValue, "event size" },
        { "size 2^32 - 8", 28, -8, "event size" },
        { "size 136 (more than follow)", 28, 136, "follow" },
        { "size 120 (fewer than follow)", 28, 120, "follow" },
    };

    [Theory]
    [MemberData(nameof(MalformedFields))]
    public void TryParse_AMalformedField_IsRejectedWithAReason(string field, int offset, long value, string mentions)
    {
        byte[] bytes = Convert.FromHexString(GoldenHex);
        switch (offset)
        {
            case 0 or 2:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), (ushort)value);
                break;
            case 16:
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), (ulong)value);
                break;
            default:
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), (int)value);
                break;
        }

        Assert.False(AuditLeaf.TryParse(bytes, out AuditLeaf leaf, out string? error), field);
        Assert.NotNull(error);
        Assert.Contains(mentions, error, StringComparison.Ordinal);
        Assert.Equal(default, leaf);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(159)]
    [InlineData(161)]
    [InlineData(168)]
    public void TryParse_TheWrongLength_IsRejectedWithAReason(int length)
    {
        byte[] golden = Convert.FromHexString(GoldenHex);
        byte[] bytes = new byte[length];
        golden.AsSpan(0, Math.Min(length, golden.Length)).CopyTo(bytes);
        Assert.False(AuditLeaf.TryParse(bytes, out _, out string? error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(CommitBatchHeader.MaxEventSize)]
    public void TryParse_EveryEventSizeInRange_RoundTrips(int size)
    {
        byte[] record = new byte[size];
        new Random(size).NextBytes(record);
        var leaf = new AuditLeaf((BatchOperation)0x7FF0, 0, ulong.MaxValue, ulong.MaxValue, int.MaxValue, record);
        byte[] bytes = leaf.ToBytes();
        Assert.True(AuditLeaf.TryParse(bytes, out AuditLeaf read, out string? error), error);
        Assert.Equal(bytes, read.ToBytes());
        Assert.Equal(int.MaxValue, read.EventIndex);
    }

    [Fact]
    public void Constructor_AFieldOutOfRange_NamesIt()
    {
        Assert.Throws<ArgumentOutOfRangeException>("operation", () => new AuditLeaf(BatchOperation.None, 0, 1, 1, 0, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>("batchNumber", () => new AuditLeaf(BatchOperation.CreateTransfers, 0, 1, 0, 0, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>("eventIndex", () => new AuditLeaf(BatchOperation.CreateTransfers, 0, 1, 1, -1, new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>("eventRecord", () => new AuditLeaf(BatchOperation.CreateTransfers, 0, 1, 1, 0, new byte[12]));
        Assert.Throws<ArgumentOutOfRangeException>("eventRecord", () => new AuditLeaf(BatchOperation.CreateTransfers, 0, 1, 1, 0, ReadOnlyMemory<byte>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>("eventRecord", () => new AuditLeaf(BatchOperation.CreateTransfers, 0, 1, 1, 0, new byte[CommitBatchHeader.MaxEventSize + 8]));
    }
}
