using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Storage;
using Micropay.Core.Storage;
using Micropay.Core.Storage.PostgreSql;
using Npgsql;
using NpgsqlTypes;

namespace Micropay.Core.Benchmarks.PostgreSql;

/// <summary>
/// The latency of one durable append at 1, 100 and 8,189 events per batch to <see cref="PostgreSqlLedgerStore"/>
/// (through <see cref="ILedgerStore.AppendAsync"/> and through the engine's <see cref="IEncodedBatchAppender"/>), against
/// <see cref="FileLedgerStore"/> on the same machine and against what a user would write on the same server: a loop of
/// single-row <c>INSERT</c>s, committed one by one or in one transaction, and one binary <c>COPY</c> of the same bytes,
/// as one row per event or as one row holding the encoded batch.
/// </summary>
/// <remarks>
/// <para>One invocation per iteration, as in <see cref="AppendBenchmarks"/>: each iteration time is one append's (or one
/// batch's worth of SQL's) latency, and the percentile columns are of individual operations. The batches are a pre-built
/// <see cref="BatchChain"/>; when it is used up, the iteration setup (not measured) truncates the tables and opens a fresh
/// store, so no table grows past <see cref="ChainLength"/> batches and no measured append is a store's first.</para>
/// <para>The baselines write the batch's 128-byte events as <c>bytea</c> rows keyed by a <c>bigint</c>
/// (<c>events</c>, with a primary key, for the INSERT loops; <c>copy_rows</c>, without one, for COPY) or the encoded
/// batch as one row (<c>copy_batch</c>). Every statement runs with the server's <c>synchronous_commit</c> (on by default),
/// so each commit waits for its WAL flush, as the store's does. The server is <see cref="BenchmarkServer"/>'s.</para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(StorageLatencyConfig))]
[InvocationCount(1, 1)]
public class PostgreSqlAppendBenchmarks
{
    /// <summary>How many batches one store (or table) receives before the benchmark starts over on empty tables.</summary>
    public const int ChainLength = 64;

    private const string Schema = "micropay_bench";
    private const string TablePrefix = "bench_";

    private BatchChain? _chain;
    private NpgsqlDataSource? _dataSource;
    private NpgsqlConnection? _connection; // the baselines' session
    private NpgsqlCommand? _insert; // prepared: INSERT INTO events VALUES ($1, $2)
    private ILedgerStore? _store;
    private IEncodedBatchAppender? _encoded;
    private string? _directory;
    private int _next; // index in the chain of the next batch
    private long _seq; // the baselines' next row key
    private bool _started; // the current target has appended (or written) its first batch since the last start-over

    /// <summary>Events per batch: a lone payment, a small batch, and the engine's largest batch.</summary>
    [Params(1, 100, 8189)]
    public int EventsPerBatch { get; set; }

