using System.Buffers;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

public sealed class FileLedgerStoreSnapshotTests : FileStoreTestKit
{
    private static byte[] State(ulong batch, int length = 1000) =>
        [.. Enumerable.Range(0, length).Select(i => unchecked((byte)(i + (int)batch)))];

    private string SnapshotPath(ulong batch) => Path.Combine(Directory, $"snapshot-{batch:D20}.snap");

    private static async Task<ulong?> LatestBatchNumberAsync(FileLedgerStore store)
    {
        using LedgerSnapshot? latest = await store.ReadLatestSnapshotAsync();
        return latest?.BatchNumber;
    }

    [Fact]
    public async Task ReadLatestSnapshotAsync_NoSnapshot_ReturnsNull()
    {
        await using FileLedgerStore store = await OpenAsync();
        Assert.Null(await store.ReadLatestSnapshotAsync());
    }

    [Fact]
    public async Task WriteSnapshotAsync_ThenReopen_ReturnsTheNewestAndReportsItOnOpen()
    {
        await using (FileLedgerStore store = await OpenAsync())
        {
            await AppendRangeAsync(store, 1, 10, BatchHash.Zero);
            await store.WriteSnapshotAsync(4, State(4));
            await store.WriteSnapshotAsync(9, State(9));
            Assert.Equal(9UL, await LatestBatchNumberAsync(store));
        }

        Assert.Empty(System.IO.Directory.GetFiles(Directory, "*.tmp"));
        await using (var store = new FileLedgerStore(Directory))
        {
            LedgerStoreState state = await store.OpenAsync();
            Assert.Equal(9UL, state.LatestSnapshotBatchNumber);
            using LedgerSnapshot? latest = await store.ReadLatestSnapshotAsync();
            Assert.Equal(9UL, latest!.BatchNumber);
            Assert.Equal(State(9), latest.State.ToArray());
        }
    }

    [Fact]
    public async Task WriteSnapshotAsync_ManySnapshots_KeepsTheNewestTwoByDefault()
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 10, BatchHash.Zero);
        for (ulong batch = 2; batch <= 10; batch += 2)
        {
            await store.WriteSnapshotAsync(batch, State(batch));
        }

        string[] kept = [.. System.IO.Directory.GetFiles(Directory, "snapshot-*.snap").Select(Path.GetFileName).Order()!];
        Assert.Equal([Path.GetFileName(SnapshotPath(8)), Path.GetFileName(SnapshotPath(10))], kept);
        Assert.Equal(10UL, await LatestBatchNumberAsync(store));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    public async Task WriteSnapshotAsync_SnapshotsToKeep_KeepsThatMany(int snapshotsToKeep, int expected)
    {
        await using FileLedgerStore store = await OpenAsync(new FileLedgerStoreOptions { SnapshotsToKeep = snapshotsToKeep });
        await AppendRangeAsync(store, 1, 10, BatchHash.Zero);
        for (ulong batch = 2; batch <= 10; batch += 2)
        {
            await store.WriteSnapshotAsync(batch, State(batch));
        }

        Assert.Equal(expected, System.IO.Directory.GetFiles(Directory, "snapshot-*.snap").Length);
        Assert.True(File.Exists(SnapshotPath(10)));
    }

    [Fact]
    public void Constructor_NegativeSnapshotsToKeep_ThrowsArgumentOutOfRange() =>
        Assert.Throws<ArgumentOutOfRangeException>("options", () => new FileLedgerStore(Directory, new FileLedgerStoreOptions { SnapshotsToKeep = -1 }));

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(1063)]
    public async Task ReadLatestSnapshotAsync_NewestDamaged_ReturnsThePreviousOne(long offset)
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 10, BatchHash.Zero);
        await store.WriteSnapshotAsync(4, State(4));
        await store.WriteSnapshotAsync(9, State(9));
        FileLedgerStoreTests.FlipByte(SnapshotPath(9), offset);
        using LedgerSnapshot? latest = await store.ReadLatestSnapshotAsync();
        Assert.Equal(4UL, latest!.BatchNumber);
        Assert.Equal(State(4), latest.State.ToArray());
    }

    [Fact]
    public async Task ReadLatestSnapshotAsync_OnlySnapshotTruncated_ReturnsNull()
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 3, BatchHash.Zero);
        await store.WriteSnapshotAsync(3, State(3));
        await using (var file = new FileStream(SnapshotPath(3), FileMode.Open))
        {
            file.SetLength(500);
        }

        Assert.Null(await store.ReadLatestSnapshotAsync());
    }

    [Fact]
    public async Task WriteSnapshotAsync_BatchNotDurable_ThrowsArgumentOutOfRange()
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 3, BatchHash.Zero);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.WriteSnapshotAsync(4, State(4)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.WriteSnapshotAsync(0, State(0)));
    }

    [Fact]
    public async Task CompactAsync_DeletesSegmentsWhollyCoveredBySnapshot_AndTheStoreStillOpens()
    {
        await using (FileLedgerStore store = await OpenAsync(SmallSegments()))
        {
            await AppendRangeAsync(store, 1, 100, BatchHash.Zero);
            Assert.Equal(0, await store.CompactAsync());
            await store.WriteSnapshotAsync(50, State(50));
            int before = SegmentFiles().Length;
            int deleted = await store.CompactAsync();
            Assert.True(deleted > 0);
            Assert.Equal(before - deleted, SegmentFiles().Length);
            ulong firstKept = ulong.Parse(Path.GetFileNameWithoutExtension(SegmentFiles()[0])["segment-".Length..]);
            Assert.True(firstKept <= 51, $"first kept segment starts at {firstKept}");
            await AssertHoldsCrashBatchesAsync(store, 51, 100);
            await AppendRangeAsync(store, 101, 105, ChainHashes(100)[100]);
        }

        await using (var store = new FileLedgerStore(Directory, SmallSegments()))
        {
            LedgerStoreState state = await store.OpenAsync();
            Assert.Equal(105UL, state.LastBatchNumber);
            Assert.Equal(50UL, state.LatestSnapshotBatchNumber);
            await AssertHoldsCrashBatchesAsync(store, 51, 105);
        }
    }

    [Fact]
    public async Task CompactAsync_EverythingCovered_KeepsTheActiveSegment()
    {
        await using FileLedgerStore store = await OpenAsync(SmallSegments());
        await AppendRangeAsync(store, 1, 50, BatchHash.Zero);
        await store.WriteSnapshotAsync(50, State(50));
        await store.CompactAsync();
        Assert.Single(SegmentFiles());
        await AppendRangeAsync(store, 51, 52, ChainHashes(50)[50]);
    }
}
