using System.Globalization;
using System.IO.Hashing;
using Micropay.Core.CrashHarness;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

public sealed class FileLedgerStoreTests : FileStoreTestKit
{
    [Fact]
    public async Task Constructor_MissingDirectory_CreatesIt()
    {
        string nested = Path.Combine(Directory, "a", "b");
        await using var store = new FileLedgerStore(nested);
        Assert.True(System.IO.Directory.Exists(nested));
        Assert.Equal(LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend, store.Capabilities);
    }

    [Fact]
    public async Task OpenAsync_EmptyDirectory_ReportsEmptyJournal()
    {
        await using var store = new FileLedgerStore(Directory);
        LedgerStoreState state = await store.OpenAsync();
        Assert.Equal(new LedgerStoreState(0, BatchHash.Zero, 0), state);
    }

    [Fact]
    public async Task AppendAsync_ThenReopen_ReturnsEveryBatchAndTheLastHash()
    {
        BatchHash last;
        await using (FileLedgerStore store = await OpenAsync())
        {
            last = await AppendRangeAsync(store, 1, 50, BatchHash.Zero);
        }

        await using (var store = new FileLedgerStore(Directory))
        {
            LedgerStoreState state = await store.OpenAsync();
            Assert.Equal(50UL, state.LastBatchNumber);
            Assert.Equal(last, state.LastBatchHash);
            await AssertHoldsCrashBatchesAsync(store, 1, 50);
            last = await AppendRangeAsync(store, 51, 60, last);
        }

        await using (FileLedgerStore store = await OpenAsync())
        {
            await AssertHoldsCrashBatchesAsync(store, 1, 60);
        }
    }

    [Fact]
    public async Task AppendAsync_BatchesOverflowSegmentSize_StartsNewSegmentsWithinTheBound()
    {
        await using (FileLedgerStore store = await OpenAsync(SmallSegments()))
        {
            await AppendRangeAsync(store, 1, 100, BatchHash.Zero);
        }

        string[] segments = SegmentFiles();
        Assert.True(segments.Length > 5, $"{segments.Length} segments");
        // Every 16th crash batch is larger than a segment and gets one of its own (see the next test); all other
        // segments stay within the bound.
        Assert.All(
            segments.Where(s => ulong.Parse(Path.GetFileNameWithoutExtension(s)["segment-".Length..], CultureInfo.InvariantCulture) % 16 != 0),
            s => Assert.True(new FileInfo(s).Length <= 4096));
        Assert.EndsWith("segment-00000000000000000001.seg", segments[0], StringComparison.Ordinal);
        await using (FileLedgerStore store = await OpenAsync(SmallSegments()))
        {
            await AssertHoldsCrashBatchesAsync(store, 1, 100);
            await AssertHoldsCrashBatchesAsync(store, 37, 100);
        }
    }

    [Fact]
    public async Task AppendAsync_BatchLargerThanASegment_GetsASegmentOfItsOwn()
    {
        await using FileLedgerStore store = await OpenAsync(SmallSegments());
        BatchHash hash = await AppendRangeAsync(store, 1, 2, BatchHash.Zero);
        byte[] events = new byte[64 * CommitBatch.EventSize];
        var big = new CommitBatch(new CommitBatchHeader(3, BatchOperation.CreateAccounts, 1, 64, hash, BatchHash.Zero), events);
        await store.AppendAsync(big);
        await AppendRangeAsync(store, 4, 4, CrashBatches.Hash(big));
        Assert.Equal(3, SegmentFiles().Length);
        int count = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            count++;
        }

