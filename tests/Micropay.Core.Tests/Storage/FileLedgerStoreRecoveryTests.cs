using Micropay.Core.CrashHarness;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

public sealed class FileLedgerStoreRecoveryTests : FileStoreTestKit
{
    private async Task<string> WriteJournalAsync(ulong count, FileLedgerStoreOptions? options = null)
    {
        await using FileLedgerStore store = await OpenAsync(options);
        await AppendRangeAsync(store, 1, count, BatchHash.Zero);
        return SegmentFiles()[^1];
    }

    private async Task<LedgerStoreCorruptedException> AssertOpenRefusedAsync(FileLedgerStoreOptions? options = null)
    {
        Dictionary<string, byte[]> before = System.IO.Directory.GetFiles(Directory, "*.seg").ToDictionary(f => f, File.ReadAllBytes);
        await using var store = new FileLedgerStore(Directory, options);
        var error = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
        foreach ((string path, byte[] bytes) in before)
        {
            Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes), $"{path} was changed by a refused open");
        }

        return error;
    }

    [Fact]
    public async Task OpenAsync_TornTail_TruncatesIt()
    {
        string segment = await WriteJournalAsync(5);
        long length = new FileInfo(segment).Length;
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(new byte[] { 0x4D, 0x50, 0x52, 0x43, 0x80, 0x01, 0, 0, 6, 0, 0 });
        }

        await using (var store = new FileLedgerStore(Directory))
        {
            LedgerStoreState state = await store.OpenAsync();
            Assert.Equal(5UL, state.LastBatchNumber);
            await AssertHoldsCrashBatchesAsync(store, 1, 5);

            // Reported, not silent: where, how much, and why (the frame was cut short, so no batch number).
            Assert.Equal(new DiscardedJournalTail(segment, length, 11, null, "the record is incomplete (the file ends inside it)"), state.DiscardedTail);
        }

        Assert.Equal(length, new FileInfo(segment).Length);
        await using (var store = new FileLedgerStore(Directory))
        {
            Assert.Null((await store.OpenAsync()).DiscardedTail);
        }
    }

    [Fact]
    public async Task OpenAsync_LastRecordWithAFlippedBit_DropsItAndReportsItsBatchNumber()
    {
        string segment = await WriteJournalAsync(5);
        long lastRecord = RecordOffsets(segment)[^2];
        long length = new FileInfo(segment).Length;
        byte[] bytes = File.ReadAllBytes(segment);
        bytes[^1] ^= 0x20;
        File.WriteAllBytes(segment, bytes);

        await using var store = new FileLedgerStore(Directory);
        LedgerStoreState state = await store.OpenAsync();

        // Indistinguishable from a torn write, so it is dropped; but the report names the acknowledged batch it held.
        Assert.Equal(4UL, state.LastBatchNumber);
        Assert.Equal(new DiscardedJournalTail(segment, lastRecord, length - lastRecord, 5UL, "the record's CRC-32C does not match"), state.DiscardedTail);
    }

    [Fact]
    public async Task OpenAsync_LastSegmentWithARemainderLargerThanAnyRecord_ThrowsCorruptedWithoutReadingIt()
    {
        string segment = await WriteJournalAsync(5);
        long length = new FileInfo(segment).Length;
        await using (var file = new FileStream(segment, FileMode.Open))
        {
            // Sparse: 3 GiB of zeros costs nothing on disk, and more than an int or an array can hold.
            file.SetLength(length + (3L << 30));
        }

        await using var store = new FileLedgerStore(Directory);
        LedgerStoreCorruptedException error = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
        Assert.Equal(length + (3L << 30), new FileInfo(segment).Length);
        Assert.Equal(segment, error.Location);
        Assert.Equal(length, error.Offset);
        Assert.Contains("more than one record can hold", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_TornTailOfZeros_TruncatesItAndAppendsContinue()
    {
        string segment = await WriteJournalAsync(5);
        long length = new FileInfo(segment).Length;
        await using (var file = new FileStream(segment, FileMode.Append))
        {
            file.Write(new byte[4096]);
        }

        await using (FileLedgerStore store = await OpenAsync())
        {
            Assert.Equal(length, new FileInfo(segment).Length);
            await AppendRangeAsync(store, 6, 8, ChainHashes(5)[5]);
        }

        await using (FileLedgerStore store = await OpenAsync())
        {
            await AssertHoldsCrashBatchesAsync(store, 1, 8);
        }
    }

    [Fact]
    public async Task OpenAsync_BadRecordFollowedByGoodOnes_ThrowsCorruptedNamingFileAndOffset()
    {
        string segment = await WriteJournalAsync(6);
        List<long> offsets = RecordOffsets(segment);
        FileLedgerStoreTests.FlipByte(segment, offsets[2] + 40);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Equal(segment, error.Location);
        Assert.Equal(offsets[2], error.Offset);
        Assert.Contains("CRC", error.Reason, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(segment), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_DamagedLengthOfAMiddleRecord_ThrowsCorrupted()
    {
        string segment = await WriteJournalAsync(6);
        List<long> offsets = RecordOffsets(segment);
        FileLedgerStoreTests.FlipByte(segment, offsets[1] + 5);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Equal(offsets[1], error.Offset);
    }

    [Fact]
    public async Task OpenAsync_BadRecordInAnEarlierSegment_ThrowsCorrupted()
    {
        await WriteJournalAsync(60, SmallSegments());
        string first = SegmentFiles()[0];
        List<long> offsets = RecordOffsets(first);
        FileLedgerStoreTests.FlipByte(first, offsets[^2] + 50);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync(SmallSegments());
        Assert.Equal(first, error.Location);
        Assert.Equal(offsets[^2], error.Offset);
    }

    [Fact]
    public async Task OpenAsync_BrokenHashChain_ThrowsCorrupted()
    {
        string segment = await WriteJournalAsync(4);
        long end = new FileInfo(segment).Length;
        FileLedgerStoreTests.AppendRawRecord(segment, CrashBatches.Create(5, BatchHash.Compute([9])));
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Contains("hash chain", error.Reason, StringComparison.Ordinal);
        Assert.Equal(end + FileLedgerStore.FrameSize + 32, error.Offset);
    }

    [Fact]
    public async Task OpenAsync_GapInBatchNumbers_ThrowsCorrupted()
    {
        string segment = await WriteJournalAsync(4);
        long end = new FileInfo(segment).Length;
        FileLedgerStoreTests.AppendRawRecord(segment, CrashBatches.Create(6, ChainHashes(4)[4]));
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Contains("gap", error.Reason, StringComparison.Ordinal);
        Assert.Equal(end, error.Offset);
    }

    [Fact]
    public async Task OpenAsync_DuplicateBatchNumber_ThrowsCorrupted()
    {
        string segment = await WriteJournalAsync(4);
        FileLedgerStoreTests.AppendRawRecord(segment, CrashBatches.Create(4, ChainHashes(4)[3]));
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Contains("duplicate", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_MissingMiddleSegment_ThrowsCorrupted()
    {
        await WriteJournalAsync(60, SmallSegments());
        string[] segments = SegmentFiles();
        File.Delete(segments[2]);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync(SmallSegments());
        Assert.Equal(segments[3], error.Location);
        Assert.Contains("gap", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_MissingFirstSegmentWithoutSnapshot_ThrowsCorrupted()
    {
        await WriteJournalAsync(60, SmallSegments());
        File.Delete(SegmentFiles()[0]);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync(SmallSegments());
        Assert.Contains("snapshot", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_DamagedFileHeader_ThrowsCorrupted()
    {
        string segment = await WriteJournalAsync(3);
        FileLedgerStoreTests.FlipByte(segment, 9);
        LedgerStoreCorruptedException error = await AssertOpenRefusedAsync();
        Assert.Equal(segment, error.Location);
        Assert.Contains("header", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_LeftoverTemporaryFiles_AreRemoved()
    {
        await WriteJournalAsync(3);
        string stray = Path.Combine(Directory, "segment-00000000000000000004.tmp");
        await File.WriteAllBytesAsync(stray, new byte[7]);
        await using FileLedgerStore store = await OpenAsync();
        Assert.False(File.Exists(stray));
    }
}
