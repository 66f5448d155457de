using BenchmarkDotNet.Attributes;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage.PostgreSql;

namespace ShardedLedger.Benchmarks;

/// <summary>
/// In-shard transfers per second: a shard grain (one call per batch of <see cref="Transfers"/> transfers, through
/// Orleans' serialization and loopback TCP from the client) against a lone <see cref="LedgerEngine"/> on the same kind
/// of store (PostgreSQL, its own ledger in the same database) given the same batch directly: the baseline, what an
/// application without Orleans would write. The ratio is what the grain layer costs per shard.
/// </summary>
[MemoryDiagnoser]
public class InShardBenchmarks
{
    /// <summary>Transfers per invocation: one engine batch.</summary>
    public const int Transfers = 8_000;

    private const int Customers = 64;

    private LocalCluster _cluster = null!;
    private LedgerEngine _lone = null!;
    private ILedgerShardGrain _shard = null!;
    private readonly CreateTransferResult[] _results = new CreateTransferResult[Transfers];
    private ulong _nextId = 1_000_000;

    /// <summary>Starts a one-shard cluster and a lone engine, each with the same customers and funds.</summary>
    /// <returns>A task.</returns>
    [GlobalSetup]
    public async Task SetUpAsync()
    {
        string connection = await BenchmarkPostgres.ConnectionStringAsync();
        _cluster = await LocalCluster.StartAsync(connection, shardCount: 1, silos: 2);
        _shard = _cluster.Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(0);
        UInt128[] customers = Enumerable.Range(1, Customers).Select(i => (UInt128)i).ToArray();
        await _cluster.Client.CreateAccountsAsync(customers, AccountFlags.None);

        _lone = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new PostgreSqlLedgerStore(connection, "bench-lone-" + Guid.NewGuid().ToString("N")),
        });
        var accounts = customers.Select(id => new Account { Id = id, LedgerId = ShardMap.LedgerId, Code = TransferCodes.CustomerAccount }).ToArray();
        if (await _lone.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]) != 0)
        {
            throw new InvalidOperationException("The lone engine's accounts were not created.");
        }
    }

    /// <summary>Stops both.</summary>
    /// <returns>A task.</returns>
    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        await _lone.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    /// <summary>The batch straight into a lone engine.</summary>
    /// <returns>A task.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Transfers)]
    public async Task LoneEngine()
    {
        Transfer[] batch = NextBatch();
        Check(await _lone.CreateTransfersAsync(batch, _results) == 0);
    }

    /// <summary>The same batch through the shard grain.</summary>
    /// <returns>A task.</returns>
    [Benchmark(OperationsPerInvoke = Transfers)]
    public async Task ShardGrain()
    {
        Transfer[] batch = NextBatch();
        CreateTransferResult[] results = await _shard.CreateTransfersAsync(Records.Encode(batch));
        Check(results.All(r => r == CreateTransferResult.Ok));
    }

    private Transfer[] NextBatch()
    {
        var batch = new Transfer[Transfers];
        for (int i = 0; i < batch.Length; i++)
        {
            batch[i] = new Transfer
            {
                Id = _nextId++,
                DebitAccountId = (UInt128)(1 + (i % Customers)),
                CreditAccountId = (UInt128)(1 + ((i + 1) % Customers)),
                Amount = 1,
                LedgerId = ShardMap.LedgerId,
                Code = TransferCodes.InShard,
            };
        }

        return batch;
    }

    private static void Check(bool ok)
    {
        if (!ok)
        {
            throw new InvalidOperationException("A benchmark transfer failed.");
        }
    }
}
