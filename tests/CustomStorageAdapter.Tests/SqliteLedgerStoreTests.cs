using System.Buffers;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using Microsoft.Data.Sqlite;

namespace CustomStorageAdapter.Tests;

/// <summary>
/// What the conformance kit cannot see: that the SQLite settings the durability contract rests on are really in
/// force, how the rows look, and how the adapter reacts to a database damaged behind its back.
/// </summary>
public sealed class SqliteLedgerStoreTests : IDisposable
{
    private readonly string _directory = TestJournal.NewDirectory();

    private string DatabasePath => Path.Combine(_directory, "ledger.db");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task OpenAsync_NewDatabase_WriterUsesWalAndSynchronousFull()
    {
        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync();

        Assert.Equal("wal", store.ReadWriterPragma("journal_mode") as string, ignoreCase: true);
        Assert.Equal(2L, store.ReadWriterPragma("synchronous")); // 2 = FULL
    }

    [Fact]
    public async Task OpenAsync_NewDatabase_WalModeIsPersistedInTheFile()
    {
        await using (var store = new SqliteLedgerStore(DatabasePath))
        {
            await store.OpenAsync();
        }

        // journal_mode=WAL is a property of the database file: any later connection sees it.
        await using SqliteConnection connection = OpenRaw();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode") as string, ignoreCase: true);
    }

    [Fact]
    public async Task AppendAsync_Batches_StoresEncodedBytesAndTheirHashPerRow()
    {
        List<CommitBatch> batches = TestJournal.Batches(3);
        await using (var store = new SqliteLedgerStore(DatabasePath))
        {
            await store.OpenAsync();
            foreach (CommitBatch batch in batches)
            {
                await store.AppendAsync(batch);
            }
        }

        await using SqliteConnection connection = OpenRaw();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT number, bytes, hash FROM batches ORDER BY number";
        using SqliteDataReader reader = command.ExecuteReader();
        int row = 0;
        while (reader.Read())
        {
            CommitBatch expected = batches[row++];
            Assert.Equal((long)expected.BatchNumber, reader.GetInt64(0));
            Assert.Equal(TestJournal.Encode(expected), reader.GetFieldValue<byte[]>(1));
            Assert.Equal(TestJournal.Hash(expected), new BatchHash(reader.GetFieldValue<byte[]>(2)));
        }

        Assert.Equal(3, row);
    }

    [Fact]
    public async Task OpenAsync_WhileAnotherStoreHoldsTheDatabase_ThrowsLedgerStoreException()
    {
        await using var first = new SqliteLedgerStore(DatabasePath);
        await first.OpenAsync();

        await using var second = new SqliteLedgerStore(DatabasePath);
        await Assert.ThrowsAsync<LedgerStoreException>(async () => await second.OpenAsync());
    }

    [Fact]
    public async Task OpenAsync_AfterTheHolderIsDisposed_Succeeds()
    {
        await using (var first = new SqliteLedgerStore(DatabasePath))
        {
            await first.OpenAsync();
            await first.AppendAsync(TestJournal.Batches(1)[0]);
        }

        await using var second = new SqliteLedgerStore(DatabasePath);
        LedgerStoreState state = await second.OpenAsync();
        Assert.Equal(1UL, state.LastBatchNumber);
    }

    [Fact]
    public async Task OpenAsync_GapInTheJournal_ThrowsCorruptedAndDeletesNothing()
    {
        await WriteJournalAsync(3);
        Execute("DELETE FROM batches WHERE number = 2");

        await using var store = new SqliteLedgerStore(DatabasePath);
        await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());

