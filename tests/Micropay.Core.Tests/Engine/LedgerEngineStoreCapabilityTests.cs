using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using Micropay.Core.Storage.Tests;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// The engine finds a store's fast paths through capabilities, never through the store's type: behind a decorator that
/// forwards them (the kit's <see cref="FaultInjectingLedgerStore"/>) a <see cref="FileLedgerStore"/> still gets the
/// encoded append, the mapped snapshot read at recovery and snapshots past the array limit; a store without the
/// capability gets <see cref="ILedgerStore.AppendAsync"/>.
/// </summary>
public sealed class LedgerEngineStoreCapabilityTests : EngineTestKit
{
    [Fact]
    public async Task OpenAsync_FileStore_AppendsThroughTheEncodedFastPath()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();

        Assert.True(engine.AppendsEncoded);
    }

    [Fact]
    public async Task OpenAsync_FileStoreBehindADecorator_AppendsThroughTheEncodedFastPath()
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory));
        await using (LedgerEngine engine = await OpenEngineAsync(store))
        {
            Assert.True(engine.AppendsEncoded);

            // The open journaled the genesis batch (SetInstanceId) on the same path.
            Assert.Equal((int)GenesisBatches, store.AppendCalls);
            Assert.Equal(store.AppendCalls, store.EncodedAppendCalls);

            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Transfer[] batch = [.. Enumerable.Range(0, 1000).Select(i => Tr(100 + (ulong)i, 1, 2, 1))];
            Assert.Equal(0, await engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(5000, 2, 1, 3)));

            Assert.Equal((int)GenesisBatches + 3, store.AppendCalls);
            Assert.Equal(store.AppendCalls, store.EncodedAppendCalls);

            // The decorator's faults apply on that path too: a failed append stops the engine, as through AppendAsync.
            store.InjectFault(AppendFault.FailBeforeWrite);
            await Assert.ThrowsAsync<LedgerEngineException>(async () => await engine.CreateTransferAsync(Tr(5001, 1, 2, 1)));
            Assert.Equal((int)GenesisBatches + 4, store.EncodedAppendCalls);
            Assert.Equal(1, store.FaultsInjected);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        Assert.Equal(GenesisBatches + 3, replay.LastBatchNumber);
        Assert.True(replay.Ledger.TryGetTransfer(5000, out _));
        Assert.False(replay.Ledger.TryGetTransfer(5001, out _));
    }

    [Fact]
    public async Task TakeSnapshotAsync_FileStoreBehindADecorator_WritesPastTheArrayLimitAndRecoversFromTheMapping()
    {
        // The array limit is lowered to 1 KiB, so the snapshot goes to the decorator in 4 KiB segments; the file store maps
        // it back in windows of 4,100 bytes (not a multiple of the 128-byte records, so ids straddle windows).
        var ids = new List<UInt128>();
        var writing = new FaultInjectingLedgerStore(new FileLedgerStore(Directory));
        ulong taken;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(
            new LedgerEngineOptions { Store = writing, ClockPulses = false, SnapshotArrayLimit = 1024, SnapshotSegmentBytes = 4096 }))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            for (ulong id = 100; id < 2100; id += 100)
            {
                Transfer[] batch = [.. Enumerable.Range(0, 100).Select(i => Tr(id + (ulong)i, 1 + ((ulong)i % 3), 1 + (((ulong)i + 1) % 3), 1))];
                Assert.Equal(0, await engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
                ids.AddRange(batch.Select(t => t.Id));
            }

            taken = await engine.TakeSnapshotAsync();
            Assert.Null(engine.LastSnapshotError);
            Assert.Equal(1, writing.SnapshotWriteCalls);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(5000, 1, 2, 3)));
            ids.Add(5000);
        }

        string snapshotFile = Path.Combine(Directory, $"snapshot-{taken:D20}.snap");
        Assert.True(new FileInfo(snapshotFile).Length > 1024 + 64);
        JournalReplay replay = await ReplayJournalAsync(Directory);
        var inner = new FileLedgerStore(Directory) { MapSnapshotsFrom = 1, MapWindowBytes = 4100 };
        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FaultInjectingLedgerStore(inner), ClockPulses = false });
        Assert.Equal(taken, reopened.LatestSnapshotBatchNumber);
        Assert.Equal(1, inner.MappedSnapshotsReturned);
        Assert.Equal(typeof(SnapshotMapping), reopened.RecoveredSnapshotOwner);
        Assert.True(reopened.TransfersIndexedFromSnapshot);
        Assert.True(reopened.AppendsEncoded);
        AssertSameState(replay.Ledger, reopened, [.. ids, 999_999]);
        if (OperatingSystem.IsLinux())
        {
            // Recovery disposed the snapshot it read through the decorator, which unmapped the file.
            Assert.DoesNotContain(Directory, File.ReadAllText("/proc/self/maps"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OpenAsync_DecoratorOverAStoreWithoutTheEncodedAppend_AppendsThroughAppendAsync()
    {
        var store = new FaultInjectingLedgerStore(new InMemoryLedgerStore());
        await using LedgerEngine engine = await OpenEngineAsync(store);

        Assert.False(engine.AppendsEncoded);
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 3)));

        // The genesis batch the open journaled, then the two submitted here.
        Assert.Equal((int)GenesisBatches + 2, store.AppendCalls);
        Assert.Equal(0, store.EncodedAppendCalls);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4097)]
    public async Task OpenAsync_StoreAsksForARecordPrefixOutOfRange_ThrowsArgumentExceptionAndDisposesTheStore(int prefix)
    {
        var store = new PrefixStore(new InMemoryLedgerStore(), prefix);

        ArgumentException refused = await Assert.ThrowsAsync<ArgumentException>(async () => await OpenEngineAsync(store));

        Assert.Equal("options", refused.ParamName);
        Assert.Contains("RecordPrefixSize", refused.Message, StringComparison.Ordinal);
        Assert.True(store.Disposed);
    }

    // Reports the encoded append with a given prefix size; never used further (the engine refuses it at open).
    private sealed class PrefixStore(InMemoryLedgerStore inner, int prefix) : ForwardingLedgerStore(inner), IEncodedBatchAppender
    {
        public bool Disposed { get; private set; }

        public override LedgerStoreCapabilities Capabilities => Inner.Capabilities | LedgerStoreCapabilities.EncodedAppend;

        public int RecordPrefixSize => prefix;

        public BatchHash AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap) =>
            throw new InvalidOperationException("Not expected.");

        public override ValueTask DisposeAsync()
        {
            Disposed = true;
            return base.DisposeAsync();
        }
    }
}
