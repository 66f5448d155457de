using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Engine;
using Micropay.Core.Benchmarks.Ledger;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Baselines;

/// <summary>
/// What a thread-safe (and, for SQLite, durable) ledger service costs when a user writes it without the engine: the
/// baselines the engine's benchmarks are compared with in the same run. Every figure is per transfer (BenchmarkDotNet's
/// mean, and <c>Transfers/s</c>); <c>P50 op</c>, <c>P99 op</c>, <c>P99.9 op</c> are the latencies of individual submit
/// calls (one transfer, or one whole batch), from <see cref="OperationLatencyConfig"/>.
/// </summary>
/// <remarks>
/// <para><b><see cref="LockedDictionaryLedger"/></b> (in memory, not durable), over the shared workload
/// (<see cref="TransferWorkload"/>: 1,000,000 accounts, 999,058 transfers, uniform credit accounts), all of which one
/// invocation submits:</para>
/// <list type="bullet">
/// <item><see cref="Locked_SingleSubmit"/>: 1, 4 or 4,096 concurrent callers, each a <see cref="Task"/> on the thread
/// pool running a loop of <c>await CreateTransferAsync</c> over its share of the transfers. The baseline's tasks
/// complete synchronously, so an await never suspends: at most one caller per pool thread is ever in a call, and the
/// rest wait for a thread, not for the lock. The caller count is an <c>[Arguments]</c> value rather than
/// <c>[Params]</c>, which would multiply the other benchmarks of the class by three.</item>
/// <item><see cref="Locked_BatchSubmit"/>: one caller, 122 batches of 8,189 through <c>CreateTransfersAsync</c>.</item>
/// </list>
/// <para>The dictionaries forget their transfers before each iteration (the storage is kept, as in a long-running
/// service), so every iteration applies the same, new transfers.</para>
/// <para><b><see cref="SqliteTransferLedger"/></b> (WAL, <c>synchronous=FULL</c>: durable), over
/// <see cref="SqliteAccountCount"/> accounts (a tenth of the in-memory workload's million, so its bulk load stays
/// within the few seconds CI's dry run allows; they are the first accounts of the shared workload), new transfers
/// with random ids between uniformly chosen accounts, generated before each iteration (not measured). The database
/// lives in a new temporary directory, deleted by the global cleanup, and grows across iterations (each iteration's
/// transfers stay stored):</para>
/// <list type="bullet">
/// <item><see cref="Sqlite_TransactionPerTransfer"/>: <see cref="SqliteSingleTransfers"/> transfers per invocation, one
/// transaction (one fsync) each.</item>
/// <item><see cref="Sqlite_TransactionPerBatch"/>: <see cref="SqliteBatches"/> batches of 8,189 per invocation, one
/// transaction each. With few batches per iteration the tail percentiles rest on few samples.</item>
/// </list>
/// <para>Every measured transfer must succeed: the iteration cleanup fails the run otherwise, so no figure is that of a
/// fast failure path. Recording a latency (two clock reads and an interlocked increment) is part of the measured time,
/// as it will be for the engine.</para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(OperationLatencyConfig))]
[InvocationCount(1, 1)]
public class BaselineSubmitBenchmarks
{
    /// <summary>Accounts in the SQLite database.</summary>
    public const int SqliteAccountCount = 100_000;

    /// <summary>Transfers per invocation of <see cref="Sqlite_TransactionPerTransfer"/>: each is an fsync.</summary>
    public const int SqliteSingleTransfers = 1_000;

    /// <summary>Batches of <see cref="TransferWorkload.BatchSize"/> per invocation of <see cref="Sqlite_TransactionPerBatch"/>.</summary>
    public const int SqliteBatches = 4;

    /// <summary>Transfers per invocation of <see cref="Sqlite_TransactionPerBatch"/>.</summary>
    public const int SqliteBatchTransfers = SqliteBatches * TransferWorkload.BatchSize;

    private readonly LatencyHistogram _latency = new();
    private readonly CreateTransferResult[] _results = new CreateTransferResult[TransferWorkload.BatchSize];
    private Transfer[] _transfers = [];
    private LockedDictionaryLedger? _locked;
    private SqliteTransferLedger? _sqlite;
    private string? _sqliteDirectory;
    private UInt128[] _sqliteAccounts = [];
    private Random _sqliteRandom = new(0);
    private int _failed;

    // Which benchmark and arguments ran, for the latency log's key; set by each benchmark method.
    private string _method = "";
    private object?[] _arguments = [];

