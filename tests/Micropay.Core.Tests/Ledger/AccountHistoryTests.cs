using System.Buffers;
using Micropay.Core.Ledger;
using Xunit.Abstractions;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// <see cref="LedgerStateMachine.GetAccountTransfers(in AccountFilter, Span{Transfer})"/>: TigerBeetle's
/// <c>get_account_transfers</c> over the ledger's per-account index (sides, inclusive time bounds, limit, order, invalid
/// filters), kept through rollbacks and rebuilt from rows, and what it costs per transfer.
/// </summary>
public sealed class AccountHistoryTests(ITestOutputHelper output)
{
    private const ulong T0 = 1_000;

    // Accounts 1, 2, 3. Transfers (timestamps T0 + 1 ... in this order):
    // 11: 1 -> 2, 12: 2 -> 1, 13: 1 -> 3, 14: 3 -> 2, 15: pending 1 -> 2, 16: post of 15, 17: pending 2 -> 1, 18: void of 17.
    private static Ledger NewLedgerWithHistory()
    {
        var ledger = new Ledger();
        ledger.EnableAccountHistory();
        Assert.Equal(0, ledger.CreateAccounts(T0 - 10, [Acct(1), Acct(2), Acct(3)], new CreateAccountResult[3]));
        Transfer[] transfers =
        [
            Tr(11, 1, 2, 10), Tr(12, 2, 1, 5), Tr(13, 1, 3, 1), Tr(14, 3, 2, 1),
            Pend(15, 1, 2, 7), Post(16, 15, 7), Pend(17, 2, 1, 3), VoidOf(18, 17, 3),
        ];
        Assert.Equal(0, ledger.CreateTransfers(T0 + 1, transfers, new CreateTransferResult[transfers.Length]));
        return ledger;
    }

    private static UInt128[] Ids(ReadOnlySpan<Transfer> transfers) => [.. transfers.ToArray().Select(t => t.Id)];

    private static UInt128[] Read(Ledger ledger, AccountFilter filter)
    {
        var results = new Transfer[16];
        int count = ledger.GetAccountTransfers(filter, results);
        UInt128[] viaArray = Ids(ledger.GetAccountTransfers(filter));
        UInt128[] viaSpan = Ids(results.AsSpan(0, count));
        Assert.Equal(viaSpan, viaArray);
        return viaSpan;
    }

    private static AccountFilter Both(UInt128 account, uint limit = 100) =>
        new() { AccountId = account, Limit = limit, Flags = AccountFilterFlags.Debits | AccountFilterFlags.Credits };

