using System.Buffers;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using Micropay.Core.Storage.Tests;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// The ledger instance id (<see cref="LedgerEngine.InstanceId"/>): a new ledger gets one (random, or
/// <see cref="LedgerEngineOptions.InstanceId"/>) in a SetInstanceId batch that the open journals as batch 1 and waits
/// for; the id then never changes: it comes back from the journal on every open, from the snapshot's "instance" section
/// once the journal before the snapshot is gone, and an open that asks for another id fails. A ledger written before
/// instance ids existed (its journal without a SetInstanceId batch, its snapshots without the section) gets its id at
/// its first open, journaled after its old batches, and keeps it.
/// </summary>
public sealed class InstanceIdTests : EngineTestKit
{
    // Two halves that differ, so a swapped or mis-ordered half shows.
    private static readonly UInt128 Chosen = new(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210);
    private static readonly UInt128 Other = new(0x1111_2222_3333_4444, 0x5555_6666_7777_8888);

    [Fact]
    public async Task OpenAsync_NewFileLedger_GetsANonZeroIdJournaledAsBatchOne()
    {
        UInt128 id;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            id = engine.InstanceId;
            Assert.NotEqual(UInt128.Zero, id);
            Assert.Equal(GenesisBatches, engine.ReleasedBatchNumber);
        }

        // The batch as the store holds it: batch 1, operation code 3 (SetInstanceId), one 128-byte record holding the id.
        await using (var store = new FileLedgerStore(Directory))
        {
            Assert.Equal(1UL, (await store.OpenAsync()).LastBatchNumber);
            int read = 0;
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                read++;
                Assert.Equal(1UL, batch.BatchNumber);
                Assert.Equal(3, (ushort)batch.Header.Operation);
                Assert.Equal(BatchOperation.SetInstanceId, batch.Header.Operation);
                Assert.Equal(1, batch.Header.EventCount);
                Assert.Equal(InstanceIdRecordSize, batch.Header.EventSize);
                Assert.Equal(id, DecodeInstanceIdRecord(batch.Events.Span));
            }

