using Micropay.Core.Storage.Specification;
using Npgsql;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// One writer per ledger: a store that opens a ledger fences every store that opened it before, whose appends (and
/// snapshots) then fail with a clear "fenced" error having written nothing, so the journal never forks.
/// </summary>
public sealed class PostgreSqlLedgerStoreFencingTests : LedgerTestBase
{
    [Fact]
    public async Task AppendAsync_AfterAnotherStoreOpenedTheLedger_ThrowsFencedAndNothingForks()
    {
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(2);
        PostgreSqlLedgerStore first = await OpenAsync(ledger);
        await first.AppendAsync(batches[0]);
        await first.AppendAsync(batches[1]);

        PostgreSqlLedgerStore second = Store(ledger);
        LedgerStoreState state = await second.OpenAsync();
        Assert.Equal(2UL, state.LastBatchNumber);
        Assert.True(second.Epoch > first.Epoch);

        // The old writer's next batch, and the new writer's different batch 3.
        CommitBatch oldThird = TestBatches.Create(3, TestBatches.Hash(batches[1]), 2, variant: 1);
        CommitBatch newThird = TestBatches.Create(3, TestBatches.Hash(batches[1]), 3, variant: 2);
        LedgerStoreException fenced = await Assert.ThrowsAsync<LedgerStoreException>(async () => await first.AppendAsync(oldThird));
        Assert.Contains($"Fenced: another writer opened ledger '{ledger}' at epoch {second.Epoch}", fenced.Message, StringComparison.Ordinal);

        await second.AppendAsync(newThird);

        // The fenced store stays fenced, whatever it tries: its next batch, or a retry of a batch the new writer holds.
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await first.AppendAsync(oldThird));
        LedgerStoreException retry = await Assert.ThrowsAsync<LedgerStoreException>(async () => await first.AppendAsync(batches[1]));
        Assert.Contains("Fenced", retry.Message, StringComparison.Ordinal);

