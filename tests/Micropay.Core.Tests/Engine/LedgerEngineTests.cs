using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Ledger;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

public sealed class LedgerEngineTests : EngineTestKit
{
    [Theory]
    [InlineData(DurabilityMode.InMemory)]
    [InlineData(DurabilityMode.Durable)]
    [InlineData(DurabilityMode.Buffered)]
    public async Task CreateTransferAsync_AfterCompletion_ReadsSeeTheEffect(DurabilityMode mode)
    {
        await using LedgerEngine engine = mode == DurabilityMode.InMemory ? await OpenInMemoryEngineAsync() : await OpenFileEngineAsync(mode);

        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(2)));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 7)));

        Assert.True(engine.TryGetAccount(1, out Account debit));
        Assert.Equal((UInt128)7, debit.DebitsPosted);
        Assert.True(engine.TryGetAccount(2, out Account credit));
        Assert.Equal((UInt128)7, credit.CreditsPosted);
        Assert.True(engine.TryGetTransfer(10, out Transfer transfer));
        Assert.Equal((UInt128)7, transfer.Amount);
        Assert.NotEqual(0UL, transfer.Timestamp);
        Assert.False(engine.TryGetAccount(3, out _));
        Assert.False(engine.TryGetTransfer(11, out _));
        Assert.Equal(1, engine.TransferCount);
    }

    [Fact]
    public async Task OpenAsync_AfterDispose_RecoversTheDurableState()
    {
        ulong opened;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            opened = engine.ReleasedBatchNumber;
            Account[] accounts = [Acct(1), Acct(2), Acct(3)];
            Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[3]));
            Transfer[] transfers = [Tr(10, 1, 2, 5), Tr(11, 2, 3, 4), Tr(12, 1, 99, 1)];
            var results = new CreateTransferResult[3];
            Assert.Equal(1, await engine.CreateTransfersAsync(transfers, results));
            Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.Ok, CreateTransferResult.CreditAccountNotFound], results);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(opened + 2, reopened.ReleasedBatchNumber);
        Account[] all = reopened.ReadAllAccounts();
        Assert.Equal(3, all.Length);
        Assert.Equal((UInt128)5, all[0].DebitsPosted);
        Assert.Equal((UInt128)4, all[1].DebitsPosted);
        Assert.Equal((UInt128)5, all[1].CreditsPosted);
        Assert.Equal((UInt128)4, all[2].CreditsPosted);
        Assert.True(reopened.TryGetTransfer(11, out _));

        // The failed attempt is no transfer; the recovered count is the released one.
        Assert.Equal(2, reopened.TransferCount);
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, await reopened.CreateTransferAsync(Tr(12, 1, 99, 1)));
        Assert.Equal(CreateTransferResult.Exists, await reopened.CreateTransferAsync(Tr(10, 1, 2, 5)));
    }

    [Fact]
    public async Task CreateTransferAsync_AfterDispose_ThrowsObjectDisposedException()
    {
        LedgerEngine engine = await OpenInMemoryEngineAsync();
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateTransferAsync(Tr(1, 1, 2, 1)));
    }

    [Fact]
    public async Task CreateTransferAsync_ManyConcurrentCallers_AllCompleteAndConserve()
    {
        await using LedgerEngine engine = await OpenInMemoryEngineAsync(ingressCapacity: 64);
        Account[] accounts = Enumerable.Range(1, 100).Select(i => Acct((UInt128)i)).ToArray();
        Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]));

        const int callers = 500;
        const int perCaller = 40;
        Task[] tasks = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            int caller = c;
            tasks[c] = Task.Run(async () =>
            {
                for (int i = 0; i < perCaller; i++)
                {
                    UInt128 id = (UInt128)(1000 + (caller * perCaller) + i);
                    var result = await engine.CreateTransferAsync(Tr(id, (UInt128)(1 + ((caller + i) % 100)), (UInt128)(1 + ((caller + i + 1) % 100)), 1));
                    Assert.Equal(CreateTransferResult.Ok, result);
                }
            });
        }

        await Task.WhenAll(tasks);
        Account[] all = engine.ReadAllAccounts();
        AssertConserved(all);
        UInt128 total = 0;
        foreach (Account account in all)
        {
            total += account.DebitsPosted;
        }

        Assert.Equal((UInt128)(callers * perCaller), total);
    }

    [Fact]
    public async Task TakeSnapshotAsync_ThenMoreBatches_ReopenRecoversFromSnapshotAndJournal()
    {
        Account[] before;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(11, 2, 3, 1, TransferFlags.Pending)));
            ulong snapshotBatch = await engine.TakeSnapshotAsync();
            Assert.Equal(engine.ReleasedBatchNumber, snapshotBatch);

            // After the snapshot: a post of the hold taken before it, a failure (burnt id) and a plain transfer.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(new Transfer { Id = 12, PendingId = 11, Amount = UInt128.MaxValue, Flags = TransferFlags.PostPendingTransfer }));
            Assert.Equal(CreateTransferResult.DebitAccountNotFound, await engine.CreateTransferAsync(Tr(13, 9, 2, 1)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(14, 3, 1, 2)));
            before = engine.ReadAllAccounts();
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(before, reopened.ReadAllAccounts());
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, await reopened.CreateTransferAsync(Tr(13, 9, 2, 1)));
        Assert.Equal(CreateTransferResult.PendingTransferAlreadyPosted, await reopened.CreateTransferAsync(new Transfer { Id = 15, PendingId = 11, Flags = TransferFlags.VoidPendingTransfer }));
        Assert.True(reopened.TryGetTransfer(12, out Transfer post));
        Assert.Equal((UInt128)1, post.Amount);
    }

    [Fact]
    public async Task TakeSnapshotAsync_StateLargerThanAnArray_IsWrittenInSegmentsAndRecoveredFromMappedWindows()
    {
        // Past 2 GiB the engine copies the state into segments and the file store maps it back in windows. Both limits
        // are lowered here (1 KiB arrays, 4 KiB segments and windows), so a small ledger takes that path end to end.
        var ids = new List<UInt128>();
        var options = new LedgerEngineOptions { Store = new FileLedgerStore(Directory), ClockPulses = false, SnapshotArrayLimit = 1024, SnapshotSegmentBytes = 4096 };
        ulong taken;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(options))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            for (ulong id = 100; id < 2100; id += 100)
            {
                Transfer[] batch = [.. Enumerable.Range(0, 100).Select(i => Tr(id + (ulong)i, 1 + ((ulong)i % 3), 1 + (((ulong)i + 1) % 3), 1, i % 7 == 0 ? TransferFlags.Pending : TransferFlags.None))];
                Assert.Equal(0, await engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
                ids.AddRange(batch.Select(t => t.Id));
            }

            taken = await engine.TakeSnapshotAsync();
            Assert.Null(engine.LastSnapshotError);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(5000, 1, 2, 3)));
            ids.Add(5000);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        var store = new FileLedgerStore(Directory) { MapSnapshotsFrom = 1, MapWindowBytes = 4096 };
        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = store, ClockPulses = false });
        Assert.Equal(taken, reopened.LatestSnapshotBatchNumber);
        Assert.Equal(1, store.MappedSnapshotsReturned);
        Assert.Equal(typeof(SnapshotMapping), reopened.RecoveredSnapshotOwner);
        Assert.True(reopened.TransfersIndexedFromSnapshot);
        AssertSameState(replay.Ledger, reopened, [.. ids, 999_999]);
        if (OperatingSystem.IsLinux())
        {
            Assert.DoesNotContain(Directory, File.ReadAllText("/proc/self/maps"), StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Category", "Stress")]
    public async Task TakeSnapshotAsync_PastTwoGiB_IsWrittenAndTheEngineReopensFromIt()
    {
        // 16.8M transfers make a 2.17 GB snapshot, past what one array holds: the real size, where 32-bit lengths and
        // offsets would break. Several GB of memory and disk, about a minute; the CI version is the test above.
        var options = new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory), Durability = DurabilityMode.Buffered, ClockPulses = false,
            AccountCapacity = TwoGiBWorkload.Accounts, TransferCapacity = TwoGiBWorkload.Transfers,
        };
        Account[] before;
        ulong taken;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(options))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(TwoGiBWorkload.AccountsToCreate(), new CreateAccountResult[TwoGiBWorkload.Accounts]));
            var transfers = new Transfer[TwoGiBWorkload.Batch];
            var results = new CreateTransferResult[TwoGiBWorkload.Batch];
            for (int b = 0; b < TwoGiBWorkload.Batches; b++)
            {
                TwoGiBWorkload.FillBatch(transfers, b);
                Assert.Equal(0, await engine.CreateTransfersAsync(transfers, results));
            }

            taken = await engine.TakeSnapshotAsync();
            Assert.Null(engine.LastSnapshotError);
            Assert.Equal(taken, engine.LatestSnapshotBatchNumber);
            before = engine.ReadAllAccounts();
        }

        Assert.True(new FileInfo(Path.Combine(Directory, $"snapshot-{taken:D20}.snap")).Length > Array.MaxLength);
        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Directory), ClockPulses = false });
        Assert.Equal(taken, reopened.LatestSnapshotBatchNumber);
        Assert.Equal(before, reopened.ReadAllAccounts());
        Assert.True(reopened.TryGetTransfer(1, out _));
        Assert.True(reopened.TryGetTransfer(TwoGiBWorkload.Transfers, out Transfer last));
        Assert.Equal((UInt128)TwoGiBWorkload.Transfers, last.Id);
        Assert.Equal(CreateTransferResult.Exists, await reopened.CreateTransferAsync(Tr(1, 1, 2, 1)));
    }

    [Fact]
    public async Task TakeSnapshotAsync_StateLargerThanAnArrayWithTheInMemoryStore_IsWrittenInSegmentsAndRecovered()
    {
        // Any store takes a snapshot of any size (ILedgerStore takes a sequence): past the array limit (lowered to 64
        // bytes) the engine hands the in-memory store segments, which it keeps in arrays of 1,000 bytes, not a multiple of
        // the 128-byte records, so transfer ids straddle arrays when recovery indexes the snapshot's rows.
        var first = new InMemoryLedgerStore { SnapshotSegmentBytes = 1000 };
        var ids = new List<UInt128>();
        Account[] before;
        ulong taken;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = first, ClockPulses = false, SnapshotArrayLimit = 64, SnapshotSegmentBytes = 4096 }))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            for (ulong id = 100; id < 1100; id += 100)
            {
                Transfer[] batch = [.. Enumerable.Range(0, 100).Select(i => Tr(id + (ulong)i, 1 + ((ulong)i % 3), 1 + (((ulong)i + 1) % 3), 1, i % 7 == 0 ? TransferFlags.Pending : TransferFlags.None))];
                Assert.Equal(0, await engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
                ids.AddRange(batch.Select(t => t.Id));
            }

            taken = await engine.TakeSnapshotAsync();
            Assert.Null(engine.LastSnapshotError);
            Assert.Equal(taken, engine.LatestSnapshotBatchNumber);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(5000, 1, 2, 3)));
            ids.Add(5000);
            before = engine.ReadAllAccounts();
        }

        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new InMemoryLedgerStore(first.Backing), ClockPulses = false });
        Assert.Equal(taken, reopened.LatestSnapshotBatchNumber);
        Assert.True(reopened.TransfersIndexedFromSnapshot);
        Assert.Equal(before, reopened.ReadAllAccounts());
        Assert.All(ids, id => Assert.True(reopened.TryGetTransfer(id, out Transfer found) && found.Id == id, $"transfer {id}"));
        Assert.False(reopened.TryGetTransfer(999_999, out _));
        Assert.Equal(CreateTransferResult.Exists, await reopened.CreateTransferAsync(Tr(100, 1, 2, 1, TransferFlags.Pending)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public async Task OpenAsync_FromASnapshotMappedOrRead_IndexesEveryTransferAndReleasesTheMapping(int mapSnapshotsFrom)
    {
        var ids = new List<UInt128>();
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            for (ulong id = 100; id < 2100; id += 100)
            {
                Transfer[] batch = [.. Enumerable.Range(0, 100).Select(i => Tr(id + (ulong)i, 1 + ((ulong)i % 3), 1 + (((ulong)i + 1) % 3), 1))];
                Assert.Equal(0, await engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
                ids.AddRange(batch.Select(t => t.Id));
            }

            await engine.TakeSnapshotAsync();
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(5000, 1, 2, 3)));
            ids.Add(5000);
        }

        JournalReplay replay = await ReplayJournalAsync(Directory);
        var store = new FileLedgerStore(Directory) { MapSnapshotsFrom = mapSnapshotsFrom };
        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = store });
        AssertSameState(replay.Ledger, reopened, [.. ids, 999_999]);

        // Recovery released its mapping of the snapshot file (Linux shows a process's mappings in /proc/self/maps).
        if (OperatingSystem.IsLinux())
        {
            Assert.DoesNotContain(Directory, File.ReadAllText("/proc/self/maps"), StringComparison.Ordinal);
        }

        // A transfer after reopening is indexed after the recovered ones.
        Assert.Equal(CreateTransferResult.Ok, await reopened.CreateTransferAsync(Tr(6000, 2, 3, 1)));
        Assert.True(reopened.TryGetTransfer(6000, out _));
        Assert.Equal(CreateTransferResult.Exists, await reopened.CreateTransferAsync(Tr(150, 1 + (50 % 3), 1 + (51 % 3), 1)));
    }

    [Fact]
    public async Task SnapshotIntervalBatches_WhenReached_WritesSnapshotsThatRecoveryUses()
    {
        Account[] before;
        ulong opened;
        await using (LedgerEngine engine = await OpenFileEngineAsync(snapshotInterval: 3))
        {
            opened = engine.ReleasedBatchNumber;
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)));
            }

            before = engine.ReadAllAccounts();
        }

        // The interval counts every batch applied since the open, the genesis batch included: snapshots after batches 3,
        // 6 and 9 at least (the one after the last batch may still be in flight when the engine is disposed).
        await using (var store = new Micropay.Core.Storage.FileLedgerStore(Directory))
        {
            var state = await store.OpenAsync();
            Assert.Equal(opened + 11, state.LastBatchNumber);
            Assert.True(state.LatestSnapshotBatchNumber >= 9, $"latest snapshot at batch {state.LatestSnapshotBatchNumber}");
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(before, reopened.ReadAllAccounts());
    }

    [Fact]
    public async Task LatestSnapshotBatchNumber_FollowsPeriodicAndRequestedSnapshotsAndSurvivesReopening()
    {
        ulong latest;
        await using (LedgerEngine engine = await OpenFileEngineAsync(snapshotInterval: 3))
        {
            // The genesis batch (batch 1) counts toward the interval like any batch applied since the open.
            Assert.Equal(GenesisBatches, engine.ReleasedBatchNumber);
            Assert.Equal(0UL, engine.LatestSnapshotBatchNumber);
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100, 1, 2, 1)));

            // Batch 3 made a periodic snapshot due; batch 4's release comes after the publisher wrote it.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(101, 1, 2, 1)));
            Assert.Equal(3UL, engine.LatestSnapshotBatchNumber);

            // Batch 5 is the second since that snapshot: none due, the latest stays.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(102, 1, 2, 1)));
            Assert.Equal(3UL, engine.LatestSnapshotBatchNumber);

            latest = await engine.TakeSnapshotAsync();
            Assert.Equal(5UL, latest);
            Assert.Equal(latest, engine.LatestSnapshotBatchNumber);
            Assert.Null(engine.LastSnapshotError);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(latest, reopened.LatestSnapshotBatchNumber);
    }

    [Fact]
    public async Task TakeSnapshotAsync_InMemory_ThrowsNotSupportedException()
    {
        await using LedgerEngine engine = await OpenInMemoryEngineAsync();

        Assert.Throws<NotSupportedException>(() => engine.TakeSnapshotAsync());
        Assert.Equal(0UL, engine.LatestSnapshotBatchNumber);
        Assert.Null(engine.LastSnapshotError);
    }
}
