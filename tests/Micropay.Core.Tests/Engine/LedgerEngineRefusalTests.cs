using System.Runtime.CompilerServices;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// How the apply loop tells a batch the ledger refused whole (before changing anything: the engine goes on, the batch
/// is not journaled, its callers get the reason) from an exception thrown after the ledger changed its memory (the
/// engine stops exactly as after a store failure, even when the exception has a refusal's type: going on would
/// acknowledge later batches on top of state that no replay of the journal reproduces).
/// </summary>
public sealed class LedgerEngineRefusalTests : EngineTestKit
{
    // Generous: a healthy engine answers in milliseconds; only a hang reaches it.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static TheoryData<string> MidBatchExceptions => ["ClockOverflowArgumentOutOfRange", "LedgerFull", "InvalidOperation"];

    [Theory]
    [MemberData(nameof(MidBatchExceptions))]
    public async Task CreateTransferAsync_LedgerThrowsAfterChangingItsMemory_FaultsTheEngineAndReopenRecoversTheJournal(string kind)
    {
        // The first two have exactly the types (and, for the clock, the parameter name) of the ledger's refusals, which
        // the engine used to take for "refused before anything changed"; the third is a plain bug, for comparison.
        Exception injected = kind switch
        {
            "ClockOverflowArgumentOutOfRange" => new ArgumentOutOfRangeException("timestamp", "injected after the ledger applied the batch"),
            "LedgerFull" => new LedgerFullException("injected after the ledger applied the batch"),
            _ => new InvalidOperationException("injected after the ledger applied the batch"),
        };

        LedgerEngine engine = await OpenFileEngineAsync();
        await CreateFundedAccountsAsync(engine);
        ulong released = engine.ReleasedBatchNumber;
        Account[] accountsBefore = engine.ReadAllAccounts();

        // Thrown once, on the apply thread, right after the ledger applied the next batch (its transfer is in the
        // ledger's memory, its accounts changed, its clock moved): as a ledger failing midway would.
        int armed = 1;
        engine.AfterLedgerBatchForTests = () =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                throw injected;
            }
        };

        LedgerEngineException stopped = await Assert.ThrowsAsync<LedgerEngineException>(
            async () => await engine.CreateTransferAsync(Tr(500, 1, 2, 7)).AsTask().WaitAsync(Patience));
        Assert.Same(injected, stopped.InnerException?.InnerException);
        Assert.Equal(0, armed);

        // Stopped for good: later calls fail at once (the hook no longer throws, so this is the fault, not the hook).
        ValueTask<CreateTransferResult> lateTransfer = engine.CreateTransferAsync(Tr(501, 1, 2, 1));
        ValueTask<int> lateTransfers = engine.CreateTransfersAsync(new[] { Tr(502, 1, 2, 1) }, new CreateTransferResult[1]);
        ValueTask<CreateAccountResult> lateAccount = engine.CreateAccountAsync(Acct(99));
        Assert.True(lateTransfer.IsCompleted && lateTransfers.IsCompleted && lateAccount.IsCompleted);
        await Assert.ThrowsAsync<LedgerEngineException>(async () => await lateTransfer);
        await Assert.ThrowsAsync<LedgerEngineException>(async () => await lateTransfers);
        await Assert.ThrowsAsync<LedgerEngineException>(async () => await lateAccount);

        // Nothing of the failed batch was published or journaled.
        Assert.Equal(released, engine.ReleasedBatchNumber);
        Assert.Equal(accountsBefore, engine.ReadAllAccounts());
        Assert.False(engine.TryGetTransfer(500, out _));
        await engine.DisposeAsync().AsTask().WaitAsync(Patience);

        JournalReplay journal = await ReplayJournalAsync(Directory);
        Assert.Equal(released, journal.LastBatchNumber);
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(released, reopened.ReleasedBatchNumber);
        Assert.Equal(accountsBefore, reopened.ReadAllAccounts());
        AssertSameState(journal.Ledger, reopened, [500, 501, 502]);

        // The caller's recovery: the unacknowledged transfer was never durable, so retrying it applies it now.
        Assert.Equal(CreateTransferResult.Ok, await reopened.CreateTransferAsync(Tr(500, 1, 2, 7)));
    }

    [Fact]
    public async Task CreateTransfersAsync_BatchWouldOverflowTheClock_RefusedWithArgumentOutOfRangeExceptionAndTheEngineGoesOn()
    {
        var clock = new ManualClock();
        LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory),
            TimeProvider = clock,
            ClockPulses = false,
        });
        await CreateFundedAccountsAsync(engine);
        ulong released = engine.ReleasedBatchNumber;
        Account[] accountsBefore = engine.ReadAllAccounts();

        // 15 ns before the end of the 64-bit clock (in the year 2554): a batch of 20 events would need timestamps past
        // it, so the ledger refuses the batch whole; a single event still fits.
        clock.Nanoseconds = ulong.MaxValue - 15;
        Assert.Equal(ulong.MaxValue - 15, clock.Nanoseconds);
        Transfer[] tooMany = [.. Enumerable.Range(0, 20).Select(i => Tr((UInt128)(600 + i), 1, 2, 1))];
        ArgumentOutOfRangeException refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await engine.CreateTransfersAsync(tooMany, new CreateTransferResult[tooMany.Length]).AsTask().WaitAsync(Patience));
        Assert.Equal("timestamp", refused.ParamName);
        Assert.Equal(released, engine.ReleasedBatchNumber);
        Assert.Equal(accountsBefore, engine.ReadAllAccounts());

        // The engine goes on: the next batch is applied, journaled and released.
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(700, 1, 2, 3)).AsTask().WaitAsync(Patience));
        Assert.Equal(released + 1, engine.ReleasedBatchNumber);
        Assert.True(engine.TryGetTransfer(700, out Transfer applied));
        Assert.Equal(ulong.MaxValue - 15, applied.Timestamp);
        await engine.DisposeAsync().AsTask().WaitAsync(Patience);

        // The refused batch left no trace: not journaled, none of its ids burnt.
        JournalReplay journal = await ReplayJournalAsync(Directory);
        Assert.Equal(released + 1, journal.LastBatchNumber);
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        AssertSameState(journal.Ledger, reopened, [700, .. tooMany.Select(t => t.Id)]);
        Assert.All(tooMany, t => Assert.False(reopened.TryGetTransfer(t.Id, out _)));
    }

    [Fact]
    public async Task CreateTransferAsync_TransferTableFull_RefusedWithLedgerFullExceptionAndTheEngineGoesOn()
    {
        LedgerEngine engine = await OpenFileEngineAsync();
        await CreateFundedAccountsAsync(engine);
        ulong released = engine.ReleasedBatchNumber;
        Account[] accountsBefore = engine.ReadAllAccounts();

        // A full transfer table holds 2^29 transfers and burnt ids (tens of GiB), more than a test can create; the
        // ledger's transfer index counts them, and Reserve refuses a batch that would pass its limit. Setting that count
        // (and nothing else) makes the ledger's own refusal path run, unchanged. The engine is idle here, and the next
        // submission's enqueue (a full fence) publishes the write to the apply thread.
        IdIndex index = TransferIndex(Transfers(LedgerOf(engine)));
        int realCount = IdIndexCount(index);
        IdIndexCount(index) = IdIndex.MaxEntries;
        await Assert.ThrowsAsync<LedgerFullException>(async () => await engine.CreateTransferAsync(Tr(800, 1, 2, 5)).AsTask().WaitAsync(Patience));
        Assert.Equal(IdIndex.MaxEntries, Volatile.Read(ref IdIndexCount(index)));
        Assert.Equal(released, engine.ReleasedBatchNumber);
        Assert.Equal(accountsBefore, engine.ReadAllAccounts());
        Assert.False(engine.TryGetTransfer(800, out _));

        // Room again: the engine goes on, and the refused transfer's id was not burnt (Ok, not IdAlreadyFailed).
        Volatile.Write(ref IdIndexCount(index), realCount);
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(800, 1, 2, 5)).AsTask().WaitAsync(Patience));
        Assert.Equal(released + 1, engine.ReleasedBatchNumber);
        await engine.DisposeAsync().AsTask().WaitAsync(Patience);

        JournalReplay journal = await ReplayJournalAsync(Directory);
        Assert.Equal(released + 1, journal.LastBatchNumber);
        await using LedgerEngine reopened = await OpenFileEngineAsync();
        AssertSameState(journal.Ledger, reopened, [800]);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_ledger")]
    private static extern ref Ledger LedgerOf(LedgerEngine engine);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_transfers")]
    private static extern ref TransferTable Transfers(LedgerStateMachine ledger);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_index")]
    private static extern ref IdIndex TransferIndex(TransferTable table);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_count")]
    private static extern ref int IdIndexCount(IdIndex index);

    /// <summary>Accounts 1 to 4 and a transfer from 1 to each other account: acknowledged, durable state (two batches or more).</summary>
    private static async Task CreateFundedAccountsAsync(LedgerEngine engine)
    {
        Account[] accounts = [.. Enumerable.Range(1, 4).Select(i => Acct((UInt128)i))];
        Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]).AsTask().WaitAsync(Patience));
        for (int i = 2; i <= 4; i++)
        {
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, (UInt128)i, 100)).AsTask().WaitAsync(Patience));
        }
    }
}
