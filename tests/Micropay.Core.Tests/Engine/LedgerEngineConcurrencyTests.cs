using System.Collections.Concurrent;
using System.Diagnostics;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Xunit.Abstractions;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// Eight producers submit random transfers (single and batch, succeeding and failing, retries, holds with posts and
/// voids, linked chains, open chains) to a durable engine while a reader checks every view it gets; then the engine's
/// final state must be exactly the sequential replay of its journal, every caller's result must be the one the replay
/// gives, and every acknowledged transfer must survive a reopen.
/// </summary>
public sealed class LedgerEngineConcurrencyTests : EngineTestKit
{
    private const int Producers = 8;

    // Accounts 1-8 and 21-24: no limits. 9-16: DebitsMustNotExceedCredits (funded at the start). 17-20:
    // CreditsMustNotExceedDebits (paid out at the start). Every account carries MarkedAccount's user data.
    private const int AccountCount = 24;
    private const ulong UnknownAccount = 10_000;
    private const int Funding = 1_000;

    private readonly ITestOutputHelper _output;

    public LedgerEngineConcurrencyTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public Task ProducersAndReader_ForAFewSeconds_EveryViewConservesAndTheFinalStateIsTheJournalReplayed() =>
        RunAsync(TimeSpan.FromSeconds(3), seed: 1);

    [Fact]
    [Trait("Category", "Stress")]
    public Task ProducersAndReader_ForAMinute_EveryViewConservesAndTheFinalStateIsTheJournalReplayed() =>
        RunAsync(TimeSpan.FromSeconds(60), seed: Environment.TickCount);

