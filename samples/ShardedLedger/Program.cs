// ShardedLedger: accounts partitioned across ledger shards on an Orleans cluster, cross-shard payments as two-phase
// holds driven by a coordinator that journals before it acts, and recovery after a silo dies mid-payment.
//
// Run it: dotnet run --project samples/ShardedLedger -c Release
// It uses the PostgreSQL server named by MICROPAY_PG_CONNECTION, or starts a throwaway one on 127.0.0.1 (pg.sh) and
// stops it at the end. Every result is checked: any failed check makes it exit with code 1.
//
// The story: 4 shards on 2 silos, 40 customers, rounds of random payments (about a quarter within a shard, the rest
// across shards, one in ten too large for the payer so it aborts). A batch is retried and moves nothing twice. Then two batches stop
// mid-payment, as if their coordinator died there: one after placing its holds (no decision yet), one after deciding to
// commit; the silo running their coordinator is killed. Its shards move to the surviving silo (the PostgreSQL store's
// fencing epoch goes up: the dead activations can never append again), recovery voids the undecided payments and posts
// the committed ones, traffic goes on, and the books are checked across shards.

using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Ledger;
using ShardedLedger;

const int Shards = 4;
const int Customers = 40;
const int Rounds = 10;
const int PaymentsPerRound = 100;
const long StartingBalance = 100_000;

var clock = Stopwatch.StartNew();
var random = new Random(2026);
UInt128 nextPaymentId = 1;
var stalledAfterHolds = new PaymentIdRange(900_000, 900_100);
var stalledAfterDecision = new PaymentIdRange(900_100, 900_200);

// Customers: ids 1..40, so account a lives on shard a mod 4. A customer cannot spend more than it holds.
UInt128[] customers = Enumerable.Range(1, Customers).Select(i => (UInt128)i).ToArray();
int committed = 0, aborted = 0, crossShard = 0;