    [Fact]
    public void GetAccountTransfers_BothSides_ReturnsEveryTransferOfTheAccountOldestFirstIncludingPostsAndVoids()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Equal([11, 12, 13, 15, 16, 17, 18], Read(ledger, Both(1)));
        Assert.Equal([11, 12, 14, 15, 16, 17, 18], Read(ledger, Both(2)));
        Assert.Equal([13, 14], Read(ledger, Both(3)));
    }

    [Fact]
    public void GetAccountTransfers_DebitsOnly_ReturnsTransfersWhereTheAccountIsTheDebitAccount()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Equal([11, 13, 15, 16], Read(ledger, Both(1) with { Flags = AccountFilterFlags.Debits }));
    }

    [Fact]
    public void GetAccountTransfers_CreditsOnly_ReturnsTransfersWhereTheAccountIsTheCreditAccount()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Equal([12, 17, 18], Read(ledger, Both(1) with { Flags = AccountFilterFlags.Credits }));
    }

    [Fact]
    public void GetAccountTransfers_Reversed_ReturnsNewestFirst()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Equal([18, 17, 16, 15, 13, 12, 11], Read(ledger, Both(1) with { Flags = AccountFilterFlags.Debits | AccountFilterFlags.Credits | AccountFilterFlags.Reversed }));
        Assert.Equal([16, 15], Read(ledger, Both(1, limit: 2) with { Flags = AccountFilterFlags.Debits | AccountFilterFlags.Reversed }));
    }

    [Fact]
    public void GetAccountTransfers_Limit_ReturnsTheFirstThatMany()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Equal([11, 12, 13], Read(ledger, Both(1, limit: 3)));
        Assert.Equal([11], Read(ledger, Both(1, limit: 1)));
    }

    [Fact]
    public void GetAccountTransfers_ResultsShorterThanTheLimit_WritesAsManyAsFit()
    {
        Ledger ledger = NewLedgerWithHistory();
        var results = new Transfer[2];

        Assert.Equal(2, ledger.GetAccountTransfers(Both(1), results));
        Assert.Equal([11, 12], Ids(results));
    }

    [Fact]
    public void GetAccountTransfers_TimeRange_BoundsAreInclusiveAndZeroIsUnbounded()
    {
        Ledger ledger = NewLedgerWithHistory();
        ulong t12 = Timestamp(ledger, 12);
        ulong t16 = Timestamp(ledger, 16);

        Assert.Equal([12, 13, 15, 16], Read(ledger, Both(1) with { TimestampMin = t12, TimestampMax = t16 }));
        Assert.Equal([13, 15], Read(ledger, Both(1) with { TimestampMin = t12 + 1, TimestampMax = t16 - 1 }));
        Assert.Equal([12, 13, 15, 16, 17, 18], Read(ledger, Both(1) with { TimestampMin = t12 }));
        Assert.Equal([11, 12, 13, 15, 16], Read(ledger, Both(1) with { TimestampMax = t16 }));
        Assert.Equal([12], Read(ledger, Both(1) with { TimestampMin = t12, TimestampMax = t12 }));
        Assert.Equal([16, 15, 13], Read(ledger, Both(1, limit: 3) with
        {
            TimestampMax = t16,
            Flags = AccountFilterFlags.Debits | AccountFilterFlags.Credits | AccountFilterFlags.Reversed,
        }));
        Assert.Empty(Read(ledger, Both(1) with { TimestampMin = Timestamp(ledger, 18) + 1 }));
    }

    [Fact]
    public void GetAccountTransfers_UnknownAccount_ReturnsNothing()
    {
        Ledger ledger = NewLedgerWithHistory();

        Assert.Empty(Read(ledger, Both(99)));
    }

    public static TheoryData<string> InvalidFilterNames() => [.. InvalidFilters.Keys];

    private static readonly Dictionary<string, AccountFilter> InvalidFilters = new()
    {
        ["zero account"] = Both(0),
        ["max account"] = Both(UInt128.MaxValue),
        ["zero limit"] = Both(1, limit: 0),
        ["no side"] = Both(1) with { Flags = AccountFilterFlags.None },
        ["reversed, no side"] = Both(1) with { Flags = AccountFilterFlags.Reversed },
        ["reserved flag"] = Both(1) with { Flags = AccountFilterFlags.Debits | (AccountFilterFlags)8 },
        ["min above max"] = Both(1) with { TimestampMin = T0 + 5, TimestampMax = T0 + 4 },
        ["max timestamp min"] = Both(1) with { TimestampMin = ulong.MaxValue },
        ["max timestamp max"] = Both(1) with { TimestampMax = ulong.MaxValue },
    };

    [Theory]
    [MemberData(nameof(InvalidFilterNames))]
    public void GetAccountTransfers_InvalidFilter_ReturnsNothingWithoutThrowing(string name)
    {
        Ledger ledger = NewLedgerWithHistory();
        AccountFilter filter = InvalidFilters[name];

        Assert.False(filter.IsValid);
        Assert.Empty(Read(ledger, filter));
    }

    [Fact]
    public void IsValid_MinEqualToMaxOrOnlyOneBound_IsValid()
    {
        Assert.True((Both(1) with { TimestampMin = 5, TimestampMax = 5 }).IsValid);
        Assert.True((Both(1) with { TimestampMin = 5 }).IsValid);
        Assert.True((Both(1) with { TimestampMax = 5 }).IsValid);
    }

    [Fact]
    public void GetAccountTransfers_HistoryNotEnabled_Throws()
    {
        var ledger = new Ledger();

        Assert.False(ledger.AccountHistoryEnabled);
        Assert.Throws<InvalidOperationException>(() => ledger.GetAccountTransfers(Both(1), new Transfer[1]));
    }

    [Fact]
    public void GetAccountTransfers_FailedLinkedChain_LeavesNoEntryAndReusedRowsBelongToTheirOwnAccounts()
    {
        var ledger = new Ledger();
        ledger.EnableAccountHistory();
        ledger.CreateAccounts(T0, [Acct(1), Acct(2), Acct(3), Acct(4)], new CreateAccountResult[4]);

        // The chain's two first transfers are applied, then rolled back when the third fails (unknown account): their
        // rows are reused by 24 and 25, which involve other accounts.
        Transfer[] batch =
        [
            Tr(21, 1, 2, 1, TransferFlags.Linked), Tr(22, 2, 1, 1, TransferFlags.Linked), Tr(23, 1, 99, 1),
            Tr(24, 3, 4, 1), Tr(25, 4, 3, 1),
        ];
        var results = new CreateTransferResult[batch.Length];
        ledger.CreateTransfers(T0 + 1, batch, results);
        Assert.Equal(CreateTransferResult.Ok, results[3]);

        Assert.Empty(Read(ledger, Both(1)));
        Assert.Empty(Read(ledger, Both(2)));
        Assert.Equal([24, 25], Read(ledger, Both(3)));
        Assert.Equal([24, 25], Read(ledger, Both(4)));
    }

    [Fact]
    public void EnableAccountHistory_AfterTransfersAndAfterASnapshot_BuildsTheSameHistory()
    {
        Ledger withHistory = NewLedgerWithHistory();
        var snapshot = new ArrayBufferWriter<byte>();
        withHistory.WriteSnapshot(snapshot);
        Ledger restored = Ledger.ReadSnapshot(snapshot.WrittenSpan);

        Assert.False(restored.AccountHistoryEnabled);
        restored.EnableAccountHistory();
        restored.EnableAccountHistory();

        for (UInt128 account = 1; account <= 3; account++)
        {
            Assert.Equal(Read(withHistory, Both(account)), Read(restored, Both(account)));
            Assert.Equal(
                Read(withHistory, Both(account) with { Flags = AccountFilterFlags.Credits | AccountFilterFlags.Reversed }),
                Read(restored, Both(account) with { Flags = AccountFilterFlags.Credits | AccountFilterFlags.Reversed }));
        }
    }

    /// <summary>
    /// The build from rows looks rows up 8 and 16 ahead of the one it adds: over more rows than that, with unknown-free
    /// random pairs of 50 accounts, it must give every account the history the writer kept.
    /// </summary>
    [Fact]
    public void EnableAccountHistory_OverManyRows_MatchesTheHistoryKeptWhileApplying()
    {
        var kept = new Ledger();
        kept.EnableAccountHistory();
        var later = new Ledger();
        Account[] accounts = [.. Enumerable.Range(1, 50).Select(i => Acct((UInt128)i))];
        var random = new Random(15);
        Transfer[] transfers = [.. Enumerable.Range(1, 1_000).Select(i =>
        {
            int debit = random.Next(1, 51);
            int credit = (debit % 50) + 1 + random.Next(0, 49);
            return Tr((UInt128)i, (UInt128)debit, (UInt128)(((credit - 1) % 50) + 1), 1);
        })];
        foreach (Ledger ledger in new[] { kept, later })
        {
            ledger.CreateAccounts(T0, accounts, new CreateAccountResult[accounts.Length]);
            Assert.Equal(0, ledger.CreateTransfers(T0 + 1, transfers, new CreateTransferResult[transfers.Length]));
        }

        later.EnableAccountHistory();

        for (UInt128 account = 1; account <= 50; account++)
        {
            AccountFilter all = Both(account, limit: 5_000);
            UInt128[] expected = [.. transfers.Where(t => t.DebitAccountId == account || t.CreditAccountId == account).Select(t => t.Id)];
            Assert.Equal(expected, Ids(kept.GetAccountTransfers(all)));
            Assert.Equal(expected, Ids(later.GetAccountTransfers(all)));
        }
    }

    /// <summary>
    /// Once an account's lists have room, applying transfers allocates nothing: the index allocates only when its arena
    /// needs a chunk. Two accounts, 1,100 transfers warm (each list moves to a 2,048-entry block at its 1,025th entry, in
    /// a chunk of 4,096 entries), then 900 more.
    /// </summary>
    [Fact]
    public void CreateTransfers_HistoryListsWithRoom_AllocateNothing()
    {
        var ledger = new Ledger(accountCapacity: 16, transferCapacity: 4096);
        ledger.EnableAccountHistory();
        ledger.CreateAccounts(T0, [Acct(1), Acct(2)], new CreateAccountResult[2]);
        var batch = new Transfer[100];
        var results = new CreateTransferResult[100];
        ulong next = 1;
        void Run()
        {
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i] = Tr(next, 1 + (next & 1), 2 - (next & 1), 1);
                next++;
            }

            ledger.CreateTransfers(0, batch, results);
        }

        long allocated = Allocations.OnDedicatedThread(Run, 11, Run, 9);

        Assert.Equal(0, allocated);
        Assert.Equal(2_000, ledger.TransferCount);
        Assert.Equal(2_000, ledger.GetAccountTransfers(Both(1, limit: 5_000)).Length);
    }

    /// <summary>
    /// What the index costs per transfer, amortised over list growth, measured two ways: bytes allocated on the applying
    /// thread with the index minus without (the arena's chunks, allocated whole as they are needed), and the index's own
    /// count of what it uses (directory and every block cut from the arena, outgrown ones included, since blocks are never
    /// reused). Two shapes: 10,000 transfers over 100 accounts (200 entries per account, each list partway between
    /// doublings), where the entries dominate (8 bytes per transfer, up to 4 times that with doubling and outgrown
    /// blocks), and over 10,000 accounts (2 entries per account), where each account's 16-byte directory slot and first
    /// 4-entry block dominate. (The managed heap's growth, <see cref="GC.GetTotalMemory(bool)"/>, is process-wide and moves
    /// with the tests running in parallel: not used.)
    /// </summary>
    [Theory]
    [InlineData(100)]
    [InlineData(10_000)]
    public void CreateTransfers_WithHistory_Costs8To32BytesPerTransferPlus32PerAccount(int accountCount)
    {
        const int Transfers = 10_000;
        (long allocatedWith, Ledger ledger) = Measure(history: true);
        (long allocatedWithout, _) = Measure(history: false);
        double allocatedPerTransfer = (double)(allocatedWith - allocatedWithout) / Transfers;
        double heldPerTransfer = (double)ledger.AccountHistoryMemoryBytes / Transfers;
        double perAccountShare = accountCount * 32.0 / Transfers;
        output.WriteLine($"{accountCount} accounts: allocated while applying {allocatedPerTransfer:F1} B/transfer; held by the index {heldPerTransfer:F1} B/transfer");

        Assert.InRange(heldPerTransfer, 8.0, 32.0 + perAccountShare);
        Assert.InRange(allocatedPerTransfer, 8.0, 64.0 + perAccountShare);
        int entries = 0;
        for (int account = 1; account <= accountCount; account++)
        {
            entries += ledger.GetAccountTransfers(Both((UInt128)account, limit: 1_000)).Length;
        }

        Assert.Equal(2 * Transfers, entries);

        (long Allocated, Ledger Ledger) Measure(bool history)
        {
            var ledger = new Ledger(accountCapacity: accountCount, transferCapacity: Transfers);
            var accounts = new Account[accountCount];
            for (int i = 0; i < accountCount; i++)
            {
                accounts[i] = Acct((UInt128)(i + 1));
            }

            ledger.CreateAccounts(T0, accounts, new CreateAccountResult[accountCount]);
            var batch = new Transfer[Transfers];
            for (int i = 0; i < Transfers; i++)
            {
                int debit = i % accountCount;
                int credit = (debit + 1 + (i / accountCount % (accountCount - 1))) % accountCount;
                batch[i] = Tr((UInt128)(i + 1), (UInt128)(debit + 1), (UInt128)(credit + 1), 1);
            }

            var results = new CreateTransferResult[Transfers];
            if (history)
            {
                ledger.EnableAccountHistory();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(0, ledger.CreateTransfers(T0 + 1, batch, results));
            return (GC.GetAllocatedBytesForCurrentThread() - before, ledger);
        }
    }

    private static ulong Timestamp(Ledger ledger, UInt128 id)
    {
        Assert.True(ledger.TryGetTransfer(id, out Transfer transfer));
        return transfer.Timestamp;
    }
}