    private async Task RunAsync(TimeSpan duration, int seed)
    {
        LedgerEngine engine = await OpenFileEngineAsync();
        await CreateAndFundAccountsAsync(engine);

        using var stop = new CancellationTokenSource();
        var reader = new Reader(engine);
        var readerThread = new Thread(() => reader.Run(stop.Token)) { IsBackground = true, Name = "engine test reader" };
        readerThread.Start();

        var producers = new Producer[Producers];
        var loops = new Task[Producers];
        var clock = Stopwatch.StartNew();
        for (int p = 0; p < Producers; p++)
        {
            producers[p] = new Producer(engine, p, seed);
            Producer producer = producers[p];
            loops[p] = Task.Run(async () =>
            {
                try
                {
                    await producer.RunAsync(stop.Token);
                }
                catch
                {
                    // A failing producer ends the run at once (its exception is reported below).
                    await stop.CancelAsync();
                    throw;
                }
            });
        }

        try
        {
            await Task.Delay(duration, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops);
        readerThread.Join();
        Assert.True(reader.Failure is null, reader.Failure);

        Account[] live = engine.ReadAllAccounts();
        ulong released = engine.ReleasedBatchNumber;
        await engine.DisposeAsync();

        long acknowledged = producers.Sum(p => p.Log.Count);
        _output.WriteLine(
            $"seed {seed}: {acknowledged} events acknowledged in {clock.Elapsed.TotalSeconds:F1} s over {released} batches; " +
            $"reader checked {reader.Views} views ({reader.Rows} rows)");
        Assert.True(reader.Views > 10, "the reader barely ran");
        Assert.True(acknowledged > 100, "the producers barely ran");

        // (a) The concurrent run is equivalent to applying its journal one batch at a time.
        JournalReplay journal = await ReplayJournalAsync(Directory);
        Assert.Equal(released, journal.LastBatchNumber);
        Assert.Equal(journal.Ledger.Accounts.ToArray(), live);
        Assert.Null(ConservationBreak(live));

        // Every caller got the result the replay gives for that event: per id, the acknowledged results in the order
        // the producer submitted them (each producer awaits each call, so its order is the journal's order).
        var replayed = new Dictionary<UInt128, List<CreateTransferResult>>();
        foreach (ReplayedBatch batch in journal.Batches.Where(b => b.Transfers is not null))
        {
            for (int i = 0; i < batch.Transfers!.Length; i++)
            {
                UInt128 id = batch.Transfers[i].Id;
                if (!replayed.TryGetValue(id, out List<CreateTransferResult>? results))
                {
                    replayed[id] = results = [];
                }

                results.Add(batch.TransferResults![i]);
            }
        }

        var allIds = new List<UInt128>();
        foreach (IGrouping<UInt128, (Transfer Transfer, CreateTransferResult Result)> events in producers.SelectMany(p => p.Log).GroupBy(e => e.Transfer.Id))
        {
            allIds.Add(events.Key);
            Assert.True(replayed.TryGetValue(events.Key, out List<CreateTransferResult>? expected), $"transfer {events.Key} was acknowledged but is not in the journal");
            Assert.Equal(expected, events.Select(e => e.Result));
        }

        Assert.Equal(replayed.Count - FundingTransfers, allIds.Count);

        // (b) After reopening: the same state, every acknowledged transfer present, every id that only ever failed absent.
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(released, reopened.ReleasedBatchNumber);
        AssertSameState(journal.Ledger, reopened, allIds);
        foreach (IGrouping<UInt128, CreateTransferResult> events in producers.SelectMany(p => p.Log).GroupBy(e => e.Transfer.Id, e => e.Result))
        {
            bool succeeded = events.Any(r => r is CreateTransferResult.Ok or CreateTransferResult.Exists);
            Assert.True(succeeded == reopened.TryGetTransfer(events.Key, out _), $"transfer {events.Key} ({string.Join(", ", events)}): present after reopen {!succeeded}");
        }
    }

    private const int FundingTransfers = 16;

    private static async Task CreateAndFundAccountsAsync(LedgerEngine engine)
    {
        Account[] accounts = [.. Enumerable.Range(1, AccountCount).Select(i => MarkedAccount((UInt128)i, FlagsOf(i)))];
        Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]));

        // Wallets 9-16 receive credit they may spend; accounts 17-20 pay out, which gives them room to be credited.
        Transfer[] funding =
        [
            .. Enumerable.Range(9, 8).Select(i => Tr((UInt128)(900 + i), (UInt128)(i - 8), (UInt128)i, Funding)),
            .. Enumerable.Range(17, 4).Select(i => Tr((UInt128)(900 + i), (UInt128)i, (UInt128)(i + 4), Funding)),
            .. Enumerable.Range(17, 4).Select(i => Tr((UInt128)(950 + i), (UInt128)i, (UInt128)(i - 16), Funding)),
        ];
        Assert.Equal(FundingTransfers, funding.Length);
        var results = new CreateTransferResult[funding.Length];
        Assert.True(await engine.CreateTransfersAsync(funding, results) == 0, string.Join(", ", results));
    }

    private static AccountFlags FlagsOf(int id) => id switch
    {
        >= 9 and <= 16 => AccountFlags.DebitsMustNotExceedCredits,
        >= 17 and <= 20 => AccountFlags.CreditsMustNotExceedDebits,
        _ => AccountFlags.None,
    };

    /// <summary>
    /// Reads every way the engine offers, as fast as it can, and checks each view: conservation over every
    /// consistent view, whole rows that keep their flags, and time that only moves forward (released batch number,
    /// posted balances).
    /// </summary>
    private sealed class Reader(LedgerEngine engine)
    {
        private readonly UInt128[] _ids = [.. Enumerable.Range(1, AccountCount).Select(i => (UInt128)i)];
        private readonly UInt128[] _debitsPosted = new UInt128[AccountCount + 1];
        private readonly UInt128[] _creditsPosted = new UInt128[AccountCount + 1];
        private ulong _released;

        public string? Failure { get; private set; }

        public long Views { get; private set; }

        public long Rows { get; private set; }

        public void Run(CancellationToken stop)
        {
            var random = new Random(7);
            var lookedUp = new Account[AccountCount];
            try
            {
                while (!stop.IsCancellationRequested && Failure is null)
                {
                    ulong released = engine.ReleasedBatchNumber;
                    Check(released >= _released, $"the released batch number went back from {_released} to {released}");
                    _released = released;

                    Account[] all = engine.ReadAllAccounts();
                    Check(all.Length == AccountCount, $"ReadAllAccounts returned {all.Length} accounts");
                    CheckView(all, "ReadAllAccounts");

                    // A subset in random order, then all of them: found in the order asked, all from one batch.
                    int subset = random.Next(1, AccountCount);
                    UInt128[] some = [.. _ids.OrderBy(_ => random.Next()).Take(subset)];
                    int found = engine.LookupAccounts(some, lookedUp);
                    Check(found == subset, $"LookupAccounts found {found} of {subset}");
                    for (int i = 0; i < found; i++)
                    {
                        Check(lookedUp[i].Id == some[i], $"LookupAccounts returned {lookedUp[i].Id} where {some[i]} was asked");
                        CheckRow(lookedUp[i], "LookupAccounts");
                    }

                    found = engine.LookupAccounts(_ids, lookedUp);
                    Check(found == AccountCount, $"LookupAccounts found {found} of {AccountCount}");
                    CheckView(lookedUp, "LookupAccounts");

                    for (int i = 0; i < 8; i++)
                    {
                        UInt128 id = (UInt128)random.Next(1, AccountCount + 1);
                        Check(engine.TryGetAccount(id, out Account account), $"TryGetAccount did not find {id}");
                        Check(account.Id == id, $"TryGetAccount({id}) returned account {account.Id}");
                        CheckRow(account, "TryGetAccount");
                    }

                    Check(!engine.TryGetAccount(UnknownAccount, out _), "TryGetAccount found an account that was never created");
                    Views++;

                    // Mostly flat out, to meet the publisher mid-batch as often as possible, but not the whole time: on
                    // a 2-core machine a thread that never sleeps takes a core from the engine's hand-offs and the run
                    // would cover far fewer batches.
                    if (Views % 16 == 0)
                    {
                        Thread.Sleep(1);
                    }
                }
            }
            catch (Exception e)
            {
                Failure ??= e.ToString();
            }
        }

        private void CheckView(ReadOnlySpan<Account> view, string source)
        {
            if (ConservationBreak(view) is { } broken)
            {
                Check(false, $"{source}: {broken}");
            }

            foreach (Account account in view)
            {
                CheckRow(account, source);
            }
        }

        private void CheckRow(in Account account, string source)
        {
            Rows++;
            if (FirstBrokenRowInvariant(account) is { } broken)
            {
                Check(false, $"{source}: {broken}");
            }

            int id = (int)account.Id;
            Check(account.DebitsPosted >= _debitsPosted[id] && account.CreditsPosted >= _creditsPosted[id], $"{source}: posted balances went back: {account}");
            _debitsPosted[id] = account.DebitsPosted;
            _creditsPosted[id] = account.CreditsPosted;
        }

        private void Check(bool condition, string failure)
        {
            if (!condition)
            {
                Failure ??= failure;
                throw new InvalidOperationException(failure);
            }
        }
    }

    /// <summary>
    /// One producer: awaits each call before the next (so its own calls reach the journal in its order), logs every
    /// acknowledged event with its result, and checks the results it can predict whatever the other producers do.
    /// </summary>
    private sealed class Producer(LedgerEngine engine, int index, int seed)
    {
        private readonly Random _random = new(HashCode.Combine(seed, index));
        private readonly List<(Transfer Transfer, uint Timeout)> _openHolds = [];
        private ulong _nextId = ((ulong)index + 1) << 40;

        /// <summary>Every acknowledged event and its result, in submission order.</summary>
        public List<(Transfer Transfer, CreateTransferResult Result)> Log { get; } = [];

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                int dice = _random.Next(100);
                if (dice < 30)
                {
                    await SingleAsync(RandomTransfer(), expected: null);
                }
                else if (dice < 45)
                {
                    await BatchAsync(RandomBatch(), openChain: false);
                }
                else if (dice < 50)
                {
                    // A batch ending inside a chain: the chain fails as open, and no other caller's events join it.
                    Transfer[] batch = RandomBatch();
                    batch[^1].Flags |= TransferFlags.Linked;
                    await BatchAsync(batch, openChain: true);
                }
                else if (dice < 57)
                {
                    bool debit = _random.Next(2) == 0;
                    Transfer unknown = RandomTransfer();
                    if (debit)
                    {
                        unknown.DebitAccountId = UnknownAccount;
                    }
                    else
                    {
                        unknown.CreditAccountId = UnknownAccount;
                    }

                    await SingleAsync(unknown, debit ? CreateTransferResult.DebitAccountNotFound : CreateTransferResult.CreditAccountNotFound);
                }
                else if (dice < 64)
                {
                    // More than a limited wallet can ever hold: refused whatever the others did.
                    Transfer tooMuch = Tr(NextId(), (UInt128)_random.Next(9, 17), (UInt128)_random.Next(1, 9), Funding * 1000);
                    await SingleAsync(tooMuch, CreateTransferResult.ExceedsCredits);
                }
                else if (dice < 74)
                {
                    await RetryAsync();
                }
                else if (dice < 88)
                {
                    await HoldAsync();
                }
                else
                {
                    await PostOrVoidAsync();
                }
            }
        }

        private UInt128 NextId() => _nextId++;

        private Transfer RandomTransfer()
        {
            int debit = _random.Next(1, AccountCount + 1);
            int credit = _random.Next(1, AccountCount);
            credit = credit >= debit ? credit + 1 : credit;
            return Tr(NextId(), (UInt128)debit, (UInt128)credit, (UInt128)_random.Next(1, 30));
        }

        private Transfer[] RandomBatch()
        {
            var batch = new Transfer[_random.Next(2, 13)];
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i] = RandomTransfer();

                // Short chains; now and then one with an event that must fail, which fails the chain.
                if (i < batch.Length - 1 && _random.Next(4) == 0)
                {
                    batch[i].Flags |= TransferFlags.Linked;
                    if (_random.Next(4) == 0)
                    {
                        batch[i].CreditAccountId = UnknownAccount;
                    }
                }
            }

            return batch;
        }

        private async Task<CreateTransferResult> SingleAsync(Transfer transfer, CreateTransferResult? expected)
        {
            CreateTransferResult result = await engine.CreateTransferAsync(transfer);
            Log.Add((transfer, result));
            if (expected is { } wanted)
            {
                Assert.Equal(wanted, result);
            }

            if (result is CreateTransferResult.Ok or CreateTransferResult.Exists)
            {
                // Released means readable: the batch is published before its results are.
                Assert.True(engine.TryGetTransfer(transfer.Id, out Transfer stored), $"transfer {transfer.Id} acknowledged {result} but not readable");
                Assert.Equal(transfer.Id, stored.Id);
                Assert.NotEqual(0UL, stored.Timestamp);
            }

            return result;
        }

        private async Task BatchAsync(Transfer[] batch, bool openChain)
        {
            var results = new CreateTransferResult[batch.Length];
            int failed = await engine.CreateTransfersAsync(batch, results);
            for (int i = 0; i < batch.Length; i++)
            {
                Log.Add((batch[i], results[i]));
            }

            Assert.Equal(results.Count(r => r != CreateTransferResult.Ok), failed);
            if (openChain)
            {
                int chainStart = batch.Length - 1;
                while (chainStart > 0 && (batch[chainStart - 1].Flags & TransferFlags.Linked) != 0)
                {
                    chainStart--;
                }

                // The chain fails whole: as open (its last event says so, the others LinkedEventFailed), or earlier, when
                // one of its events failed first (then the last says LinkedEventFailed). Had another caller's events
                // joined this ledger batch after it, they would have closed the chain and it could have succeeded.
                Assert.All(results[chainStart..], r => Assert.NotEqual(CreateTransferResult.Ok, r));
                if (results[^1] == CreateTransferResult.LinkedEventChainOpen)
                {
                    Assert.All(results[chainStart..^1], r => Assert.Equal(CreateTransferResult.LinkedEventFailed, r));
                }
                else
                {
                    Assert.Equal(CreateTransferResult.LinkedEventFailed, results[^1]);
                    Assert.Single(results[chainStart..], r => r != CreateTransferResult.LinkedEventFailed);
                }
            }

            for (int i = 0; i < batch.Length; i++)
            {
                Assert.Equal(results[i] == CreateTransferResult.Ok, engine.TryGetTransfer(batch[i].Id, out _));
            }
        }

        private async Task RetryAsync()
        {
            // The same transfer again (unlinked only: a linked event on its own is an open chain).
            List<(Transfer Transfer, CreateTransferResult Result)> candidates = [.. Log.Where(e => (e.Transfer.Flags & TransferFlags.Linked) == 0).TakeLast(200)];
            if (candidates.Count == 0)
            {
                return;
            }

            // Predictable: a success stays one (Exists), a transient failure burnt the id. Anything else (a chain that
            // failed, an expired hold) is checked against the replay only.
            (Transfer earlier, CreateTransferResult first) = candidates[_random.Next(candidates.Count)];
            CreateTransferResult? expected = first switch
            {
                CreateTransferResult.Ok or CreateTransferResult.Exists => CreateTransferResult.Exists,
                CreateTransferResult.IdAlreadyFailed or CreateTransferResult.DebitAccountNotFound or CreateTransferResult.CreditAccountNotFound or
                    CreateTransferResult.ExceedsCredits or CreateTransferResult.ExceedsDebits => CreateTransferResult.IdAlreadyFailed,
                _ => null,
            };
            await SingleAsync(earlier, expected);
        }

        private async Task HoldAsync()
        {
            Transfer hold = RandomTransfer();
            hold.Flags = TransferFlags.Pending;

            // Some holds expire after a second of the engine's clock, racing this producer's own post or void.
            uint timeout = _random.Next(5) == 0 ? 1u : 0u;
            hold.Timeout = timeout;
            if (await SingleAsync(hold, expected: null) == CreateTransferResult.Ok)
            {
                _openHolds.Add((hold, timeout));
            }
        }

        private async Task PostOrVoidAsync()
        {
            if (_openHolds.Count == 0)
            {
                await HoldAsync();
                return;
            }

            int pick = _random.Next(_openHolds.Count);
            (Transfer hold, uint timeout) = _openHolds[pick];
            _openHolds.RemoveAt(pick);
            int kind = _random.Next(3);
            var transfer = new Transfer
            {
                Id = NextId(),
                PendingId = hold.Id,
                Flags = kind == 2 ? TransferFlags.VoidPendingTransfer : TransferFlags.PostPendingTransfer,
                Amount = kind switch
                {
                    0 => UInt128.MaxValue, // the whole hold
                    1 => (UInt128)_random.Next(1, (int)hold.Amount + 1),
                    _ => 0,
                },
            };

            if (_random.Next(2) == 0 && kind != 0)
            {
                // Or, posting a batch: the post and a fresh transfer after it.
                Transfer[] batch = [transfer, RandomTransfer()];
                var results = new CreateTransferResult[2];
                await engine.CreateTransfersAsync(batch, results);
                Log.Add((batch[0], results[0]));
                Log.Add((batch[1], results[1]));
                AssertPostOrVoid(results[0], timeout);
                return;
            }

            AssertPostOrVoid(await SingleAsync(transfer, expected: null), timeout);
        }

        private static void AssertPostOrVoid(CreateTransferResult result, uint timeout)
        {
            // This producer's own hold, posted or voided once: it succeeds unless the hold expired first.
            Assert.True(result == CreateTransferResult.Ok || (timeout != 0 && result == CreateTransferResult.PendingTransferExpired), $"post or void: {result}");
        }
    }
}