        Assert.Equal(4, count);
    }

    [Fact]
    public async Task AppendAsync_GapInBatchNumbers_ThrowsArgumentException()
    {
        await using FileLedgerStore store = await OpenAsync();
        BatchHash hash = await AppendRangeAsync(store, 1, 3, BatchHash.Zero);
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(CrashBatches.Create(5, hash)));
        Assert.Equal("batch", error.ParamName);
    }

    [Fact]
    public async Task AppendAsync_PreviousHashDoesNotMatch_ThrowsArgumentException()
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 3, BatchHash.Zero);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(CrashBatches.Create(4, BatchHash.Zero)));
    }

    [Fact]
    public async Task AppendAsync_RetryOfDurableIdenticalBatch_Completes()
    {
        await using FileLedgerStore store = await OpenAsync(SmallSegments());
        BatchHash[] hashes = ChainHashes(40);
        await AppendRangeAsync(store, 1, 40, BatchHash.Zero);
        await store.AppendAsync(CrashBatches.Create(40, hashes[39]));
        await store.AppendAsync(CrashBatches.Create(3, hashes[2]));
        await store.AppendAsync(CrashBatches.Create(41, hashes[40]));
        await AssertHoldsCrashBatchesAsync(store, 1, 41);
    }

    [Fact]
    public async Task AppendAsync_RetryWithDifferentBytes_ThrowsLedgerStoreException()
    {
        await using FileLedgerStore store = await OpenAsync();
        BatchHash[] hashes = ChainHashes(5);
        await AppendRangeAsync(store, 1, 5, BatchHash.Zero);
        CommitBatch original = CrashBatches.Create(4, hashes[3]);
        var changed = new CommitBatch(
            new CommitBatchHeader(4, original.Header.Operation, original.Header.Timestamp + 1, original.Header.EventCount, hashes[3], BatchHash.Zero),
            original.Events);
        var error = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(changed));
        Assert.IsNotType<LedgerStoreCorruptedException>(error);
        await AssertHoldsCrashBatchesAsync(store, 1, 5);
    }

    [Fact]
    public async Task AppendAsync_CancelledToken_WritesNothing()
    {
        await using FileLedgerStore store = await OpenAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.AppendAsync(CrashBatches.Create(1, BatchHash.Zero), cancelled.Token));
        Assert.Empty(SegmentFiles());
        await AppendRangeAsync(store, 1, 1, BatchHash.Zero);
    }

    [Fact]
    public async Task AppendAsync_BeforeOpen_ThrowsInvalidOperationException()
    {
        await using var store = new FileLedgerStore(Directory);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.AppendAsync(CrashBatches.Create(1, BatchHash.Zero)));
    }

    [Fact]
    public async Task AppendAsync_AfterDispose_ThrowsObjectDisposedException()
    {
        FileLedgerStore store = await OpenAsync();
        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(CrashBatches.Create(1, BatchHash.Zero)));
    }

    [Fact]
    public async Task AppendAsync_SteadyState_AllocatesAlmostNothing()
    {
        const int count = 2000;
        var batches = new CommitBatch[count];
        BatchHash previous = BatchHash.Zero;
        byte[] events = new byte[4 * CommitBatch.EventSize];
        for (int i = 0; i < count; i++)
        {
            batches[i] = new CommitBatch(new CommitBatchHeader((ulong)i + 1, BatchOperation.CreateTransfers, 7, 4, previous, BatchHash.Zero), events);
            previous = CrashBatches.Hash(batches[i]);
        }

        await using FileLedgerStore store = await OpenAsync();
        for (int i = 0; i < 100; i++)
        {
            await store.AppendAsync(batches[i]);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 100; i < count; i++)
        {
            await store.AppendAsync(batches[i]);
        }

        long perAppend = (GC.GetAllocatedBytesForCurrentThread() - before) / (count - 100);
        Assert.True(perAppend < 8, $"{perAppend} bytes allocated per append");
    }

    [Fact]
    public async Task OpenAsync_DirectoryHeldByAnotherInstance_ThrowsLedgerStoreException()
    {
        await using FileLedgerStore first = await OpenAsync();
        await using var second = new FileLedgerStore(Directory);
        var error = await Assert.ThrowsAsync<LedgerStoreException>(async () => await second.OpenAsync());
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_ReleasesTheLock_AnotherStoreOpens()
    {
        FileLedgerStore first = await OpenAsync();
        await AppendRangeAsync(first, 1, 3, BatchHash.Zero);
        await first.DisposeAsync();
        await using FileLedgerStore second = await OpenAsync();
        await AssertHoldsCrashBatchesAsync(second, 1, 3);
    }

    [Fact]
    public async Task ReadBatchesAsync_FromAnyBatch_ReturnsFromThatBatchInOrder()
    {
        await using FileLedgerStore store = await OpenAsync(SmallSegments());
        await AppendRangeAsync(store, 1, 60, BatchHash.Zero);
        foreach (ulong from in new ulong[] { 1, 2, 17, 33, 59, 60 })
        {
            await AssertHoldsCrashBatchesAsync(store, from, 60);
        }

        await foreach (CommitBatch batch in store.ReadBatchesAsync(61))
        {
            Assert.Fail($"read batch {batch.BatchNumber} beyond the end");
        }
    }

    [Fact]
    public async Task ReadBatchesAsync_DuringAppends_SeesWholeDurablePrefixes()
    {
        await using FileLedgerStore store = await OpenAsync(SmallSegments(8192));
        const ulong total = 400;
        using var done = new CancellationTokenSource();
        Task writer = Task.Run(async () =>
        {
            await AppendRangeAsync(store, 1, total, BatchHash.Zero);
            await done.CancelAsync();
        });

        int reads = 0;
        while (!done.IsCancellationRequested || reads == 0)
        {
            ulong expected = 1;
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                Assert.Equal(expected, batch.BatchNumber);
                Assert.Equal(CrashBatches.EventCount(expected), batch.Header.EventCount);
                byte[] events = new byte[batch.Events.Length];
                CrashBatches.FillEvents(expected, events);
                Assert.True(batch.Events.Span.SequenceEqual(events));
                expected++;
            }

            reads++;
        }

        await writer;
        await AssertHoldsCrashBatchesAsync(store, 1, total);
        Assert.True(reads > 1);
    }

    [Fact]
    public async Task ReadBatchesAsync_RecordDamagedAfterOpen_ThrowsCorrupted()
    {
        await using FileLedgerStore store = await OpenAsync();
        await AppendRangeAsync(store, 1, 5, BatchHash.Zero);
        string segment = SegmentFiles()[0];
        List<long> offsets = RecordOffsets(segment);
        FlipByte(segment, offsets[2] + 100);
        var error = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () =>
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
            }
        });
        Assert.Equal(segment, error.Location);
        Assert.Equal(offsets[2], error.Offset);
    }

    [Fact]
    [Trait("Category", "Stress")]
    public async Task ReadBatchesAsync_LargeJournal_ReplaysMillionsOfEventsPerSecond()
    {
        const int batches = 600;
        const int eventsPerBatch = 1000;
        byte[] events = new byte[eventsPerBatch * CommitBatch.EventSize];
        await using FileLedgerStore store = await OpenAsync();
        BatchHash previous = BatchHash.Zero;
        for (int i = 1; i <= batches; i++)
        {
            var batch = new CommitBatch(new CommitBatchHeader((ulong)i, BatchOperation.CreateTransfers, 1, eventsPerBatch, previous, BatchHash.Zero), events);
            await store.AppendAsync(batch);
            previous = CrashBatches.Hash(batch);
        }

        double best = 0;
        for (int round = 0; round < 3; round++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long total = 0;
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                total += batch.Header.EventCount;
            }

            Assert.Equal((long)batches * eventsPerBatch, total);
            best = Math.Max(best, total / clock.Elapsed.TotalSeconds);
        }

        // The target is 5 million events/s; the bound here is loose so a busy CI machine does not fail it.
        Assert.True(best > 1_000_000, $"{best:N0} events/s");
    }

    internal static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x20));
    }

    /// <summary>Appends a record with a valid frame and checksum holding <paramref name="batch"/>, bypassing the store's checks.</summary>
    internal static void AppendRawRecord(string segmentPath, in CommitBatch batch)
    {
        byte[] header = new byte[FileLedgerStore.FileHeaderSize];
        using var file = new FileStream(segmentPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.ReadExactly(header);
        ulong salt = BitConverter.ToUInt64(header, 8);
        byte[] record = new byte[FileLedgerStore.FrameSize + batch.EncodedLength];
        FileLedgerStore.EncodeRecord(record, new Crc32(Crc32ParameterSet.Crc32C), salt, batch);
        file.Seek(0, SeekOrigin.End);
        file.Write(record);
    }
}
