using System.Buffers;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using Micropay.Core.Tests.Storage.Disk;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// Every file-system call the store makes, failed with EIO on a <see cref="SimulatedDisk"/>: a failure never leaves a
/// batch reported durable that is not, the store refuses to go on after a failed journal write, and a reopen in the same
/// boot (page cache intact, failed pages kept clean, as Linux does) reports only what reached the disk.
/// </summary>
public sealed class FileLedgerStoreIoFailureTests
{
    private const string Root = "/simulated";
    private const string StoreDirectory = "/simulated/store";
    private static readonly FileLedgerStoreOptions Options = new() { SegmentSizeBytes = 8192 };

    private readonly SimulatedDisk _disk = new(seed: 42, Root);
    // About 2.7 KB each: three to a segment, so that appends roll segments and compaction has segments to delete.
    private readonly CommitBatch[] _batches = TestBatches.Chain(12, eventCount: 20);

    [Theory]
    [InlineData(DiskOperation.Flush)]
    [InlineData(DiskOperation.Write)]
    public async Task AppendAsync_JournalWriteFails_RefusesAppendsAndReopenInTheSameBootReportsOnlyDurableBatches(DiskOperation failing)
    {
        // Several seeds: the failed fsync keeps a random part of the record, the rest stays in the page cache, clean.
        for (int seed = 0; seed < 20; seed++)
        {
            var disk = new SimulatedDisk(seed, Root);
            await using (FileLedgerStore store = await OpenAsync(disk))
            {
                await AppendAsync(store, 0, 3);
                FailOnce(disk, call => call.Operation == failing && IsSegment(call.Path));

                LedgerStoreException error = await AppendFailsAsync(store, 3);
                Assert.Contains("cut back to its last durable record", error.Message, StringComparison.Ordinal);
                LedgerStoreException refused = await AppendFailsAsync(store, 3);
                Assert.Contains("refuses appends", refused.Message, StringComparison.Ordinal);
                Assert.Equal(3, await CountAsync(store));
            }

            // Same boot: the page cache may still hold the record's clean pages, but the segment was cut back.
            await using (FileLedgerStore store = await OpenAsync(disk))
            {
                Assert.Equal(3UL, store.LastDurableBatchNumber);
                await AppendAsync(store, 3, 5);
            }

            await using (FileLedgerStore store = await CutPowerAndReopenAsync(disk))
            {
                Assert.Equal(5, await CountAsync(store));
            }
        }
    }

    [Fact]
    public async Task AppendAsync_FsyncAndCutBackFail_MarkerRefusesAnOpenInTheSameBootAndNotAfterARestart()
    {
        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            await AppendAsync(store, 0, 3);
            _disk.FailWhen = call => IsSegment(call.Path) && call.Operation is DiskOperation.Flush or DiskOperation.SetLength;
            LedgerStoreException error = await AppendFailsAsync(store, 3);
            Assert.Contains("makes an open in this boot refuse", error.Message, StringComparison.Ordinal);
        }

        _disk.FailWhen = null;
        string marker = Path.Combine(StoreDirectory, FileLedgerStore.WriteFailedMarkerName);
        Assert.NotNull(_disk.ReadAll(marker));
        LedgerStoreException refused = await OpenFailsAsync(_disk);
        Assert.Contains("restart the machine", refused.Message, StringComparison.Ordinal);
        Assert.Contains(marker, refused.Message, StringComparison.Ordinal);

