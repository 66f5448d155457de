using BenchmarkDotNet.Attributes;
using Micropay.Core.Ledger;

namespace ShardedLedger.Benchmarks;

/// <summary>
/// Payments per second through the sharded ledger on a local 2-silo cluster, 1, 2 and 4 shards. With 2 and 4 shards
/// every payment crosses shards (payer and payee on different shards: intent, two holds, decision, two posts, end);
/// with 1 shard nothing can cross, so the same call makes in-shard payments: the unsharded cost the others compare with.
/// One invocation is one <see cref="ShardedLedgerClient.PayAsync"/> call of <see cref="Payments"/> payments, split by the
/// client into one coordinator batch per payer shard, as an application batching its traffic would send it.
/// </summary>
[MemoryDiagnoser]
public class CrossShardBenchmarks
{
    /// <summary>Payments per invocation.</summary>
    public const int Payments = 4_000;

    private const int Customers = 64;

    private LocalCluster _cluster = null!;
    private UInt128[] _customers = [];
    private UInt128 _nextId = 1_000_000;

    /// <summary>Shards in the cluster.</summary>
    [Params(1, 2, 4)]
    public int Shards { get; set; }

    /// <summary>Starts the cluster and funds the customers generously (no payment fails for funds).</summary>
    /// <returns>A task.</returns>
    [GlobalSetup]
    public async Task SetUpAsync()
    {
        _cluster = await LocalCluster.StartAsync(await BenchmarkPostgres.ConnectionStringAsync(), Shards, silos: 2);
        _customers = Enumerable.Range(1, Customers).Select(i => (UInt128)i).ToArray();
        Check((await _cluster.Client.CreateAccountsAsync(_customers, AccountFlags.DebitsMustNotExceedCredits)).All(r => r == CreateAccountResult.Ok), "accounts");
        Check((await _cluster.Client.IssueAsync(_customers.Select((c, i) => new Payment((UInt128)(i + 1), 0, c, 1_000_000_000_000)).ToArray())).All(r => r == CreateTransferResult.Ok), "issue");
    }

    /// <summary>Stops the cluster.</summary>
    /// <returns>A task.</returns>
    [GlobalCleanup]
    public async Task CleanUpAsync() => await _cluster.DisposeAsync();

    /// <summary>One batch of payments, each checked committed.</summary>
    /// <returns>A task.</returns>
    [Benchmark(OperationsPerInvoke = Payments)]
    public async Task Pay()
    {
        var batch = new Payment[Payments];
        for (int i = 0; i < batch.Length; i++)
        {
            UInt128 payer = _customers[i % Customers];

            // The next customer on another shard when there is one (ids are consecutive, so +1 changes shard).
            UInt128 payee = _customers[(i + 1) % Customers];
            batch[i] = new Payment(_nextId++, payer, payee, 1);
        }

        PaymentOutcome[] outcomes = await _cluster.Client.PayAsync(batch);
        foreach (PaymentOutcome outcome in outcomes)
        {
            Check(outcome.Status == PaymentStatus.Committed, "payment committed");
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup or result check failed: " + what);
        }
    }
}