LocalPostgres? postgres = null;
LocalCluster? cluster = null;
try
{
    postgres = await LocalPostgres.StartAsync();
    Step(postgres.Started ? "Started a throwaway PostgreSQL on 127.0.0.1." : "Using the PostgreSQL server in MICROPAY_PG_CONNECTION.");
    cluster = await LocalCluster.StartAsync(postgres.ConnectionString, Shards, silos: 2, stallAfterHolds: stalledAfterHolds, stallAfterDecision: stalledAfterDecision);
    ShardedLedgerClient client = cluster.Client;
    Step($"Cluster '{cluster.Settings.Cluster}': {Shards} shards on {cluster.Cluster.Silos.Count} silos.");

    Expect((await client.CreateAccountsAsync(customers, AccountFlags.DebitsMustNotExceedCredits)).All(r => r == CreateAccountResult.Ok), true, "customers created");
    Payment[] issues = customers.Select(c => new Payment(NextId(), 0, c, StartingBalance)).ToArray();
    Expect((await client.IssueAsync(issues)).All(r => r == CreateTransferResult.Ok), true, "starting balances issued");
    Step($"{Customers} customers, {StartingBalance:N0} issued to each by its shard's treasury.");

    Payment[] lastBatch = [];
    PaymentOutcome[] lastOutcomes = [];
    for (int round = 0; round < Rounds; round++)
    {
        lastBatch = RandomPayments(PaymentsPerRound);
        lastOutcomes = await client.PayAsync(lastBatch);
        Tally(lastBatch, lastOutcomes);
    }

    Step($"{Rounds * PaymentsPerRound:N0} payments ({crossShard:N0} cross-shard): {committed:N0} committed, {aborted:N0} aborted (payer short of funds).");
    Expect(aborted > 0 && committed > 0, true, "both outcomes seen");

    // A retry of the last batch (the reply was lost): every payment answers as before, and no money moves. (A failed
    // in-shard payment's retry says IdAlreadyFailed: the ledger burns the id of a failed transfer but keeps no reason.)
    Account[][] before = await client.ReadAccountsAsync();
    PaymentOutcome[] retried = await client.PayAsync(lastBatch);
    Expect(retried.Select(o => o.Status).SequenceEqual(lastOutcomes.Select(o => o.Status)), true, "a retried batch answers as the first time");
    Expect(Same(before, await client.ReadAccountsAsync()), true, "a retried batch moves nothing");
    Step("Retried the last batch: the same outcomes, no balance changed.");

    // Two batches stop mid-payment on a coordinator running on the secondary silo, which is then killed.
    (long coordinator, Orleans.TestingHost.SiloHandle victim) = await cluster.CoordinatorOnSecondaryAsync(1_000);
    IPaymentCoordinatorGrain doomed = cluster.Cluster.GrainFactory.GetGrain<IPaymentCoordinatorGrain>(coordinator);
    Payment[] afterHolds = CrossShardPayments(stalledAfterHolds.First, 20);
    Payment[] afterDecision = CrossShardPayments(stalledAfterDecision.First, 20);
    Task<PaymentOutcome[]> lost1 = doomed.PayAsync(afterHolds);
    Task<PaymentOutcome[]> lost2 = doomed.PayAsync(afterDecision);
    await WaitForJournal(afterHolds.Length + afterDecision.Length);
    await cluster.PlaceShardOnAsync(0, victim); // so the kill always takes at least one shard down with it
    ActivationInfo[] shardsBefore = await ShardActivations();
    bool[] onVictim = shardsBefore.Select(a => cluster.SiloOf(a) == victim).ToArray();
    Expect(onVictim.Any(v => v), true, "a shard runs on the silo about to be killed");
    await cluster.KillAsync(victim);
    Step($"Coordinator {coordinator} stopped 20 payments after their holds and 20 after their commit decision; killed its silo.");

    // The next call to that coordinator activates it on the surviving silo, and activation runs recovery.
    int recovered = await LocalCluster.RetryAfterFailoverAsync(() => client.RecoverAsync([coordinator]));
    _ = Task.WhenAll(Quietly(lost1), Quietly(lost2)); // their callers get an error in time: the outcome is the journal's
    ActivationInfo[] shardsAfter = await LocalCluster.RetryAfterFailoverAsync(ShardActivations);

    // Every shard that ran on the dead silo now runs on the survivor under a higher fencing epoch: the dead activation's
    // engine, still running in this process, can never append to it again.
    int movedShards = onVictim.Count(v => v);
    for (int s = 0; s < Shards; s++)
    {
        Expect(cluster.SiloOf(shardsAfter[s]) is { } silo && silo != victim, true, $"shard {s} runs on a live silo");
        Expect(shardsAfter[s].Epoch > shardsBefore[s].Epoch, onVictim[s], $"shard {s}'s epoch went up (it ran on the dead silo: {onVictim[s]})");
    }

    Step($"Recovery resolved {recovered} in-doubt payments; the {movedShards} shard(s) of the dead silo taken over by the survivor (fencing epoch up).");

    // Traffic goes on on the one silo left.
    for (int round = 0; round < 3; round++)
    {
        Payment[] batch = RandomPayments(PaymentsPerRound);
        Tally(batch, await client.PayAsync(batch));
    }

    ConservationReport report = await client.AuditAsync(cluster.Journal);
    Console.WriteLine("    " + report);
    Expect(report.Holds, true, "the books hold across shards");
    Expect(report.CustomerTotal, (Int128)(Customers * StartingBalance), "customers hold what was issued");
    JournalRow[] journal = await cluster.Journal.ReadAllAsync();
    Expect(journal.Where(r => stalledAfterHolds.Contains(r.Payment.Id)).All(r => r.State == JournalState.Aborted), true, "payments stopped before their decision are aborted");
    Expect(journal.Where(r => stalledAfterDecision.Contains(r.Payment.Id)).All(r => r.State == JournalState.Committed), true, "payments stopped after a commit decision are committed");
    Step($"Books checked across {Shards} shards: money conserved, bridges net to 0, nothing pending, nothing in doubt.");
    return 0;
}
catch (UnexpectedResultException e)
{
    Console.Error.WriteLine("FAILED: " + e.Message);
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine("FAILED: " + e);
    return 1;
}
finally
{
    if (cluster is not null)
    {
        try
        {
            await cluster.DisposeAsync();
        }
        catch (Exception e)
        {
            // The killed silo's leftovers may complain on the way out; the checks above are what count.
            Console.Error.WriteLine("note: cluster shutdown: " + e.GetType().Name);
        }
    }

    if (postgres is not null)
    {
        await postgres.DisposeAsync();
    }
}

