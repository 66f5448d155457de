using System.Buffers;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests.Specification;

public sealed class FaultInjectingLedgerStoreTests
{
    [Fact]
    public void Constructor_NullInner_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("inner", () => new FaultInjectingLedgerStore(null!));
    }

    [Fact]
    public async Task AppendAsync_QueuedFaults_ApplyInOrderThenPassThrough()
    {
        await using var store = new FaultInjectingLedgerStore(new InMemoryLedgerStore());
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(2);
        store.InjectFault(AppendFault.FailBeforeWrite);
        store.InjectFault(AppendFault.None);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[0]));
        await store.AppendAsync(batches[0]);
        await store.AppendAsync(batches[1]);

        Assert.Equal(3, store.AppendCalls);
        Assert.Equal(1, store.FaultsInjected);
        Assert.Equal(0, store.PendingFaults);
    }

    [Fact]
    public async Task WriteSnapshotAsync_FailSnapshotWrites_ThrowsWithoutWritingUntilSwitchedOff()
    {
        var inner = new InMemoryLedgerStore();
        await using var store = new FaultInjectingLedgerStore(inner) { FailSnapshotWrites = true };
        await store.OpenAsync();
        await store.AppendAsync(TestBatches.Chain(1)[0]);

        LedgerStoreException refused = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.WriteSnapshotAsync(1, new byte[] { 1, 2, 3 }));
        Assert.Contains("batch 1", refused.Message, StringComparison.Ordinal);
        Assert.Null(await inner.ReadLatestSnapshotAsync());

        store.FailSnapshotWrites = false;
        await store.WriteSnapshotAsync(1, new byte[] { 4, 5, 6 });

        using LedgerSnapshot? written = await inner.ReadLatestSnapshotAsync();
        Assert.NotNull(written);
        Assert.Equal(new byte[] { 4, 5, 6 }, written.State.ToArray());
        Assert.Equal(2, store.SnapshotWriteCalls);
        Assert.Equal(1, store.AppendCalls);
    }

    [Fact]
    public async Task AppendAsync_FailBeforeWrite_InnerStoreUntouched()
    {
        var inner = new InMemoryLedgerStore();
        await using var store = new FaultInjectingLedgerStore(inner);
        await store.OpenAsync();
        store.InjectFault(AppendFault.FailBeforeWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(TestBatches.Chain(1)[0]));

        Assert.Equal(0UL, await LastBatchNumberAsync(inner));
    }

    [Fact]
    public async Task AppendAsync_FailAfterWrite_InnerStoreHasTheBatch()
    {
        var inner = new InMemoryLedgerStore();
        await using var store = new FaultInjectingLedgerStore(inner);
        await store.OpenAsync();
        store.InjectFault(AppendFault.FailAfterWrite);

        await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(TestBatches.Chain(1)[0]));

        Assert.Equal(1UL, await LastBatchNumberAsync(inner));
    }

    [Fact]
    public async Task AppendAsync_DelayBeforeWriteWithCancelledToken_ThrowsWithoutWriting()
    {
        var inner = new InMemoryLedgerStore();
        await using var store = new FaultInjectingLedgerStore(inner) { Delay = Timeout.InfiniteTimeSpan };
        await store.OpenAsync();
        store.InjectFault(AppendFault.DelayBeforeWrite);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await store.AppendAsync(TestBatches.Chain(1)[0], new CancellationToken(canceled: true)));

        Assert.Equal(0UL, await LastBatchNumberAsync(inner));
    }

    [Fact]
    public void InjectFault_UndefinedValue_ThrowsArgumentOutOfRangeException()
    {
        var store = new FaultInjectingLedgerStore(new InMemoryLedgerStore());

        Assert.Throws<ArgumentOutOfRangeException>("fault", () => store.InjectFault((AppendFault)99));
    }

    [Fact]
    public void Delay_Negative_ThrowsArgumentOutOfRangeException()
    {
        var store = new FaultInjectingLedgerStore(new InMemoryLedgerStore());

        Assert.Throws<ArgumentOutOfRangeException>("value", () => store.Delay = TimeSpan.FromSeconds(-1));
    }

    [Fact]
    public async Task DisposeAsync_Always_DisposesInner()
    {
        var inner = new InMemoryLedgerStore();
        var store = new FaultInjectingLedgerStore(inner);
        await store.OpenAsync();

        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await inner.ReadLatestSnapshotAsync());
    }

    [Fact]
    public async Task Capabilities_Always_ThoseOfInner()
    {
        await using var store = new FaultInjectingLedgerStore(new InMemoryLedgerStore());

        Assert.Equal(LedgerStoreCapabilities.Snapshots, store.Capabilities);
    }

    [Fact]
    public async Task Capabilities_InnerWithEncodedAppend_ReportsItAndItsPrefix()
    {
        using var directory = new TemporaryDirectory();
        await using var store = new FaultInjectingLedgerStore(new FileLedgerStore(directory.Path));

        Assert.Equal(LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend, store.Capabilities);
        Assert.Equal(((IEncodedBatchAppender)store.Inner).RecordPrefixSize, store.RecordPrefixSize);
    }

    [Fact]
    public async Task Capabilities_InnerReportsEncodedAppendWithoutTheInterface_NotReported()
    {
        // The wrapper could not forward it, so it must not claim it: the engine would fall back anyway, but others may not.
        await using var store = new FaultInjectingLedgerStore(new ClaimingStore(new InMemoryLedgerStore()));

        Assert.Equal(LedgerStoreCapabilities.Snapshots, store.Capabilities);
        Assert.Throws<NotSupportedException>(() => store.RecordPrefixSize);
        Assert.Throws<NotSupportedException>(() => store.AppendEncoded(TestBatches.Chain(1)[0].Header, new byte[256], CommitBatchHeader.Size, overlap: null));
        Assert.Equal(0, store.AppendCalls);
    }

    [Fact]
    public async Task AppendEncoded_QueuedFaults_ApplyOnTheFastPathAsOnAppendAsync()
    {
        using var directory = new TemporaryDirectory();
        var inner = new FileLedgerStore(directory.Path);
        await using var store = new FaultInjectingLedgerStore(inner) { Delay = TimeSpan.FromMilliseconds(1) };
        await store.OpenAsync();
        CommitBatch[] batches = TestBatches.Chain(4);
        store.InjectFault(AppendFault.FailBeforeWrite);
        store.InjectFault(AppendFault.None);
        store.InjectFault(AppendFault.DelayBeforeWrite);
        store.InjectFault(AppendFault.DelayAfterWrite);
        store.InjectFault(AppendFault.FailAfterWrite);

        Assert.Throws<LedgerStoreException>(() => AppendEncoded(store, batches[0]));
        Assert.Equal(0UL, inner.LastDurableBatchNumber);
        Assert.Equal(TestBatches.Hash(batches[0]), AppendEncoded(store, batches[0]));
        Assert.Equal(TestBatches.Hash(batches[1]), AppendEncoded(store, batches[1]));
        Assert.Equal(TestBatches.Hash(batches[2]), AppendEncoded(store, batches[2]));
        Assert.Throws<LedgerStoreException>(() => AppendEncoded(store, batches[3]));
        Assert.Equal(4UL, inner.LastDurableBatchNumber);

        Assert.Equal(5, store.AppendCalls);
        Assert.Equal(5, store.EncodedAppendCalls);
        Assert.Equal(4, store.FaultsInjected);
        Assert.Equal(0, store.PendingFaults);
    }

    [Fact]
    public async Task ReadLatestSnapshotAsync_InnerLendsAMapping_ReturnsItAndWritesTakeSegmentedStates()
    {
        using var directory = new TemporaryDirectory();
        byte[] state = TestBatches.SnapshotState(2, 100_000);
        await using var store = new FaultInjectingLedgerStore(new FileLedgerStore(directory.Path) { MapSnapshotsFrom = 1, MapWindowBytes = 4096 });
        await store.OpenAsync();
        foreach (CommitBatch batch in TestBatches.Chain(2))
        {
            await store.AppendAsync(batch);
        }

        await store.WriteSnapshotAsync(2, TestBatches.InSegments(state));

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.NotNull(snapshot);
        Assert.IsType<SnapshotMapping>(snapshot.Owner);
        Assert.False(snapshot.State.IsSingleSegment);
        Assert.Equal(state, snapshot.State.ToArray());
        Assert.Equal(1, ((FileLedgerStore)store.Inner).MappedSnapshotsReturned);
    }

    private static BatchHash AppendEncoded(FaultInjectingLedgerStore store, CommitBatch batch)
    {
        byte[] record = new byte[store.RecordPrefixSize + batch.EncodedLength];
        batch.Encode(record.AsSpan(store.RecordPrefixSize));
        return store.AppendEncoded(batch.Header, record, batch.EncodedLength, overlap: null);
    }

    // Reads through a second store over the same backing, so the check does not depend on the wrapper.
    private static async Task<ulong> LastBatchNumberAsync(InMemoryLedgerStore inner)
    {
        await using var reopened = new InMemoryLedgerStore(inner.Backing);
        return (await reopened.OpenAsync()).LastBatchNumber;
    }

    // A store that reports the encoded append without implementing it (a decorator that forwards its inner flags blindly).
    private sealed class ClaimingStore(InMemoryLedgerStore inner) : ForwardingLedgerStore(inner)
    {
        public override LedgerStoreCapabilities Capabilities => Inner.Capabilities | LedgerStoreCapabilities.EncodedAppend;
    }

    // A new directory under the temporary directory, deleted with everything in it on dispose.
    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "micropay-fault-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
    }
}
