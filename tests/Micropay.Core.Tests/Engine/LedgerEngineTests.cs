using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

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
    }

    [Fact]
    public async Task OpenAsync_AfterDispose_RecoversTheDurableState()
    {
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            Account[] accounts = [Acct(1), Acct(2), Acct(3)];
            Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[3]));
            Transfer[] transfers = [Tr(10, 1, 2, 5), Tr(11, 2, 3, 4), Tr(12, 1, 99, 1)];
            var results = new CreateTransferResult[3];
            Assert.Equal(1, await engine.CreateTransfersAsync(transfers, results));
            Assert.Equal([CreateTransferResult.Ok, CreateTransferResult.Ok, CreateTransferResult.CreditAccountNotFound], results);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(2UL, reopened.ReleasedBatchNumber);
        Account[] all = reopened.ReadAllAccounts();
        Assert.Equal(3, all.Length);
        Assert.Equal((UInt128)5, all[0].DebitsPosted);
        Assert.Equal((UInt128)4, all[1].DebitsPosted);
        Assert.Equal((UInt128)5, all[1].CreditsPosted);
        Assert.Equal((UInt128)4, all[2].CreditsPosted);
        Assert.True(reopened.TryGetTransfer(11, out _));
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
        await using (LedgerEngine engine = await OpenFileEngineAsync(snapshotInterval: 3))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)));
            }

            before = engine.ReadAllAccounts();
        }

        await using (var store = new Micropay.Core.Storage.FileLedgerStore(Directory))
        {
            var state = await store.OpenAsync();
            Assert.Equal(11UL, state.LastBatchNumber);
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
            Assert.Equal(0UL, engine.LatestSnapshotBatchNumber);
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(100, 1, 2, 1)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(101, 1, 2, 1)));

            // Batch 3 made a periodic snapshot due; batch 4's release comes after the publisher wrote it.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(102, 1, 2, 1)));
            Assert.Equal(3UL, engine.LatestSnapshotBatchNumber);

            latest = await engine.TakeSnapshotAsync();
            Assert.Equal(4UL, latest);
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