    /// <summary>Builds the workload and the locked dictionary ledger with its million accounts.</summary>
    [GlobalSetup(Targets = new[] { nameof(Locked_SingleSubmit), nameof(Locked_BatchSubmit) })]
    public void GlobalSetupLocked()
    {
        Account[] accounts = TransferWorkload.CreateAccounts();
        (int[] debit, int[] credit) = TransferWorkload.CreateAccountPairs(CreditDistribution.Uniform);
        _transfers = [.. TransferWorkload.CreateBatches(accounts, debit, credit).SelectMany(batch => batch)];
        _locked = new LockedDictionaryLedger(TransferWorkload.AccountCount, TransferWorkload.TransferCount);
        CreateAccountResult[] results = new CreateAccountResult[accounts.Length];
        if (Wait(_locked.CreateAccountsAsync(accounts, results)) != 0)
        {
            throw new InvalidOperationException("The locked dictionary ledger refused some of the benchmark's accounts.");
        }
    }

    /// <summary>Creates the SQLite database in a new temporary directory and loads its accounts.</summary>
    [GlobalSetup(Targets = new[] { nameof(Sqlite_TransactionPerTransfer), nameof(Sqlite_TransactionPerBatch) })]
    public void GlobalSetupSqlite()
    {
        Account[] accounts = TransferWorkload.CreateAccounts()[..SqliteAccountCount];
        _sqliteAccounts = [.. accounts.Select(a => a.Id)];

        // In the table's key order (signed halves), so the load appends to the B-tree instead of splitting it everywhere.
        Array.Sort(accounts, static (a, b) =>
            ((long)(ulong)(a.Id >> 64), (long)(ulong)a.Id).CompareTo(((long)(ulong)(b.Id >> 64), (long)(ulong)b.Id)));
        _sqliteDirectory = Path.Combine(Path.GetTempPath(), "micropay-baseline-sqlite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_sqliteDirectory);
        _sqlite = new SqliteTransferLedger(Path.Combine(_sqliteDirectory, "ledger.db"));
        if (_sqlite.CreateAccounts(accounts, new CreateAccountResult[accounts.Length]) != 0)
        {
            throw new InvalidOperationException("SQLite refused some of the benchmark's accounts.");
        }

        // Without this, the first measured commits would checkpoint the whole load (seconds, not microseconds).
        _sqlite.Checkpoint();

        _sqliteRandom = new Random(20_250_102); // fixed: runs are comparable, and a failure reproduces
    }

    /// <summary>Forgets the transfers of the last iteration, so the same transfers are new again.</summary>
    [IterationSetup(Targets = new[] { nameof(Locked_SingleSubmit), nameof(Locked_BatchSubmit) })]
    public void IterationSetupLocked()
    {
        _locked!.ClearTransfers();
        StartIteration();
    }

    /// <summary>Generates the next <see cref="SqliteSingleTransfers"/> new transfers.</summary>
    [IterationSetup(Target = nameof(Sqlite_TransactionPerTransfer))]
    public void IterationSetupSqliteSingle()
    {
        GenerateSqliteTransfers(SqliteSingleTransfers);
        StartIteration();
    }

    /// <summary>Generates the next <see cref="SqliteBatchTransfers"/> new transfers.</summary>
    [IterationSetup(Target = nameof(Sqlite_TransactionPerBatch))]
    public void IterationSetupSqliteBatch()
    {
        GenerateSqliteTransfers(SqliteBatchTransfers);
        StartIteration();
    }

    /// <summary>Fails the run if a measured transfer was refused, and logs the iteration's latencies for the summary columns.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} transfers failed during {_method}; the benchmark must measure the success path.");
        }