    /// <summary>Builds the chain, connects, creates the baseline tables.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _chain = BatchChain.Create(ChainLength, EventsPerBatch);
        _dataSource = NpgsqlDataSource.Create(BenchmarkServer.ConnectionString);
        _connection = _dataSource.OpenConnection();
        Execute($"""
            CREATE SCHEMA IF NOT EXISTS {Schema};
            CREATE TABLE IF NOT EXISTS {Schema}.events (seq bigint PRIMARY KEY, bytes bytea NOT NULL);
            CREATE TABLE IF NOT EXISTS {Schema}.copy_rows (seq bigint NOT NULL, bytes bytea NOT NULL);
            CREATE TABLE IF NOT EXISTS {Schema}.copy_batch (seq bigint NOT NULL, bytes bytea NOT NULL);
            """);
        _insert = new NpgsqlCommand($"INSERT INTO {Schema}.events (seq, bytes) VALUES ($1, $2)", _connection)
        {
            Parameters =
            {
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint },
                new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea },
            },
        };
        _insert.Prepare();
        _started = false;
    }

    /// <summary>Starts the SQL baselines over on empty tables when the chain is used up.</summary>
    [IterationSetup(Targets = [nameof(Insert_CommitPerEvent), nameof(Insert_OneTransactionPerBatch), nameof(BinaryCopy_RowPerEvent), nameof(BinaryCopy_RowPerBatch)])]
    public void IterationSetupSql()
    {
        if (_started && _next < ChainLength)
        {
            return;
        }

        Execute($"TRUNCATE {Schema}.events, {Schema}.copy_rows, {Schema}.copy_batch");
        _next = 0;
        _seq = 0;
        _started = true;
    }

    /// <summary>Starts <see cref="FileLedgerStore"/> over in a new directory when the chain is used up.</summary>
    [IterationSetup(Target = nameof(FileLedgerStore_Append))]
    public void IterationSetupFile() => RestartStoreIfNeeded(() =>
    {
        _directory = BatchChain.NewDirectory();
        return new FileLedgerStore(_directory);
    });

    /// <summary>Starts <see cref="PostgreSqlLedgerStore"/> over on empty tables when the chain is used up.</summary>
    [IterationSetup(Targets = [nameof(PostgreSqlLedgerStore_Append), nameof(PostgreSqlLedgerStore_AppendEncoded)])]
    public void IterationSetupPostgreSql() => RestartStoreIfNeeded(() =>
    {
        Execute($"""
            DO $$ BEGIN
              IF to_regclass('{Schema}.{TablePrefix}batches') IS NOT NULL THEN
                TRUNCATE {Schema}.{TablePrefix}batches, {Schema}.{TablePrefix}leases;
              END IF;
            END $$
            """);
        return new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions
        {
            DataSource = _dataSource,
            Schema = Schema,
            TablePrefix = TablePrefix,
            LedgerName = "bench",
        });
    });

    /// <summary>
    /// What a user would write for one durable event at a time: one prepared single-row <c>INSERT</c> per event, each its
    /// own committed transaction (autocommit: one round trip, one WAL flush). At 1 event, the reference for the store's
    /// single-event append.
    /// </summary>
    [Benchmark(Baseline = true)]
    public void Insert_CommitPerEvent()
    {
        byte[] encoded = _chain!.Encoded[_next++];
        for (int i = 0; i < EventsPerBatch; i++)
        {
            InsertEvent(encoded, i);
        }
    }

    /// <summary>The same loop inside one transaction: one commit (one WAL flush) per batch, one round trip per event.</summary>
    [Benchmark]
    public void Insert_OneTransactionPerBatch()
    {
        byte[] encoded = _chain!.Encoded[_next++];
        using NpgsqlTransaction transaction = _connection!.BeginTransaction();
        _insert!.Transaction = transaction;
        for (int i = 0; i < EventsPerBatch; i++)
        {
            InsertEvent(encoded, i);
        }

        transaction.Commit();
        _insert.Transaction = null;
    }

    /// <summary>
    /// PostgreSQL's fastest bulk load: the batch's events as rows of a table without indexes, in one binary <c>COPY</c>
    /// (its own transaction). At 8,189 events, the reference for the store's large append.
    /// </summary>
    [Benchmark]
    public void BinaryCopy_RowPerEvent()
    {
        byte[] encoded = _chain!.Encoded[_next++];
        using NpgsqlBinaryImporter importer = _connection!.BeginBinaryImport($"COPY {Schema}.copy_rows (seq, bytes) FROM STDIN (FORMAT BINARY)");
        for (int i = 0; i < EventsPerBatch; i++)
        {
            importer.StartRow();
            importer.Write(_seq++, NpgsqlDbType.Bigint);
            importer.Write(encoded.AsMemory(CommitBatchHeader.Size + (i * CommitBatch.EventSize), CommitBatch.EventSize), NpgsqlDbType.Bytea);
        }

        importer.Complete();
    }

    /// <summary>The same bytes the store writes, the encoded batch, as one row of a table without indexes, in one binary <c>COPY</c>.</summary>
    [Benchmark]
    public void BinaryCopy_RowPerBatch()
    {
        byte[] encoded = _chain!.Encoded[_next++];
        using NpgsqlBinaryImporter importer = _connection!.BeginBinaryImport($"COPY {Schema}.copy_batch (seq, bytes) FROM STDIN (FORMAT BINARY)");
        importer.StartRow();
        importer.Write(_seq++, NpgsqlDbType.Bigint);
        importer.Write(encoded.AsMemory(), NpgsqlDbType.Bytea);
        importer.Complete();
    }

    /// <summary>A durable append to <see cref="FileLedgerStore"/> on this machine's disk (framing, CRC-32C, chain check, fsync).</summary>
    [Benchmark]
    public void FileLedgerStore_Append() => BatchChain.Wait(_store!.AppendAsync(_chain!.Batches[_next++]));

    /// <summary>A durable append to <see cref="PostgreSqlLedgerStore"/> through <see cref="ILedgerStore.AppendAsync"/>.</summary>
    [Benchmark]
    public void PostgreSqlLedgerStore_Append() => BatchChain.Wait(_store!.AppendAsync(_chain!.Batches[_next++]));

    /// <summary>
    /// A durable append to <see cref="PostgreSqlLedgerStore"/> the way the engine appends, through
    /// <see cref="IEncodedBatchAppender"/> from the already encoded batch (no overlap work).
    /// </summary>
    [Benchmark]
    public void PostgreSqlLedgerStore_AppendEncoded()
    {
        int i = _next++;
        byte[] encoded = _chain!.Encoded[i];
        _encoded!.AppendEncoded(_chain.Batches[i].Header, encoded, encoded.Length, overlap: null);
    }

    /// <summary>Closes the store and the connection.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        CloseStore();
        _insert?.Dispose();
        _connection?.Dispose();
        _dataSource?.Dispose();
    }

    private void InsertEvent(byte[] encoded, int index)
    {
        ((NpgsqlParameter<long>)_insert!.Parameters[0]).TypedValue = _seq++;
        ((NpgsqlParameter<ReadOnlyMemory<byte>>)_insert.Parameters[1]).TypedValue = encoded.AsMemory(CommitBatchHeader.Size + (index * CommitBatch.EventSize), CommitBatch.EventSize);
        _insert.ExecuteNonQuery();
    }

    private void RestartStoreIfNeeded(Func<ILedgerStore> create)
    {
        if (_store is not null && _next < ChainLength)
        {
            return;
        }

        CloseStore();
        _store = BatchChain.OpenEmpty(create());
        _encoded = _store as IEncodedBatchAppender;
        if (_encoded is not null && (!_store.Capabilities.HasFlag(LedgerStoreCapabilities.EncodedAppend) || _encoded.RecordPrefixSize != 0))
        {
            // The encoded benchmark passes the chain's arrays as records: no room for a prefix.
            _encoded = null;
        }

        _next = 0;
        BatchChain.Wait(_store.AppendAsync(_chain!.Batches[_next++]));
    }

    private void CloseStore()
    {
        if (_store is not null)
        {
            BatchChain.Wait(_store.DisposeAsync());
            _store = null;
            _encoded = null;
        }

        BatchChain.DeleteDirectory(_directory);
        _directory = null;
    }

    private void Execute(string sql)
    {
        using var command = new NpgsqlCommand(sql, _connection);
        command.ExecuteNonQuery();
    }
}
