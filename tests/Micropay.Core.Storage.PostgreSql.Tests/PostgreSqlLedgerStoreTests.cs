using System.Buffers;
using Micropay.Core.Storage.Specification;
using Npgsql;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// What the conformance kit cannot see: the rows as stored, the durability settings in force on the writer's session,
/// how the store reacts to rows damaged behind its back, how snapshots are chunked and pruned, and its options.
/// </summary>
public sealed class PostgreSqlLedgerStoreTests : LedgerTestBase
{
    [Fact]
    public async Task AppendAsync_Batches_StoresEncodedBytesAndTheirHashPerRow()
    {
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(3);
        await WriteJournalAsync(ledger, batches);

        await using NpgsqlConnection connection = await TestServer.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT batch_number, bytes, hash FROM public.micropay_batches WHERE ledger = $1 ORDER BY batch_number", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = ledger });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        int row = 0;
        while (await reader.ReadAsync())
        {
            CommitBatch expected = batches[row++];
            Assert.Equal((long)expected.BatchNumber, reader.GetInt64(0));
            Assert.Equal(TestBatches.Encode(expected), reader.GetFieldValue<byte[]>(1));
            Assert.Equal(TestBatches.Hash(expected), new BatchHash(reader.GetFieldValue<byte[]>(2)));
        }

        Assert.Equal(3, row);
    }

    [Fact]
    public async Task OpenAsync_SessionWithSynchronousCommitOff_WriterSetsItBackOn()
    {
        // A role or database can set synchronous_commit=off; here the connection's startup options do. The writer's
        // session must commit durably all the same.
        var builder = new NpgsqlConnectionStringBuilder(TestServer.ConnectionString) { Options = "-c synchronous_commit=off" };
        string ledger = NewLedger();
        await using var store = new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { ConnectionString = builder.ConnectionString, LedgerName = ledger });
        await store.OpenAsync();