UInt128 NextId() => nextPaymentId++;

Payment[] RandomPayments(int count)
{
    var batch = new Payment[count];
    for (int i = 0; i < count; i++)
    {
        UInt128 payer = customers[random.Next(Customers)];
        UInt128 payee;
        do
        {
            payee = customers[random.Next(Customers)];
        }
        while (payee == payer);

        // Mostly small; one in ten larger than any customer can hold, so it aborts on the payer's limit.
        long amount = random.Next(10) == 0 ? StartingBalance * Customers : random.Next(1, 5_000);
        batch[i] = new Payment(NextId(), payer, payee, (UInt128)amount);
    }

    return batch;
}

// Cross-shard payments from a range of ids, each of 1 unit (always affordable), payer and payee on different shards.
Payment[] CrossShardPayments(UInt128 firstId, int count) =>
    Enumerable.Range(0, count).Select(i => new Payment(firstId + (uint)i, customers[i % Customers], customers[(i + 1) % Customers], 1)).ToArray();

void Tally(Payment[] batch, PaymentOutcome[] outcomes)
{
    for (int i = 0; i < batch.Length; i++)
    {
        crossShard += cluster!.Map.ShardOf(batch[i].Payer) != cluster.Map.ShardOf(batch[i].Payee) ? 1 : 0;
        switch (outcomes[i].Status)
        {
            case PaymentStatus.Committed:
                committed++;
                break;
            case PaymentStatus.Aborted:
                Expect(outcomes[i].Reason, CreateTransferResult.ExceedsCredits, $"why payment {batch[i].Id} aborted");

                aborted++;
                break;
            default:
                throw new UnexpectedResultException($"payment {batch[i].Id}: {outcomes[i].Status}");
        }
    }
}

async Task WaitForJournal(int rows)
{
    var waited = Stopwatch.StartNew();
    while (true)
    {
        JournalRow[] journal = await cluster!.Journal.ReadAllAsync();
        int held = journal.Count(r => stalledAfterHolds.Contains(r.Payment.Id) && r.State == JournalState.Prepared);
        int decided = journal.Count(r => stalledAfterDecision.Contains(r.Payment.Id) && r.State == JournalState.Committing);
        if (held + decided == rows)
        {
            // The stalled-after-holds batch has journaled its intent; give its holds time to land before the kill, so
            // recovery has real holds to void (it must be right either way).
            await Task.Delay(500);
            return;
        }

        if (waited.Elapsed > TimeSpan.FromSeconds(20))
        {
            throw new UnexpectedResultException($"the stalled payments did not reach the journal ({held + decided} of {rows})");
        }

        await Task.Delay(50);
    }
}

async Task<ActivationInfo[]> ShardActivations() =>
    await Task.WhenAll(Enumerable.Range(0, Shards).Select(s => cluster!.Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(s).GetActivationAsync()));

static async Task Quietly(Task task)
{
    try
    {
        await task;
    }
    catch (Exception)
    {
        // Expected: the coordinator's silo is gone.
    }
}

static bool Same(Account[][] a, Account[][] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.SequenceEqual(p.Second));

void Step(string message) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok  {clock.Elapsed.TotalSeconds,5:0.0} s  {message}"));

static void Expect<T>(T actual, T expected, string what)
{
    if (!EqualityComparer<T>.Default.Equals(actual, expected))
    {
        throw new UnexpectedResultException($"{what}: expected {expected}, got {actual}.");
    }
}

/// <summary>A result the sample did not expect.</summary>
internal sealed class UnexpectedResultException(string message) : Exception(message);