        // A reboot: what the page cache held is gone, so the disk is what recovery reads; the marker is removed.
        await using (FileLedgerStore store = await CutPowerAndReopenAsync(_disk))
        {
            Assert.InRange(store.LastDurableBatchNumber, 3UL, 4UL);
            Assert.Null(_disk.ReadAll(marker));
            Assert.Equal((int)store.LastDurableBatchNumber, await CountAsync(store));
        }
    }

    [Fact]
    public async Task AppendAsync_CutBackAndMarkerFail_SaysWhatRiskRemains()
    {
        await using FileLedgerStore store = await OpenAsync(_disk);
        await AppendAsync(store, 0, 2);
        _disk.FailWhen = call => call.Operation is DiskOperation.Flush or DiskOperation.SetLength;
        LedgerStoreException error = await AppendFailsAsync(store, 2);
        Assert.Contains("could not be written", error.Message, StringComparison.Ordinal);
        Assert.Contains("until the machine restarts", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DiskOperation.Open)]
    [InlineData(DiskOperation.Write)]
    [InlineData(DiskOperation.Flush)]
    [InlineData(DiskOperation.Move)]
    [InlineData(DiskOperation.SyncDirectory)]
    public async Task AppendAsync_SegmentRollFails_RefusesAppendsAndReopenKeepsEveryAcknowledgedBatch(DiskOperation failing)
    {
        int acknowledged = 0;
        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            int segments = SegmentCount();
            while (true)
            {
                // Fail the first call of that kind that belongs to creating the next segment.
                FailOnce(_disk, call => call.Operation == failing && (call.Path.EndsWith(".tmp", StringComparison.Ordinal) || call.Path == StoreDirectory ||
                    (failing == DiskOperation.Open && IsSegment(call.Path) && SegmentCount() > segments)));
                try
                {
                    await store.AppendAsync(_batches[acknowledged]);
                    acknowledged++;
                }
                catch (LedgerStoreException e)
                {
                    Assert.Contains("cannot be created", e.Message, StringComparison.Ordinal);
                    break;
                }

                Assert.True(acknowledged < 10, "no segment roll happened");
            }

            _disk.FailWhen = null;
            await AppendFailsAsync(store, acknowledged);
        }

        await using (FileLedgerStore store = await CutPowerAndReopenAsync(_disk))
        {
            Assert.Equal((ulong)acknowledged, store.LastDurableBatchNumber);
            await AppendAsync(store, acknowledged, 12);
            Assert.Equal(12, await CountAsync(store));
        }
    }

    [Theory]
    [InlineData(DiskOperation.Write)]
    [InlineData(DiskOperation.Flush)]
    [InlineData(DiskOperation.Move)]
    [InlineData(DiskOperation.SyncDirectory)]
    public async Task WriteSnapshotAsync_AnyCallFails_ThrowsAndAppendsGoOn(DiskOperation failing)
    {
        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            await AppendAsync(store, 0, 4);
            await store.WriteSnapshotAsync(2, TestBatches.SnapshotState(2));
            FailOnce(_disk, call => call.Operation == failing);
            await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.WriteSnapshotAsync(4, TestBatches.SnapshotState(4)));
            await AppendAsync(store, 4, 6);
        }

        await using (FileLedgerStore store = await CutPowerAndReopenAsync(_disk))
        {
            Assert.Equal(6, await CountAsync(store));
            using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();

            // Either the one before, or (when only the directory fsync failed after the rename) the new one, whole.
            Assert.NotNull(snapshot);
            Assert.Equal(TestBatches.SnapshotState(snapshot.BatchNumber), snapshot.State.ToArray());
            ulong[] allowed = failing == DiskOperation.SyncDirectory ? [2UL, 4UL] : [2UL];
            Assert.Contains(snapshot.BatchNumber, allowed);
        }
    }

    [Theory]
    [InlineData(DiskOperation.Delete)]
    [InlineData(DiskOperation.SyncDirectory)]
    public async Task CompactAsync_AnyCallFails_ThrowsAndTheJournalStillOpens(DiskOperation failing)
    {
        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            await AppendAsync(store, 0, 10);
            await store.WriteSnapshotAsync(8, TestBatches.SnapshotState(8));
            FailOnce(_disk, call => call.Operation == failing);
            await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.CompactAsync());
            await AppendAsync(store, 10, 11);
        }

        await using (FileLedgerStore store = await CutPowerAndReopenAsync(_disk))
        {
            Assert.Equal(11UL, store.LastDurableBatchNumber);
            Assert.Equal(8UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber);
        }
    }

    [Theory]
    [InlineData(DiskOperation.Flush)]
    [InlineData(DiskOperation.SyncDirectory)]
    [InlineData(DiskOperation.SetLength)]
    [InlineData(DiskOperation.Read)]
    [InlineData(DiskOperation.Open)]
    [InlineData(DiskOperation.List)]
    [InlineData(DiskOperation.Stat)]
    [InlineData(DiskOperation.Lock)]
    public async Task OpenAsync_AnyCallFails_ThrowsAndReportsNothingThenOpensWhenTheDiskRecovers(DiskOperation failing)
    {
        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            await AppendAsync(store, 0, 5);
        }

        // A torn tail, so that opening has a truncation to do.
        string segment = _disk.EnumerateFiles(StoreDirectory, "segment-*.seg").Last();
        _disk.Corrupt(segment, _disk.ReadAll(segment)!.Length, [0x4D, 0x50, 0x52]);
        FailOnce(_disk, call => call.Operation == failing);
        LedgerStoreException error = await OpenFailsAsync(_disk);
        Assert.IsNotType<LedgerStoreCorruptedException>(error);

        await using (FileLedgerStore store = await OpenAsync(_disk))
        {
            Assert.Equal(5, await CountAsync(store));
        }
    }

    [Fact]
    public async Task Constructor_NestedDirectoryThatDoesNotExist_EveryNewEntryIsDurable()
    {
        const string nested = "/simulated/a/b/store";
        await using (FileLedgerStore store = await OpenAsync(_disk, nested))
        {
            await store.AppendAsync(_batches[0]);
        }

        await using (FileLedgerStore store = await CutPowerAndReopenAsync(_disk, nested))
        {
            Assert.Equal(1UL, store.LastDurableBatchNumber);
            Assert.Equal(1, await CountAsync(store));
        }
    }

    [Theory]
    [InlineData(DiskOperation.CreateDirectory)]
    [InlineData(DiskOperation.SyncDirectory)]
    public void Constructor_CreatingTheDirectoryFails_ThrowsLedgerStoreException(DiskOperation failing)
    {
        FailOnce(_disk, call => call.Operation == failing);
        LedgerStoreException error = Assert.Throws<LedgerStoreException>(() => new FileLedgerStore("/simulated/new/store", Options, _disk));
        Assert.Contains("cannot be created", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_SegmentSizeAboveTheMaximum_ThrowsArgumentOutOfRange() =>
        Assert.Throws<ArgumentOutOfRangeException>(
            "options", () => new FileLedgerStore(StoreDirectory, new FileLedgerStoreOptions { SegmentSizeBytes = FileLedgerStoreOptions.MaxSegmentSizeBytes + 1 }, _disk));

    private static void FailOnce(SimulatedDisk disk, Func<DiskCall, bool> predicate)
    {
        bool fired = false;
        disk.FailWhen = call =>
        {
            if (!fired && predicate(call))
            {
                fired = true;
                return true;
            }

            return false;
        };
    }

    private static bool IsSegment(string path) => Path.GetFileName(path).StartsWith(FileLedgerStore.SegmentPrefix, StringComparison.Ordinal) && path.EndsWith(".seg", StringComparison.Ordinal);

    private int SegmentCount() => _disk.EnumerateFiles(StoreDirectory, "segment-*.seg").Count();

    private static async Task<FileLedgerStore> OpenAsync(SimulatedDisk disk, string directory = StoreDirectory)
    {
        var store = new FileLedgerStore(directory, Options, disk);
        await store.OpenAsync();
        return store;
    }

    // The machine loses power and boots again, so what only the page cache held is gone; then the store opens on what the
    // disk kept.
    private static Task<FileLedgerStore> CutPowerAndReopenAsync(SimulatedDisk disk, string directory = StoreDirectory)
    {
        disk.CutPower();
        disk.Restart();
        return OpenAsync(disk, directory);
    }

    // An open that must fail (the instance is disposed after): its exception.
    private static async Task<LedgerStoreException> OpenFailsAsync(SimulatedDisk disk)
    {
        await using var store = new FileLedgerStore(StoreDirectory, Options, disk);
        return await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.OpenAsync());
    }

    // Appending _batches[index], which must fail: its exception.
    private async Task<LedgerStoreException> AppendFailsAsync(FileLedgerStore store, int index) =>
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(_batches[index]));

    private async Task AppendAsync(FileLedgerStore store, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            await store.AppendAsync(_batches[i]);
        }
    }

    private async Task<int> CountAsync(FileLedgerStore store)
    {
        int count = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            Assert.True(TestBatches.Encode(batch).AsSpan().SequenceEqual(TestBatches.Encode(_batches[count])), $"batch {count + 1} differs");
            count++;
        }

        return count;
    }
}
