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

        LedgerSnapshot? written = await inner.ReadLatestSnapshotAsync();
        Assert.NotNull(written);
        Assert.Equal(new byte[] { 4, 5, 6 }, written.Value.State.ToArray());
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

    // Reads through a second store over the same backing, so the check does not depend on the wrapper.
    private static async Task<ulong> LastBatchNumberAsync(InMemoryLedgerStore inner)
    {
        await using var reopened = new InMemoryLedgerStore(inner.Backing);
        return (await reopened.OpenAsync()).LastBatchNumber;
    }
}