        Assert.Equal("on", await store.ReadWriterSettingAsync("synchronous_commit"));
        Assert.Equal("15s", await store.ReadWriterSettingAsync("idle_in_transaction_session_timeout"));
    }

    [Fact]
    public async Task OpenAsync_EachOpen_RaisesTheLedgersEpoch()
    {
        string ledger = NewLedger();
        long first;
        await using (PostgreSqlLedgerStore store = Store(ledger))
        {
            await store.OpenAsync();
            first = store.Epoch;
        }

        PostgreSqlLedgerStore second = await OpenAsync(ledger);
        Assert.Equal(first + 1, second.Epoch);
        Assert.Equal(second.Epoch, (long)(await TestServer.ScalarAsync("SELECT epoch FROM public.micropay_leases WHERE ledger = $1", ledger))!);
    }

    [Fact]
    public async Task OpenAsync_GapInTheJournal_ThrowsCorruptedAndDeletesNothing()
    {
        string ledger = NewLedger();
        await WriteJournalAsync(ledger, TestBatches.Chain(3));
        await TestServer.ExecuteAsync("DELETE FROM public.micropay_batches WHERE ledger = $1 AND batch_number = 2", ledger);

        PostgreSqlLedgerStore store = Store(ledger);
        LedgerStoreCorruptedException ex = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
        Assert.Contains("gap", ex.Reason, StringComparison.Ordinal);
        Assert.Equal(2L, await TestServer.ScalarAsync("SELECT count(*) FROM public.micropay_batches WHERE ledger = $1", ledger));
    }

    [Fact]
    public async Task OpenAsync_LastBatchBytesAltered_ThrowsCorruptedNamingIt()
    {
        string ledger = NewLedger();
        await WriteJournalAsync(ledger, TestBatches.Chain(3));
        await TestServer.ExecuteAsync("UPDATE public.micropay_batches SET bytes = set_byte(bytes, 200, get_byte(bytes, 200) # 1) WHERE ledger = $1 AND batch_number = 3", ledger);

        PostgreSqlLedgerStore store = Store(ledger);
        LedgerStoreCorruptedException ex = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
        Assert.Equal(3, ex.Offset);
        Assert.Contains("do not match its stored hash", ex.Reason, StringComparison.Ordinal);
        Assert.Contains(ledger, ex.Location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadBatchesAsync_MiddleBatchBytesAltered_ThrowsCorruptedAtThatBatch()
    {
        string ledger = NewLedger();
        await WriteJournalAsync(ledger, TestBatches.Chain(4));
        await TestServer.ExecuteAsync("UPDATE public.micropay_batches SET bytes = set_byte(bytes, 200, get_byte(bytes, 200) # 1) WHERE ledger = $1 AND batch_number = 2", ledger);

        PostgreSqlLedgerStore store = await OpenAsync(ledger); // open checks only the last two batches
        var seen = new List<ulong>();
        LedgerStoreCorruptedException ex = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () =>
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                seen.Add(batch.BatchNumber);
            }
        });

        Assert.Equal([1UL], seen);
        Assert.Equal(2, ex.Offset);
    }

    [Fact]
    public async Task ReadBatchesAsync_BatchRehashedButChainBroken_ThrowsCorrupted()
    {
        // Batch 2 replaced by a well-formed batch 2 whose hash column matches its bytes but which chains to nothing:
        // only the chain check can notice.
        string ledger = NewLedger();
        await WriteJournalAsync(ledger, TestBatches.Chain(4));
        CommitBatch forged = TestBatches.Create(2, BatchHash.Zero, 1, variant: 9);
        byte[] hash = new byte[BatchHash.Size];
        TestBatches.Hash(forged).CopyTo(hash);
        await TestServer.ExecuteAsync("UPDATE public.micropay_batches SET bytes = $2, hash = $3 WHERE ledger = $1 AND batch_number = 2", ledger, TestBatches.Encode(forged), hash);

        PostgreSqlLedgerStore store = await OpenAsync(ledger);
        LedgerStoreCorruptedException ex = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await ReadAllAsync(store));
        Assert.Equal(2, ex.Offset);
        Assert.Contains("previous batch hash", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadBatchesAsync_ManyBatchesOverSeveralPages_ReturnsThemAllInOrder()
    {
        // Pages are sized to about 4 MiB: 40 batches of 64 KiB make several pages, and small ones a large page.
        string ledger = NewLedger();
        CommitBatch[] large = TestBatches.Chain(40, eventCount: 512);
        CommitBatch[] small = TestBatches.Chain(300, TestBatches.Hash(large[^1]), firstBatchNumber: 41);
        await WriteJournalAsync(ledger, [.. large, .. small]);

        PostgreSqlLedgerStore store = await OpenAsync(ledger);
        AssertSameBatches([.. large, .. small], await ReadAllAsync(store));
        AssertSameBatches([.. large[10..], .. small], await ReadAllAsync(store, 11));
    }

    [Fact]
    public async Task ReadBatchesAsync_EnumerationAbandonedMidPage_LaterReadsAndAppendsWork()
    {
        // Breaking out of a read leaves the rest of its page to drain and its transaction to roll back; the pooled
        // connection must come back usable, again and again.
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(50, eventCount: 64);
        await WriteJournalAsync(ledger, batches);
        PostgreSqlLedgerStore store = await OpenAsync(ledger);
        for (int i = 0; i < 20; i++)
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                if (batch.BatchNumber == 3)
                {
                    break;
                }
            }
        }

        await store.AppendAsync(TestBatches.Chain(1, TestBatches.Hash(batches[^1]), firstBatchNumber: 51)[0]);
        Assert.Equal(51, (await ReadAllAsync(store)).Count);
    }

    [Fact]
    public async Task WriteSnapshotAsync_StateLargerThanAChunk_IsStoredInChunkRowsAndReadBackInThoseSegments()
    {
        string ledger = NewLedger();
        byte[] state = TestBatches.SnapshotState(2, 10_000);
        PostgreSqlLedgerStore store = await OpenAsync(ledger, snapshotChunkBytes: 4096);
        foreach (CommitBatch batch in TestBatches.Chain(2))
        {
            await store.AppendAsync(batch);
        }

        await store.WriteSnapshotAsync(2, TestBatches.InSegments(state));

        Assert.Equal(10_000L, await TestServer.ScalarAsync("SELECT length FROM public.micropay_snapshots WHERE ledger = $1 AND batch_number = 2", ledger));
        Assert.Equal(
            "0:4096,1:4096,2:1808",
            await TestServer.ScalarAsync("SELECT string_agg(chunk || ':' || length(bytes), ',' ORDER BY chunk) FROM public.micropay_snapshot_chunks WHERE ledger = $1", ledger));
        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        var lengths = new List<int>();
        foreach (ReadOnlyMemory<byte> segment in snapshot!.State)
        {
            lengths.Add(segment.Length);
        }

        Assert.Equal([4096, 4096, 1808], lengths);
        Assert.Equal(state, snapshot.State.ToArray());
    }

    [Fact]
    public async Task WriteSnapshotAsync_ManySnapshots_KeepsOnlyTheConfiguredNumber()
    {
        string ledger = NewLedger();
        PostgreSqlLedgerStore store = await OpenAsync(ledger, snapshotChunkBytes: 1024, snapshotsToKeep: 3);
        foreach (CommitBatch batch in TestBatches.Chain(6))
        {
            await store.AppendAsync(batch);
            await store.WriteSnapshotAsync(batch.BatchNumber, TestBatches.SnapshotState(batch.BatchNumber, 3000));
        }

        Assert.Equal(3L, await TestServer.ScalarAsync("SELECT count(*) FROM public.micropay_snapshots WHERE ledger = $1", ledger));
        Assert.Equal(4L, await TestServer.ScalarAsync("SELECT min(batch_number) FROM public.micropay_snapshots WHERE ledger = $1", ledger));
        Assert.Equal(4L, await TestServer.ScalarAsync("SELECT min(batch_number) FROM public.micropay_snapshot_chunks WHERE ledger = $1", ledger));
        Assert.Equal(9L, await TestServer.ScalarAsync("SELECT count(*) FROM public.micropay_snapshot_chunks WHERE ledger = $1", ledger));
    }

    [Theory]
    [InlineData("DELETE FROM public.micropay_snapshot_chunks WHERE ledger = $1 AND batch_number = 3 AND chunk = 1")]
    [InlineData("UPDATE public.micropay_snapshot_chunks SET chunk = 7 WHERE ledger = $1 AND batch_number = 3 AND chunk = 2")]
    [InlineData("INSERT INTO public.micropay_snapshot_chunks (ledger, batch_number, chunk, bytes) VALUES ($1, 3, 3, '\\x00')")]
    [InlineData("UPDATE public.micropay_snapshot_chunks SET bytes = set_byte(bytes, 5, get_byte(bytes, 5) # 1) WHERE ledger = $1 AND batch_number = 3 AND chunk = 0")]
    [InlineData("UPDATE public.micropay_snapshots SET length = length + 1 WHERE ledger = $1 AND batch_number = 3")]
    public async Task ReadLatestSnapshotAsync_LatestSnapshotsChunksDamaged_ReturnsTheOneBefore(string damage)
    {
        string ledger = NewLedger();
        byte[] older = TestBatches.SnapshotState(2, 5000);
        await using (PostgreSqlLedgerStore store = TestServer.Store(ledger, snapshotChunkBytes: 4096))
        {
            await store.OpenAsync();
            foreach (CommitBatch batch in TestBatches.Chain(3))
            {
                await store.AppendAsync(batch);
            }

            await store.WriteSnapshotAsync(2, older);
            await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3, 10_000));
        }

        await TestServer.ExecuteAsync(damage, ledger);

        PostgreSqlLedgerStore reopened = Store(ledger);
        Assert.Equal(2UL, (await reopened.OpenAsync()).LatestSnapshotBatchNumber);
        using LedgerSnapshot? snapshot = await reopened.ReadLatestSnapshotAsync();
        Assert.Equal(2UL, snapshot!.BatchNumber);
        Assert.Equal(older, snapshot.State.ToArray());
    }

    [Fact]
    public async Task AppendAsync_ConnectionKilledBeforeCommit_ThrowsAndRefusesAppendsUntilReopened()
    {
        string ledger = NewLedger();
        CommitBatch[] batches = TestBatches.Chain(3);
        await using (PostgreSqlLedgerStore store = TestServer.Store(ledger))
        {
            await store.OpenAsync();
            await store.AppendAsync(batches[0]);
            store.FailNextCommit();

            LedgerStoreException failed = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
            Assert.IsAssignableFrom<NpgsqlException>(failed.InnerException);
            Assert.Contains("may or may not be durable", failed.Message, StringComparison.Ordinal);

            LedgerStoreException refused = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
            Assert.Contains("An earlier append", refused.Message, StringComparison.Ordinal);
            Assert.Equal(1L, await TestServer.ScalarAsync("SELECT count(*) FROM public.micropay_batches WHERE ledger = $1", ledger));
        }

        PostgreSqlLedgerStore reopened = Store(ledger);
        Assert.Equal(1UL, (await reopened.OpenAsync()).LastBatchNumber);
        await reopened.AppendAsync(batches[1]);
        await reopened.AppendAsync(batches[2]);
        AssertSameBatches(batches, await ReadAllAsync(reopened));
    }

    [Fact]
    public async Task OpenAsync_CustomSchemaAndPrefix_CreatesTheTablesThere()
    {
        string schema = "mp_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await using var store = new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions
            {
                DataSource = TestServer.DataSource,
                Schema = schema,
                TablePrefix = "ledger_",
                LedgerName = "custom",
            });
            await store.OpenAsync();
            await store.AppendAsync(TestBatches.Chain(1)[0]);

            Assert.Equal(1L, await TestServer.ScalarAsync($"SELECT count(*) FROM {schema}.ledger_batches"));
            Assert.Equal(4L, await TestServer.ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema));
        }
        finally
        {
            await TestServer.ExecuteAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions()));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { ConnectionString = "Host=x", DataSource = TestServer.DataSource }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = TestServer.DataSource, Schema = "Public; DROP" }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = TestServer.DataSource, TablePrefix = "x\"" }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = TestServer.DataSource, LedgerName = string.Empty }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = TestServer.DataSource, SnapshotChunkBytes = 10 }));
        Assert.Throws<ArgumentException>(() => new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = TestServer.DataSource, SnapshotsToKeep = 0 }));
    }

    [Fact]
    public async Task WriteSnapshotAsync_MultiSegmentStateAcrossChunkBoundaries_RoundTrips()
    {
        // Segments of 1,000 bytes against chunks of 1,024: every chunk straddles two segments (the staging copy).
        string ledger = NewLedger();
        PostgreSqlLedgerStore store = await OpenAsync(ledger, snapshotChunkBytes: 1024);
        await store.AppendAsync(TestBatches.Chain(1)[0]);
        byte[] state = TestBatches.SnapshotState(1, 9_500);
        var segments = new List<ReadOnlyMemory<byte>>();
        for (int offset = 0; offset < state.Length; offset += 1000)
        {
            segments.Add(state.AsMemory(offset, Math.Min(1000, state.Length - offset)));
        }

        using (var joined = new LedgerSnapshot(0, segments))
        {
            await store.WriteSnapshotAsync(1, joined.State);
        }

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.Equal(state, snapshot!.State.ToArray());
        Assert.Equal(10, CountSegments(snapshot.State));
    }

    private static int CountSegments(ReadOnlySequence<byte> state)
    {
        int count = 0;
        foreach (ReadOnlyMemory<byte> _ in state)
        {
            count++;
        }

        return count;
    }
}