        AssertSameBatches([batches[0], batches[1], newThird], await ReadAllAsync(second));
        await second.DisposeAsync();
        PostgreSqlLedgerStore third = Store(ledger);
        Assert.Equal(3UL, (await third.OpenAsync()).LastBatchNumber);
        AssertSameBatches([batches[0], batches[1], newThird], await ReadAllAsync(third));
    }

    // The production append is one autocommitted statement (no moment between insert and commit for a test to pause
    // in), so here the lease row is raised from the other side: a session updates it as an open does and holds it
    // uncommitted while the append's statement reaches it and waits; then commits. The statement must re-check the
    // committed row, insert nothing and report the new epoch. Without FOR NO KEY UPDATE the statement would read the old
    // row without waiting and insert; without the epoch check it would insert after the wait.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Append_LeaseRaisedWhileTheStatementWaitsForTheRow_InsertsNothingAndThrowsFenced(bool encoded)
    {
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(2);
        PostgreSqlLedgerStore store = await OpenAsync(ledger);
        await store.AppendAsync(batches[0]);
        int writer = store.WriterProcessId;

        await using NpgsqlConnection open = await TestServer.DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await open.BeginTransactionAsync();
        long newEpoch;
        await using (var raise = new NpgsqlCommand("UPDATE public.micropay_leases SET epoch = epoch + 1 WHERE ledger = $1 RETURNING epoch", open, transaction))
        {
            raise.Parameters.Add(new NpgsqlParameter { Value = ledger });
            newEpoch = (long)(await raise.ExecuteScalarAsync())!;
        }

        byte[] record = TestBatches.Encode(batches[1]);
        Task append = encoded
            ? Task.Run(() => ((IEncodedBatchAppender)store).AppendEncoded(batches[1].Header, record, record.Length, overlap: null))
            : Task.Run(async () => await store.AppendAsync(batches[1]));

        // Until the writer's statement waits for the row lock (or the append ended early, which the assertions then catch).
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (!append.IsCompleted && DateTime.UtcNow < deadline
            && await TestServer.ScalarAsync("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", writer) as string != "Lock")
        {
            await Task.Delay(10);
        }

        await transaction.CommitAsync();
        LedgerStoreException fenced = await Assert.ThrowsAsync<LedgerStoreException>(() => append);
        Assert.Contains($"Fenced: another writer opened ledger '{ledger}' at epoch {newEpoch}", fenced.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await TestServer.ScalarAsync("SELECT count(*) FROM public.micropay_batches WHERE ledger = $1", ledger));
    }

    [Fact]
    public async Task AppendAsync_RetryOfItsOwnDurableBatchAfterBeingFenced_ThrowsFenced()
    {
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(1);
        PostgreSqlLedgerStore first = await OpenAsync(ledger);
        await first.AppendAsync(batches[0]);
        await OpenAsync(ledger);

        LedgerStoreException ex = await Assert.ThrowsAsync<LedgerStoreException>(async () => await first.AppendAsync(batches[0]));
        Assert.Contains("Fenced", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteSnapshotAsync_AfterAnotherStoreOpenedTheLedger_ThrowsFencedAndStoresNothing()
    {
        string ledger = NewLedger();
        PostgreSqlLedgerStore first = await OpenAsync(ledger);
        await first.AppendAsync(TestBatches.Chain(1)[0]);
        PostgreSqlLedgerStore second = await OpenAsync(ledger);

        LedgerStoreException ex = await Assert.ThrowsAsync<LedgerStoreException>(async () => await first.WriteSnapshotAsync(1, TestBatches.SnapshotState(1)));
        Assert.Contains("Fenced", ex.InnerException?.Message ?? ex.Message, StringComparison.Ordinal);
        Assert.Null(await second.ReadLatestSnapshotAsync());
    }

    [Fact]
    public async Task OpenAsync_WhileAnAppendIsInFlight_WaitsForItAndReportsWhatItCommitted()
    {
        // An older writer's append in flight, by hand: its transaction holds the lease row (as the append statement's
        // FOR NO KEY UPDATE does) and has inserted batch 2, uncommitted. A new open must wait for that transaction and
        // then see its outcome, so it never reports a journal the old writer is still extending.
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(2);
        PostgreSqlLedgerStore old = await OpenAsync(ledger);
        await old.AppendAsync(batches[0]);

        await using NpgsqlConnection connection = await TestServer.DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO public.micropay_batches (ledger, batch_number, hash, bytes) SELECT $1, 2, $2, $3 FROM public.micropay_leases WHERE ledger = $1 AND epoch = $4 FOR NO KEY UPDATE",
            connection,
            transaction))
        {
            byte[] hash = new byte[BatchHash.Size];
            TestBatches.Hash(batches[1]).CopyTo(hash);
            insert.Parameters.Add(new NpgsqlParameter { Value = ledger });
            insert.Parameters.Add(new NpgsqlParameter { Value = hash });
            insert.Parameters.Add(new NpgsqlParameter { Value = TestBatches.Encode(batches[1]) });
            insert.Parameters.Add(new NpgsqlParameter { Value = old.Epoch });
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        PostgreSqlLedgerStore newer = Store(ledger);
        Task<LedgerStoreState> opening = newer.OpenAsync().AsTask();
        await Task.Delay(500);
        Assert.False(opening.IsCompleted, "the open did not wait for the append in flight");

        await transaction.CommitAsync();
        LedgerStoreState state = await opening.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2UL, state.LastBatchNumber);
        Assert.Equal(TestBatches.Hash(batches[1]), state.LastBatchHash);
    }

    [Fact]
    public async Task OpenAsync_WhileTheOldStoresAppendIsBetweenInsertAndCommit_WaitsAndThenIncludesIt()
    {
        // The store's own append held between its insert and its COMMIT (a writer paused there): the new open must
        // wait for it (the append holds the lease row) and then report the batch; the old writer then stays fenced.
        // Fails if the append's insert does not lock the lease row: the open would read the journal without batch 2,
        // and the old writer would commit batch 2 behind the new writer's back.
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(3);
        PostgreSqlLedgerStore old = await OpenAsync(ledger);
        await old.AppendAsync(batches[0]);
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.BeforeCommitForTests = async () =>
        {
            inFlight.SetResult();
            await release.Task;
        };
        Task appending = old.AppendAsync(batches[1]).AsTask();
        try
        {
            await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await OpenWhileInFlightAsync(ledger, old, batches, appending, release);
        }
        finally
        {
            // Whatever failed, the paused append must finish, or disposing the old store would wait for it forever.
            release.TrySetResult();
        }
    }

    private async Task OpenWhileInFlightAsync(string ledger, PostgreSqlLedgerStore old, CommitBatch[] batches, Task appending, TaskCompletionSource release)
    {

        PostgreSqlLedgerStore newer = Store(ledger);
        Task<LedgerStoreState> opening = newer.OpenAsync().AsTask();
        await Task.Delay(500);
        Assert.False(opening.IsCompleted, "the open did not wait for the append in flight");

        release.TrySetResult();
        await appending.WaitAsync(TimeSpan.FromSeconds(30)); // committed: acknowledged to the old writer's caller
        old.BeforeCommitForTests = null;
        LedgerStoreState state = await opening.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2UL, state.LastBatchNumber);
        Assert.Equal(TestBatches.Hash(batches[1]), state.LastBatchHash);

        LedgerStoreException fenced = await Assert.ThrowsAsync<LedgerStoreException>(async () => await old.AppendAsync(batches[2]));
        Assert.Contains("Fenced", fenced.Message, StringComparison.Ordinal);
        await newer.AppendAsync(batches[2]);
        AssertSameBatches(batches, await ReadAllAsync(newer));
    }

    [Fact]
    public async Task OpenAsync_SeveralLedgersInOneDatabase_EachHasItsOwnJournalAndEpoch()
    {
        string a = NewLedger();
        string b = NewLedger();
        PostgreSqlLedgerStore storeA = await OpenAsync(a);
        PostgreSqlLedgerStore storeB = await OpenAsync(b);
        CommitBatch[] chainA = TestBatches.Chain(3);
        CommitBatch[] chainB = TestBatches.Chain(2, eventCount: 4);
        foreach (CommitBatch batch in chainA)
        {
            await storeA.AppendAsync(batch);
        }

        foreach (CommitBatch batch in chainB)
        {
            await storeB.AppendAsync(batch);
        }

        // Opening b again fences b's old store only.
        PostgreSqlLedgerStore storeB2 = await OpenAsync(b);
        await storeA.AppendAsync(TestBatches.Chain(1, TestBatches.Hash(chainA[2]), firstBatchNumber: 4)[0]);
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await storeB.AppendAsync(TestBatches.Chain(1, TestBatches.Hash(chainB[1]), firstBatchNumber: 3)[0]));

        Assert.Equal(4, (await ReadAllAsync(storeA)).Count);
        AssertSameBatches(chainB, await ReadAllAsync(storeB2));
    }
}