        LatencyLog.AppendIteration(_latency, this, _method, _arguments);
    }

    /// <summary>Closes SQLite and deletes its directory.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _sqlite?.Dispose();
        _sqlite = null;
        if (_sqliteDirectory is not null && Directory.Exists(_sqliteDirectory))
        {
            Directory.Delete(_sqliteDirectory, recursive: true);
        }

        _sqliteDirectory = null;
        _locked = null;
        _transfers = [];
    }

    /// <summary>Single submits from <paramref name="callers"/> concurrent async callers, under one lock per call.</summary>
    /// <param name="callers">Concurrent callers, each with its own task and share of the transfers.</param>
    /// <returns>A task that completes when every caller has submitted its share.</returns>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    [Arguments(1)]
    [Arguments(4)]
    [Arguments(4096)]
    public Task Locked_SingleSubmit(int callers)
    {
        _method = nameof(Locked_SingleSubmit);
        _arguments = [callers];
        Task[] tasks = new Task[callers];
        int count = _transfers.Length;
        for (int c = 0; c < callers; c++)
        {
            int from = (int)((long)count * c / callers);
            int to = (int)((long)count * (c + 1) / callers);

            // Task.Run: each caller on the thread pool, as a service's request handlers would be; a plain call would run
            // every loop to completion here, one after another, since the baseline's awaits complete synchronously.
            tasks[c] = Task.Run(() => SingleSubmitCaller(from, to));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Batches of 8,189 from one caller, under one lock per batch.</summary>
    /// <returns>A task that completes when every batch has been submitted.</returns>
    [Benchmark(OperationsPerInvoke = TransferWorkload.TransferCount)]
    public async Task Locked_BatchSubmit()
    {
        _method = nameof(Locked_BatchSubmit);
        _arguments = [];
        LockedDictionaryLedger ledger = _locked!;
        int failed = 0;
        for (int start = 0; start < _transfers.Length; start += TransferWorkload.BatchSize)
        {
            long began = Stopwatch.GetTimestamp();
            failed += await ledger.CreateTransfersAsync(_transfers.AsMemory(start, TransferWorkload.BatchSize), _results);
            _latency.RecordSince(began);
        }

        _failed += failed;
    }

    /// <summary>SQLite, one durable transaction per transfer.</summary>
    [Benchmark(OperationsPerInvoke = SqliteSingleTransfers)]
    public void Sqlite_TransactionPerTransfer()
    {
        _method = nameof(Sqlite_TransactionPerTransfer);
        _arguments = [];
        SqliteTransferLedger sqlite = _sqlite!;
        Transfer[] transfers = _transfers;
        int failed = 0;
        for (int i = 0; i < transfers.Length; i++)
        {
            long began = Stopwatch.GetTimestamp();
            CreateTransferResult result = sqlite.CreateTransfer(transfers[i]);
            _latency.RecordSince(began);
            failed += result == CreateTransferResult.Ok ? 0 : 1;
        }

        _failed += failed;
    }

    /// <summary>SQLite, one durable transaction per batch of 8,189 transfers.</summary>
    [Benchmark(OperationsPerInvoke = SqliteBatchTransfers)]
    public void Sqlite_TransactionPerBatch()
    {
        _method = nameof(Sqlite_TransactionPerBatch);
        _arguments = [];
        SqliteTransferLedger sqlite = _sqlite!;
        int failed = 0;
        for (int start = 0; start < _transfers.Length; start += TransferWorkload.BatchSize)
        {
            long began = Stopwatch.GetTimestamp();
            failed += sqlite.CreateTransfers(_transfers.AsSpan(start, TransferWorkload.BatchSize), _results);
            _latency.RecordSince(began);
        }

        _failed += failed;
    }

    private async Task SingleSubmitCaller(int from, int to)
    {
        LockedDictionaryLedger ledger = _locked!;
        Transfer[] transfers = _transfers;
        LatencyHistogram latency = _latency;
        int failed = 0;
        for (int i = from; i < to; i++)
        {
            long began = Stopwatch.GetTimestamp();
            CreateTransferResult result = await ledger.CreateTransferAsync(transfers[i]);
            latency.RecordSince(began);
            failed += result == CreateTransferResult.Ok ? 0 : 1;
        }

        if (failed != 0)
        {
            Interlocked.Add(ref _failed, failed);
        }
    }

    private void StartIteration()
    {
        _latency.Reset();
        _failed = 0;
    }

    /// <summary>New transfers for SQLite: random ids, uniformly chosen distinct accounts, amount 1 to 100.</summary>
    private void GenerateSqliteTransfers(int count)
    {
        Random random = _sqliteRandom;
        Transfer[] transfers = _transfers.Length == count ? _transfers : new Transfer[count];
        for (int i = 0; i < count; i++)
        {
            int debit = random.Next(_sqliteAccounts.Length);
            int credit;
            do
            {
                credit = random.Next(_sqliteAccounts.Length);
            }
            while (credit == debit);

            transfers[i] = new Transfer
            {
                // 126 random bits (the top bit set keeps it nonzero): a collision with an earlier transfer is out of reach.
                Id = new UInt128((ulong)random.NextInt64() | 1UL << 63, (ulong)random.NextInt64()),
                DebitAccountId = _sqliteAccounts[debit],
                CreditAccountId = _sqliteAccounts[credit],
                Amount = (UInt128)(ulong)random.Next(1, 101),
                LedgerId = TransferWorkload.LedgerId,
                Code = 1,
            };
        }

        _transfers = transfers;
    }

    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