            Assert.Equal(1, read);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        ReplayedBatch genesis = Assert.Single(replay.Batches);
        Assert.Equal([id], genesis.InstanceIds!);
        Assert.Equal([InstanceIdResult.Ok], genesis.InstanceIdResults!);
        Assert.Equal(id, replay.Ledger.InstanceId);
    }

    [Theory]
    [InlineData(DurabilityMode.Durable)]
    [InlineData(DurabilityMode.Buffered)]
    public async Task OpenAsync_ExistingFileLedger_KeepsItsIdWithoutAnotherSetInstanceIdBatch(DurabilityMode mode)
    {
        UInt128 id;
        await using (LedgerEngine engine = await OpenFileEngineAsync(mode))
        {
            id = engine.InstanceId;
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync(mode))
        {
            Assert.Equal(id, reopened.InstanceId);
            Assert.Equal(GenesisBatches + 1, reopened.ReleasedBatchNumber);
            Assert.Equal(CreateAccountResult.Ok, await reopened.CreateAccountAsync(Acct(2)));
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        Assert.Equal(GenesisBatches + 2, replay.LastBatchNumber);
        Assert.Equal(1, replay.Batches.Count(b => b.InstanceIds is not null));
        Assert.Equal(id, replay.Ledger.InstanceId);
    }

    [Fact]
    public async Task OpenAsync_SnapshotWithTheInstanceSectionAndTheJournalBeforeItCompactedAway_KeepsTheId()
    {
        UInt128 id;
        ulong taken;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            id = engine.InstanceId;
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
            taken = await engine.TakeSnapshotAsync();
            Assert.Equal(GenesisBatches + 2, taken);
        }

        // One more batch after a reopen: the file store starts a new segment at each open's first append, so the segment
        // holding batches 1 to the snapshot's is wholly covered by the snapshot and compaction can delete it.
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            Assert.Equal(id, engine.InstanceId);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(11, 2, 1, 1)));
        }

        await using (var store = new FileLedgerStore(Directory))
        {
            await store.OpenAsync();
            using (LedgerSnapshot snapshot = (await store.ReadLatestSnapshotAsync())!)
            {
                Assert.Equal(taken, snapshot.BatchNumber);
                Dictionary<string, ReadOnlySequence<byte>> sections = SnapshotEnvelope.Read(snapshot.State, new HashSet<string> { "audit", "channels", "identity", "instance", "ledger" });
                Assert.Equal(id, DecodeInstanceSection(sections["instance"].ToArray()));
            }

            Assert.True(await store.CompactAsync() > 0);
            ulong first = 0;
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                first = batch.BatchNumber;
                break;
            }

            // The genesis batch is gone: the journal starts after the snapshot.
            Assert.Equal(taken + 1, first);
        }

        await using LedgerEngine recovered = await OpenFileEngineAsync();
        Assert.Equal(taken, recovered.LatestSnapshotBatchNumber);
        Assert.Equal(id, recovered.InstanceId);
        Assert.Equal(taken + 1, recovered.ReleasedBatchNumber);
        Assert.True(recovered.TryGetTransfer(11, out _));
    }

    [Fact]
    public async Task OpenAsync_NewLedgerWithOptionsInstanceId_HasThatIdJournaledAndReopensWithIt()
    {
        await using (LedgerEngine engine = await OpenWithIdAsync(Chosen))
        {
            Assert.Equal(Chosen, engine.InstanceId);
            Assert.Equal(GenesisBatches, engine.ReleasedBatchNumber);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        Assert.Equal([Chosen], Assert.Single(replay.Batches).InstanceIds!);

        // The same id again is accepted and appends nothing.
        await using LedgerEngine reopened = await OpenWithIdAsync(Chosen);
        Assert.Equal(Chosen, reopened.InstanceId);
        Assert.Equal(GenesisBatches, reopened.ReleasedBatchNumber);
    }

    [Fact]
    public async Task OpenAsync_OptionsInstanceIdDiffersFromTheLedgers_ThrowsLedgerEngineExceptionNamingBothIds()
    {
        await using (LedgerEngine engine = await OpenWithIdAsync(Chosen))
        {
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        }

        LedgerEngineException error = await Assert.ThrowsAsync<LedgerEngineException>(async () => await OpenWithIdAsync(Other));
        Assert.Contains(Chosen.ToString("X32"), error.Message, StringComparison.Ordinal);
        Assert.Contains(Other.ToString("X32"), error.Message, StringComparison.Ordinal);

        // The refused open released the store (its lock is free) and appended nothing.
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(Chosen, reopened.InstanceId);
        Assert.Equal(GenesisBatches + 1, reopened.ReleasedBatchNumber);
    }

    [Theory]
    [InlineData(DurabilityMode.InMemory)]
    [InlineData(DurabilityMode.Durable)]
    public async Task OpenAsync_OptionsInstanceIdZero_ThrowsArgumentOutOfRangeException(DurabilityMode mode)
    {
        var options = new LedgerEngineOptions
        {
            Durability = mode,
            Store = mode == DurabilityMode.InMemory ? null : new FileLedgerStore(Directory),
            InstanceId = UInt128.Zero,
        };

        ArgumentOutOfRangeException error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await LedgerEngine.OpenAsync(options));
        Assert.Equal("InstanceId", error.ParamName);
    }

    [Fact]
    public async Task OpenAsync_InMemoryEngine_GetsARandomIdOrTheOptionsOneInItsFirstBatch()
    {
        await using (LedgerEngine random = await OpenInMemoryEngineAsync())
        {
            Assert.NotEqual(UInt128.Zero, random.InstanceId);
            Assert.Equal(GenesisBatches, random.ReleasedBatchNumber);
        }

        await using LedgerEngine chosen = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false, InstanceId = Chosen });
        Assert.Equal(Chosen, chosen.InstanceId);
        Assert.Equal(GenesisBatches, chosen.ReleasedBatchNumber);
    }

    [Fact]
    public async Task OpenAsync_TwoNewLedgers_GetDifferentIds()
    {
        await using LedgerEngine first = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Path.Combine(Directory, "a")), ClockPulses = false });
        await using LedgerEngine second = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Path.Combine(Directory, "b")), ClockPulses = false });

        Assert.NotEqual(UInt128.Zero, first.InstanceId);
        Assert.NotEqual(UInt128.Zero, second.InstanceId);
        Assert.NotEqual(first.InstanceId, second.InstanceId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenAsync_JournalWrittenBeforeInstanceIds_GetsAnIdAppendedAfterItsBatchesAndKeepsIt(bool chosen)
    {
        LedgerStateMachine written = await WriteJournalWithoutInstanceIdAsync(
            Directory, 1_000_000_000, new[] { Acct(1), Acct(2) }, new[] { Tr(10, 1, 2, 5) }, new[] { Tr(11, 2, 1, 2) });

        UInt128 id;
        await using (LedgerEngine engine = chosen ? await OpenWithIdAsync(Chosen) : await OpenFileEngineAsync())
        {
            id = engine.InstanceId;
            Assert.NotEqual(UInt128.Zero, id);
            if (chosen)
            {
                Assert.Equal(Chosen, id);
            }

            // The three old batches, then the SetInstanceId batch the open appended.
            Assert.Equal(4UL, engine.ReleasedBatchNumber);
            Assert.Equal(written.Accounts.ToArray(), engine.ReadAllAccounts());
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        Assert.Equal(4UL, replay.LastBatchNumber);
        Assert.All(replay.Batches.Take(3), b => Assert.Null(b.InstanceIds));
        Assert.Equal([id], replay.Batches[3].InstanceIds!);
        Assert.Equal([InstanceIdResult.Ok], replay.Batches[3].InstanceIdResults!);

        // The next open finds the id in the journal: the same id, nothing appended.
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(id, reopened.InstanceId);
        Assert.Equal(4UL, reopened.ReleasedBatchNumber);
        AssertSameState(replay.Ledger, reopened, [10, 11]);
    }

    [Theory]
    [InlineData(false)] // the ledger's bytes alone, as engines wrote snapshots before sections
    [InlineData(true)] // an envelope with the ledger's section only, as engines wrote them before instance ids
    public async Task OpenAsync_SnapshotWithoutTheInstanceSection_OpensAndGetsAnIdAfterTheSnapshotsBatch(bool envelope)
    {
        LedgerStateMachine written = await WriteJournalWithoutInstanceIdAsync(
            Directory, 1_000_000_000, new[] { Acct(1), Acct(2) }, new[] { Tr(10, 1, 2, 5) });
        byte[] legacy;
        if (envelope)
        {
            var writer = new ArrayBufferWriter<byte>();
            SnapshotEnvelope.Write([new LedgerSnapshotSection(written)], writer);
            legacy = writer.WrittenSpan.ToArray();
        }
        else
        {
            legacy = new byte[written.SnapshotSize];
            written.WriteSnapshot(legacy);
        }

        await using (var store = new FileLedgerStore(Directory))
        {
            await store.OpenAsync();
            await store.WriteSnapshotAsync(2, legacy);
        }

        UInt128 id;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            Assert.Equal(2UL, engine.LatestSnapshotBatchNumber);
            Assert.Equal(written.Accounts.ToArray(), engine.ReadAllAccounts());
            id = engine.InstanceId;
            Assert.NotEqual(UInt128.Zero, id);
            Assert.Equal(3UL, engine.ReleasedBatchNumber);
        }

        // From the same old snapshot again: the id comes back from the SetInstanceId batch after it. A new snapshot then
        // holds it in its own section.
        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            Assert.Equal(2UL, reopened.LatestSnapshotBatchNumber);
            Assert.Equal(id, reopened.InstanceId);
            Assert.Equal(3UL, reopened.ReleasedBatchNumber);
            Assert.Equal(3UL, await reopened.TakeSnapshotAsync());
        }

        await using LedgerEngine fromNewSnapshot = await OpenFileEngineAsync();
        Assert.Equal(3UL, fromNewSnapshot.LatestSnapshotBatchNumber);
        Assert.Equal(id, fromNewSnapshot.InstanceId);
        Assert.Equal(3UL, fromNewSnapshot.ReleasedBatchNumber);
    }

    [Theory]
    [InlineData(AppendFault.FailBeforeWrite)]
    [InlineData(AppendFault.FailAfterWrite)]
    public async Task OpenAsync_GenesisBatchAppendFails_ThrowsLedgerEngineExceptionAndTheNextOpenHasOneGenesisBatch(AppendFault fault)
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory));
        store.InjectFault(fault);

        await Assert.ThrowsAsync<LedgerEngineException>(async () => await OpenEngineAsync(store));
        Assert.Equal(1, store.FaultsInjected);

        // The failed open released the store. Whether or not the batch reached the disk, the next open ends with exactly
        // one SetInstanceId batch: the one written before the failure (its id comes back) or a new one.
        UInt128 id;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            id = engine.InstanceId;
            Assert.NotEqual(UInt128.Zero, id);
            Assert.Equal(GenesisBatches, engine.ReleasedBatchNumber);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        Assert.Equal([id], Assert.Single(replay.Batches).InstanceIds!);
    }

    [Theory]
    [InlineData(DurabilityMode.Durable)]
    [InlineData(DurabilityMode.Buffered)]
    public async Task OpenAsync_AnyDurableMode_ReturnsOnlyOnceTheGenesisBatchWasAppended(DurabilityMode mode)
    {
        // Buffered mode releases other batches before their append; the id must not be one of them, or a crash right after
        // the open would let the next open choose another id under vouchers already signed with this one.
        var store = new AppendWatchingStore(new InMemoryLedgerStore());
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = store, Durability = mode, ClockPulses = false });

        Assert.Equal(1, Volatile.Read(ref store.CompletedAppends));
    }

    private sealed class AppendWatchingStore(ILedgerStore inner) : ForwardingLedgerStore(inner)
    {
        public int CompletedAppends;

        public override async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
        {
            // Slow enough that a release before the append would be seen.
            await Task.Delay(200, cancellationToken);
            await Inner.AppendAsync(batch, cancellationToken);
            Interlocked.Increment(ref CompletedAppends);
        }
    }

    private ValueTask<LedgerEngine> OpenWithIdAsync(UInt128 id) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Directory), ClockPulses = false, InstanceId = id });
}
