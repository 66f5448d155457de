using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// <see cref="LedgerEngine.GetAccountTransfers(in AccountFilter, Span{Transfer})"/>: the ledger's account history read
/// lock-free from released batches while the writer applies more (never torn, partial, out of order, rolled back or
/// ahead of durability), and rebuilt identically when a file store is reopened (snapshot and journal).
/// </summary>
public sealed class AccountHistoryEngineTests : EngineTestKit
{
    private const AccountFilterFlags BothSides = AccountFilterFlags.Debits | AccountFilterFlags.Credits;

    private static AccountFilter Both(UInt128 account, uint limit = 1_000) => new() { AccountId = account, Limit = limit, Flags = BothSides };

    private static UInt128[] Ids(IEnumerable<Transfer> transfers) => [.. transfers.Select(t => t.Id)];

    // The history is opt-in (LedgerEngineOptions.AccountHistory); pulses off as in EngineTestKit.
    private static ValueTask<LedgerEngine> OpenWithHistoryAsync(ILedgerStore? store) => LedgerEngine.OpenAsync(new LedgerEngineOptions
    {
        Store = store,
        Durability = store is null ? DurabilityMode.InMemory : DurabilityMode.Durable,
        ClockPulses = false,
        AccountHistory = true,
    });

    [Fact]
    public async Task GetAccountTransfers_InMemoryEngine_FiltersAsTigerBeetleDoes()
    {
        await using LedgerEngine engine = await OpenWithHistoryAsync(null);
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
        Transfer[] transfers = [Tr(11, 1, 2, 10), Tr(12, 2, 1, 5), Pend(13, 1, 3, 1), Post(14, 13, 1), Tr(15, 3, 2, 1)];
        Assert.Equal(0, await engine.CreateTransfersAsync(transfers, new CreateTransferResult[transfers.Length]));
        Assert.True(engine.TryGetTransfer(12, out Transfer t12));
        Assert.True(engine.TryGetTransfer(14, out Transfer t14));

        Assert.Equal([11, 12, 13, 14], Ids(engine.GetAccountTransfers(Both(1))));
        Assert.Equal([11, 13, 14], Ids(engine.GetAccountTransfers(Both(1) with { Flags = AccountFilterFlags.Debits })));
        Assert.Equal([12], Ids(engine.GetAccountTransfers(Both(1) with { Flags = AccountFilterFlags.Credits })));
        Assert.Equal([14, 13], Ids(engine.GetAccountTransfers(Both(1, limit: 2) with { Flags = BothSides | AccountFilterFlags.Reversed })));
        Assert.Equal([12, 13, 14], Ids(engine.GetAccountTransfers(Both(1) with { TimestampMin = t12.Timestamp, TimestampMax = t14.Timestamp })));
        Assert.Empty(engine.GetAccountTransfers(Both(99)));
        Assert.Empty(engine.GetAccountTransfers(Both(1, limit: 0)));
        Assert.Empty(engine.GetAccountTransfers(Both(1) with { Flags = AccountFilterFlags.Reversed }));
        Assert.Empty(engine.GetAccountTransfers(Both(1) with { TimestampMin = t14.Timestamp, TimestampMax = t12.Timestamp }));

        var span = new Transfer[3];
        Assert.Equal(3, engine.GetAccountTransfers(Both(2), span));
        Assert.Equal([11, 12, 15], Ids(span));
        Assert.Equal(t14, engine.GetAccountTransfers(Both(3) with { Flags = AccountFilterFlags.Credits })[1]);
    }