        await using SqliteConnection connection = OpenRaw();
        Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM batches"));
    }

    [Fact]
    public async Task OpenAsync_LastBatchBytesAltered_ThrowsCorrupted()
    {
        await WriteJournalAsync(3);
        Execute("UPDATE batches SET bytes = zeroblob(length(bytes)) WHERE number = 3");

        await using var store = new SqliteLedgerStore(DatabasePath);
        LedgerStoreCorruptedException ex = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
        Assert.Equal(3, ex.Offset);
    }

    [Fact]
    public async Task ReadBatchesAsync_MiddleBatchBytesAltered_ThrowsCorruptedAtThatBatch()
    {
        await WriteJournalAsync(3);
        Execute("UPDATE batches SET bytes = zeroblob(length(bytes)) WHERE number = 2");

        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync(); // the last batch is intact: open checks only the tail
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
        // Replace batch 2 with a well-formed batch 2 whose hash column matches its bytes but which chains to
        // nothing: only the chain check can notice.
        await WriteJournalAsync(3);
        var forged = new CommitBatch(
            new CommitBatchHeader(2, BatchOperation.CreateAccounts, 1, 0, BatchHash.Zero, BatchHash.Zero),
            ReadOnlyMemory<byte>.Empty);
        byte[] bytes = TestJournal.Encode(forged);
        byte[] hash = new byte[BatchHash.Size];
        TestJournal.Hash(forged).CopyTo(hash);
        await using (SqliteConnection connection = OpenRaw())
        {
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "UPDATE batches SET bytes = $bytes, hash = $hash WHERE number = 2";
            command.Parameters.AddWithValue("$bytes", bytes);
            command.Parameters.AddWithValue("$hash", hash);
            command.ExecuteNonQuery();
        }

        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync();
        await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () =>
        {
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
            }
        });
    }

    [Fact]
    public async Task OpenAsync_FileIsNotADatabase_ThrowsCorrupted()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllBytesAsync(DatabasePath, new byte[8192].Select((_, i) => unchecked((byte)(i * 7))).ToArray());

        await using var store = new SqliteLedgerStore(DatabasePath);
        await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
    }

    [Fact]
    public async Task ReadLatestSnapshotAsync_LatestSnapshotDamaged_ReturnsTheOneBefore()
    {
        await using (var store = new SqliteLedgerStore(DatabasePath))
        {
            await store.OpenAsync();
            foreach (CommitBatch batch in TestJournal.Batches(3))
            {
                await store.AppendAsync(batch);
            }

            await store.WriteSnapshotAsync(2, new byte[] { 2, 2 });
            await store.WriteSnapshotAsync(3, new byte[] { 3, 3 });
        }

        Execute("UPDATE snapshot_chunks SET bytes = x'0303FF' WHERE batch_number = 3");

        await using var reopened = new SqliteLedgerStore(DatabasePath);
        LedgerStoreState state = await reopened.OpenAsync();
        using LedgerSnapshot? snapshot = await reopened.ReadLatestSnapshotAsync();

        Assert.Equal(2UL, state.LatestSnapshotBatchNumber);
        Assert.NotNull(snapshot);
        Assert.Equal(2UL, snapshot.BatchNumber);
        Assert.Equal(new byte[] { 2, 2 }, snapshot.State.ToArray());
    }

    [Theory]
    [InlineData("DELETE FROM snapshot_chunks WHERE batch_number = 3 AND chunk = 1")]
    [InlineData("UPDATE snapshot_chunks SET chunk = 7 WHERE batch_number = 3 AND chunk = 2")]
    [InlineData("INSERT INTO snapshot_chunks (batch_number, chunk, bytes) VALUES (3, 3, x'00')")]
    [InlineData("UPDATE snapshots SET length = length + 1 WHERE batch_number = 3")]
    public async Task ReadLatestSnapshotAsync_LatestSnapshotsChunksDamaged_ReturnsTheOneBefore(string damage)
    {
        byte[] older = TestBatches.SnapshotState(2, 5000);
        await using (var store = new SqliteLedgerStore(DatabasePath) { SnapshotChunkBytes = 4096 })
        {
            await store.OpenAsync();
            foreach (CommitBatch batch in TestJournal.Batches(3))
            {
                await store.AppendAsync(batch);
            }

            await store.WriteSnapshotAsync(2, older);
            await store.WriteSnapshotAsync(3, TestBatches.SnapshotState(3, 10_000));
        }

        Execute(damage);

        await using var reopened = new SqliteLedgerStore(DatabasePath);
        Assert.Equal(2UL, (await reopened.OpenAsync()).LatestSnapshotBatchNumber);
        using LedgerSnapshot? snapshot = await reopened.ReadLatestSnapshotAsync();
        Assert.Equal(2UL, snapshot!.BatchNumber);
        Assert.Equal(older, snapshot.State.ToArray());
    }

    [Fact]
    public async Task WriteSnapshotAsync_StateLargerThanAChunk_IsStoredInChunkRowsAndReadBackInThoseSegments()
    {
        // A snapshot is never one blob (SQLite holds at most 1 GB in a value; a ledger's state may pass 2 GiB): here
        // chunks of 4 KiB, written from uneven segments whose boundaries fall anywhere.
        byte[] state = TestBatches.SnapshotState(2, 10_000);
        await using var store = new SqliteLedgerStore(DatabasePath) { SnapshotChunkBytes = 4096 };
        await store.OpenAsync();
        foreach (CommitBatch batch in TestJournal.Batches(2))
        {
            await store.AppendAsync(batch);
        }

        await store.WriteSnapshotAsync(2, TestBatches.InSegments(state));

        await using (SqliteConnection connection = OpenRaw())
        {
            Assert.Equal(10_000L, Scalar(connection, "SELECT length FROM snapshots WHERE batch_number = 2"));
            Assert.Equal("0:4096,1:4096,2:1808", Scalar(connection, "SELECT group_concat(chunk || ':' || length(bytes), ',') FROM (SELECT * FROM snapshot_chunks ORDER BY chunk)"));
        }

        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.Equal([4096, 4096, 1808], Lengths(snapshot!.State));
        Assert.Equal(state, snapshot.State.ToArray());
    }

    [Fact]
    public async Task WriteSnapshotAsync_ManySnapshots_KeepsOnlyTheLatestTwo()
    {
        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync();
        foreach (CommitBatch batch in TestJournal.Batches(5))
        {
            await store.AppendAsync(batch);
            await store.WriteSnapshotAsync(batch.BatchNumber, new byte[] { (byte)batch.BatchNumber });
        }

        await using SqliteConnection connection = OpenRaw();
        Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM snapshots"));
        Assert.Equal(4L, Scalar(connection, "SELECT MIN(batch_number) FROM snapshots"));
        Assert.Equal(4L, Scalar(connection, "SELECT MIN(batch_number) FROM snapshot_chunks"));
        Assert.Equal(2L, Scalar(connection, "SELECT COUNT(*) FROM snapshot_chunks"));
    }

    [Fact]
    public async Task AppendAsync_CommitFails_ThrowsWithTheSqliteErrorAndRefusesAppendsUntilReopened()
    {
        List<CommitBatch> batches = TestJournal.Batches(3);
        await using (var store = new SqliteLedgerStore(DatabasePath))
        {
            await store.OpenAsync();
            await store.AppendAsync(batches[0]);
            store.FailNextCommit();

            LedgerStoreException failed = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
            SqliteException cause = Assert.IsType<SqliteException>(failed.InnerException);
            Assert.Equal(531, cause.SqliteExtendedErrorCode); // SQLITE_CONSTRAINT_COMMITHOOK: COMMIT became ROLLBACK

            // Whatever the database now says, this instance no longer appends; the rolled-back row is not there.
            await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.AppendAsync(batches[1]));
            await using SqliteConnection connection = OpenRaw();
            Assert.Equal(1L, Scalar(connection, "SELECT COUNT(*) FROM batches"));
        }

        await using var reopened = new SqliteLedgerStore(DatabasePath);
        Assert.Equal(1UL, (await reopened.OpenAsync()).LastBatchNumber);
        await reopened.AppendAsync(batches[1]);
        await reopened.AppendAsync(batches[2]);
        var read = new List<ulong>();
        await foreach (CommitBatch batch in reopened.ReadBatchesAsync(1))
        {
            read.Add(batch.BatchNumber);
        }

        Assert.Equal([1UL, 2UL, 3UL], read);
    }

    [Fact]
    public async Task ReadBatchesAsync_WhileAppending_SeesTheJournalAsOfItsStart()
    {
        List<CommitBatch> batches = TestJournal.Batches(6);
        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync();
        for (int i = 0; i < 3; i++)
        {
            await store.AppendAsync(batches[i]);
        }

        var seen = new List<ulong>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            seen.Add(batch.BatchNumber);
            if (batch.BatchNumber == 1)
            {
                // Appends go on while the reader is open (WAL); the reader's view was fixed when it started.
                for (int i = 3; i < 6; i++)
                {
                    await store.AppendAsync(batches[i]);
                }
            }
        }

        Assert.Equal([1UL, 2UL, 3UL], seen);
    }

    private async Task WriteJournalAsync(int count)
    {
        await using var store = new SqliteLedgerStore(DatabasePath);
        await store.OpenAsync();
        foreach (CommitBatch batch in TestJournal.Batches(count))
        {
            await store.AppendAsync(batch);
        }
    }

    private static List<int> Lengths(ReadOnlySequence<byte> state)
    {
        var lengths = new List<int>();
        foreach (ReadOnlyMemory<byte> segment in state)
        {
            lengths.Add(segment.Length);
        }

        return lengths;
    }

    private SqliteConnection OpenRaw()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private void Execute(string sql)
    {
        using SqliteConnection connection = OpenRaw();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
