using BenchmarkDotNet.Attributes;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using CoreLedger = Micropay.Core.Ledger.LedgerStateMachine;

namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// The latency of one history read, limit 100, of an account with 10,000 transfers (half debits, half credits) among
/// 1,000,000 transfers of 1,000 accounts, so its rows are scattered over the transfer table: the oldest 100, the newest
/// 100 (reversed), 100 from the middle of a time range (two binary searches over timestamps), debits only, and the same
/// newest 100 through an in-memory <see cref="LedgerEngine"/> (the lock-free path: account lookup in the mirror and the
/// released count). Each figure is per call, 100 transfers copied out (12.8 KB); 0 B allocated for the span calls.
/// </summary>
[MemoryDiagnoser]
public class AccountHistoryQueryBenchmarks
{
    private const int Accounts = 1_000;
    private const int Transfers = 1_000_000;
    private const int BatchSize = 8_189;
    private const int HotAccountEvery = 100;

    private readonly Transfer[] _results = new Transfer[100];
    private CoreLedger _ledger = null!;
    private LedgerEngine _engine = null!;
    private AccountFilter _oldest;
    private AccountFilter _newest;
    private AccountFilter _range;
    private AccountFilter _debits;

    /// <summary>Builds the ledger and an engine holding the same transfers.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _ledger = new CoreLedger(Accounts, Transfers);
        _ledger.EnableAccountHistory();
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false, AccountCapacity = Accounts, TransferCapacity = Transfers, AccountHistory = true })
            .AsTask().GetAwaiter().GetResult();
        var accounts = new Account[Accounts];
        for (int i = 0; i < Accounts; i++)
        {
            accounts[i] = new Account { Id = (UInt128)(i + 1), LedgerId = 1, Code = 1 };
        }

        Check(_ledger.CreateAccounts(0, accounts, new CreateAccountResult[Accounts]));
        Check(_engine.CreateAccountsAsync(accounts, new CreateAccountResult[Accounts]).AsTask().GetAwaiter().GetResult());
        var random = new Random(20_251_204);
        var batch = new Transfer[BatchSize];
        var results = new CreateTransferResult[BatchSize];
        for (int start = 0; start < Transfers; start += BatchSize)
        {
            int count = Math.Min(BatchSize, Transfers - start);
            for (int i = 0; i < count; i++)
            {
                int k = start + i;

                // Account 1 in every 100th transfer (10,000 in all), alternately debit and credit; the rest among the others.
                int debit = random.Next(2, Accounts + 1);
                int credit = debit == Accounts ? 2 : debit + 1;
                if (k % HotAccountEvery == 0)
                {
                    (debit, credit) = (k / HotAccountEvery) % 2 == 0 ? (1, debit) : (debit, 1);
                }

                batch[i] = new Transfer { Id = (UInt128)(k + 1), DebitAccountId = (UInt128)debit, CreditAccountId = (UInt128)credit, Amount = 1, LedgerId = 1, Code = 1 };
            }

            Check(_ledger.CreateTransfers(0, batch.AsSpan(0, count), results));
            Check(_engine.CreateTransfersAsync(batch.AsMemory(0, count).ToArray(), results).AsTask().GetAwaiter().GetResult());
        }

        const AccountFilterFlags Both = AccountFilterFlags.Debits | AccountFilterFlags.Credits;
        _oldest = new AccountFilter { AccountId = 1, Limit = 100, Flags = Both };
        _newest = _oldest with { Flags = Both | AccountFilterFlags.Reversed };
        _debits = _oldest with { Flags = AccountFilterFlags.Debits };
        _ledger.TryGetTransfer(Transfers / 2, out Transfer middle);
        _range = _oldest with { TimestampMin = middle.Timestamp, TimestampMax = middle.Timestamp + (Transfers / 4) };
        foreach (AccountFilter filter in new[] { _oldest, _newest, _range, _debits })
        {
            if (_ledger.GetAccountTransfers(filter, _results) != 100)
            {
                throw new InvalidOperationException($"{filter} did not return 100 transfers.");
            }
        }

        // The engine stamps batches with its own clock, so only the filters without a time range apply to it as they are.
        if (_engine.GetAccountTransfers(_newest, _results) != 100)
        {
            throw new InvalidOperationException($"{_newest} did not return 100 transfers from the engine.");
        }
    }

    /// <summary>Closes the engine.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => _engine.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The oldest 100.</summary>
    [Benchmark(Baseline = true)]
    public int Oldest100() => _ledger.GetAccountTransfers(_oldest, _results);

    /// <summary>The newest 100 (reversed).</summary>
    [Benchmark]
    public int Newest100() => _ledger.GetAccountTransfers(_newest, _results);

    /// <summary>100 from a time range in the middle of the history.</summary>
    [Benchmark]
    public int Range100() => _ledger.GetAccountTransfers(_range, _results);

    /// <summary>The oldest 100 debits (the credits are skipped by their side bit, without reading their rows).</summary>
    [Benchmark]
    public int Debits100() => _ledger.GetAccountTransfers(_debits, _results);

    /// <summary>The newest 100 through the engine's lock-free read.</summary>
    [Benchmark]
    public int Engine_Newest100() => _engine.GetAccountTransfers(_newest, _results);

    private static void Check(int failed)
    {
        if (failed != 0)
        {
            throw new InvalidOperationException($"{failed} events failed while building the benchmark's ledger.");
        }
    }
}