    [Fact]
    public async Task GetAccountTransfers_EngineOpenedWithDefaultOptions_ThrowsBecauseHistoryIsOptIn()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(
            new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });

        Assert.Throws<InvalidOperationException>(() => engine.GetAccountTransfers(Both(1)));
        Assert.Throws<InvalidOperationException>(() => engine.GetAccountTransfers(Both(1), new Transfer[1]));
    }

    /// <summary>
    /// A reader polls account 1's history while the writer applies batches that each start with a linked chain that
    /// fails (two transfers of accounts 1 and 2 applied, then rolled back, their rows reused by the next transfers,
    /// which involve other accounts). Every read must be whole and final: each transfer names account 1, timestamps
    /// strictly increase, no rolled-back transfer shows, each read extends the previous one, and nothing shows before
    /// its batch is durable (the store's durable batch number read right after the history covers its newest entry).
    /// </summary>
    [Fact]
    public async Task GetAccountTransfers_WhileTheWriterApplies_IsNeverTornRolledBackOutOfOrderOrAheadOfDurability()
    {
        const int Batches = 40;
        const int PerBatch = 1_000;
        const ulong FailedChainIds = 1UL << 40;
        var store = new FileLedgerStore(Directory);
        await using LedgerEngine engine = await OpenWithHistoryAsync(store);
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3), Acct(4) }, new CreateAccountResult[4]));
        ulong firstBatch = engine.ReleasedBatchNumber + 1;
        var batches = new Transfer[Batches][];
        for (int b = 0; b < Batches; b++)
        {
            var batch = new Transfer[PerBatch];
            batch[0] = Tr(FailedChainIds + (ulong)(3 * b), 1, 2, 1, TransferFlags.Linked);
            batch[1] = Tr(FailedChainIds + (ulong)(3 * b) + 1, 2, 1, 1, TransferFlags.Linked);
            batch[2] = Tr(FailedChainIds + (ulong)(3 * b) + 2, 1, 99, 1);
            for (int i = 3; i < PerBatch; i++)
            {
                // Account 1 in two of every three, alternately debit and credit; the first after the chain does not touch it.
                UInt128 id = (UInt128)((b * PerBatch) + i);
                batch[i] = (i % 3) switch
                {
                    0 => Tr(id, 3, 4, 1),
                    1 => Tr(id, 1, 3, 1),
                    _ => Tr(id, 4, 1, 1),
                };
            }

            batches[b] = batch;
        }

        string? failure = null;
        int reads = 0;
        using var done = new CancellationTokenSource();
        Task reader = Task.Factory.StartNew(
            () =>
            {
                var results = new Transfer[Batches * PerBatch];
                UInt128[] previous = [];
                while (failure is null && !done.IsCancellationRequested)
                {
                    int count = engine.GetAccountTransfers(Both(1, limit: uint.MaxValue), results);
                    ulong durable = store.LastDurableBatchNumber;
                    failure = Check(results.AsSpan(0, count), previous, durable);
                    previous = Ids(results.Take(count));
                    reads++;
                }
            },
            TaskCreationOptions.LongRunning);

        string? Check(ReadOnlySpan<Transfer> history, UInt128[] previous, ulong durable)
        {
            if (history.Length < previous.Length)
            {
                return $"a read returned {history.Length} transfers after one returned {previous.Length}";
            }

            for (int i = 0; i < history.Length; i++)
            {
                Transfer t = history[i];
                if (t.DebitAccountId != 1 && t.CreditAccountId != 1)
                {
                    return $"transfer {t.Id} does not name account 1";
                }

                if (t.Id >= FailedChainIds)
                {
                    return $"transfer {t.Id} of a rolled-back chain shows";
                }

                if (i > 0 && t.Timestamp <= history[i - 1].Timestamp)
                {
                    return $"timestamps out of order at {i}";
                }

                if (i < previous.Length && previous[i] != t.Id)
                {
                    return $"entry {i} was {previous[i]} and is now {t.Id}";
                }
            }

            if (history.Length != 0)
            {
                ulong batchOfNewest = firstBatch + (ulong)(history[^1].Id / PerBatch);
                if (batchOfNewest > durable)
                {
                    return $"transfer {history[^1].Id} of batch {batchOfNewest} shows while batch {durable} is the last durable";
                }
            }

            return null;
        }

        var outcomes = new CreateTransferResult[PerBatch];
        foreach (Transfer[] batch in batches)
        {
            Assert.Equal(3, await engine.CreateTransfersAsync(batch, outcomes));
        }

        await done.CancelAsync();
        await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(failure);
        Assert.True(reads > 1, $"only {reads} reads");

        // The final history is every transfer naming account 1, in order.
        UInt128[] expected = [.. batches.SelectMany(b => b.Skip(3)).Where(t => t.DebitAccountId == 1 || t.CreditAccountId == 1).Select(t => t.Id)];
        Assert.Equal(expected, Ids(engine.GetAccountTransfers(Both(1, limit: uint.MaxValue))));
    }

    [Fact]
    public async Task GetAccountTransfers_AfterReopeningFromSnapshotAndJournal_IsTheSame()
    {
        AccountFilter[] filters =
        [
            .. Enumerable.Range(1, 3).SelectMany(a => new[]
            {
                Both((UInt128)a),
                Both((UInt128)a) with { Flags = AccountFilterFlags.Debits },
                Both((UInt128)a, limit: 2) with { Flags = AccountFilterFlags.Credits | AccountFilterFlags.Reversed },
            }),
        ];
        List<UInt128[]> before = [];
        await using (LedgerEngine engine = await OpenWithHistoryAsync(new FileLedgerStore(Directory)))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3) }, new CreateAccountResult[3]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Pend(11, 2, 3, 1)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Pend(12, 3, 1, 1)));
            await engine.TakeSnapshotAsync();

            // After the snapshot: a post and a void of holds taken before it, a failed chain and plain transfers.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Post(13, 11, UInt128.MaxValue)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(VoidOf(14, 12, 0)));
            Assert.Equal(2, await engine.CreateTransfersAsync(new[] { Tr(15, 1, 3, 1, TransferFlags.Linked), Tr(16, 1, 99, 1) }, new CreateTransferResult[2]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(17, 3, 1, 2)));
            foreach (AccountFilter filter in filters)
            {
                before.Add(Ids(engine.GetAccountTransfers(filter)));
            }
        }

        Assert.Equal([10, 12, 14, 17], before[0]);
        await using LedgerEngine reopened = await OpenWithHistoryAsync(new FileLedgerStore(Directory));
        for (int i = 0; i < filters.Length; i++)
        {
            Assert.Equal(before[i], Ids(reopened.GetAccountTransfers(filters[i])));
        }

        // And it goes on: a transfer applied after the reopen joins the rebuilt history.
        Assert.Equal(CreateTransferResult.Ok, await reopened.CreateTransferAsync(Tr(18, 2, 1, 1)));
        Assert.Equal([10, 12, 14, 17, 18], Ids(reopened.GetAccountTransfers(filters[0])));
    }
}
