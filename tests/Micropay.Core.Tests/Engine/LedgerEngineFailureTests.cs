using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// How the engine fails, stops and refuses: a failed append stops it (unacknowledged callers get
/// <see cref="LedgerEngineException"/>, later calls fail fast, reopening recovers exactly the durable state); a slow
/// append delays results without losing or pre-releasing them; disposal drains accepted work; cancellation applies
/// nothing; arguments and options are checked, naming the parameter.
/// </summary>
public sealed class LedgerEngineFailureTests : EngineTestKit
{
    // Generous: a healthy engine finishes each of these waits in milliseconds; only a hang reaches it.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // For the calls queued behind a store blocked for a second: answered within milliseconds of it unblocking.
    private static readonly TimeSpan CallPatience = TimeSpan.FromSeconds(10);

    private const int AccountCount = 8;

    [Theory]
    [InlineData(AppendFault.FailBeforeWrite)]
    [InlineData(AppendFault.FailAfterWrite)]
    public async Task CreateTransferAsync_AppendFails_UnacknowledgedCallersGetLedgerEngineExceptionAndReopenRecoversTheJournal(AppendFault fault)
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory));
        LedgerEngine engine = await OpenEngineAsync(store);
        List<UInt128> acknowledged = await CreateAcknowledgedStateAsync(engine);
        ulong released = engine.ReleasedBatchNumber;
        Account[] accountsBefore = engine.ReadAllAccounts();

        // Many callers at once, none acknowledged yet: the next append fails, and every one of them must learn that
        // its outcome is unknown (an exception), never a result, whichever batch it landed in.
        store.InjectFault(fault);
        var singles = new List<ValueTask<CreateTransferResult>>();
        var batches = new List<ValueTask<int>>();
        var unacknowledged = new List<UInt128>();
        for (int i = 0; i < 200; i++)
        {
            UInt128 id = (UInt128)(10_000 + i);
            unacknowledged.Add(id);
            singles.Add(engine.CreateTransferAsync(Tr(id, 1 + ((UInt128)i % AccountCount), 1 + ((UInt128)(i + 1) % AccountCount), 1)));
            if (i % 20 == 0)
            {
                Transfer[] batch = [.. Enumerable.Range(0, 5).Select(k => Tr((UInt128)(20_000 + (i * 5) + k), 1, 2, 1))];
                unacknowledged.AddRange(batch.Select(t => t.Id));
                batches.Add(engine.CreateTransfersAsync(batch, new CreateTransferResult[batch.Length]));
            }
        }

        foreach (ValueTask<CreateTransferResult> single in singles)
        {
            await AssertStoppedAsync(async () => await single.AsTask().WaitAsync(Patience));
        }

        foreach (ValueTask<int> batch in batches)
        {
            await AssertStoppedAsync(async () => await batch.AsTask().WaitAsync(Patience));
        }

        Assert.Equal(1, store.FaultsInjected);

        // Stopped for good: later calls fail at once, without waiting for the engine.
        ValueTask<CreateTransferResult> lateTransfer = engine.CreateTransferAsync(Tr(30_000, 1, 2, 1));
        ValueTask<CreateAccountResult> lateAccount = engine.CreateAccountAsync(Acct(99));
        ValueTask<int> lateTransfers = engine.CreateTransfersAsync(new[] { Tr(30_001, 1, 2, 1) }, new CreateTransferResult[1]);
        ValueTask<int> lateAccounts = engine.CreateAccountsAsync(new[] { Acct(98) }, new CreateAccountResult[1]);
        Assert.True(lateTransfer.IsCompleted && lateAccount.IsCompleted && lateTransfers.IsCompleted && lateAccounts.IsCompleted);
        await AssertStoppedAsync(async () => await lateTransfer);
        await AssertStoppedAsync(async () => await lateAccount);
        await AssertStoppedAsync(async () => await lateTransfers);
        await AssertStoppedAsync(async () => await lateAccounts);

        // Reads stay at the last released batch: the failed batch was never published.
        Assert.Equal(released, engine.ReleasedBatchNumber);
        Assert.Equal(accountsBefore, engine.ReadAllAccounts());
        Assert.All(unacknowledged, id => Assert.False(engine.TryGetTransfer(id, out _)));

        await engine.DisposeAsync().AsTask().WaitAsync(Patience);

        // The journal now holds exactly the acknowledged batches, plus the failed one if it was written before the
        // failure; reopening must recover exactly that, nothing more, nothing less.
        JournalReplay journal = await ReplayJournalAsync(Directory);
        ulong durable = released + (fault == AppendFault.FailAfterWrite ? 1UL : 0UL);
        Assert.Equal(durable, journal.LastBatchNumber);
        HashSet<UInt128> inFailedBatch = fault == AppendFault.FailAfterWrite ? [.. journal.Batches[^1].Transfers!.Select(t => t.Id)] : [];

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(durable, reopened.ReleasedBatchNumber);
        AssertSameState(journal.Ledger, reopened, acknowledged.Concat(unacknowledged));
        Assert.All(acknowledged, id => Assert.True(reopened.TryGetTransfer(id, out _), $"acknowledged transfer {id} is missing"));
        Assert.All(unacknowledged, id => Assert.Equal(inFailedBatch.Contains(id), reopened.TryGetTransfer(id, out _)));
        if (fault == AppendFault.FailBeforeWrite)
        {
            Assert.Equal(accountsBefore, reopened.ReadAllAccounts());
        }

        // The caller's recovery: retrying an unacknowledged transfer resolves it (Exists if its batch was durable).
        UInt128 retried = unacknowledged[0];
        CreateTransferResult retry = await reopened.CreateTransferAsync(Tr(retried, 1, 2, 1));
        Assert.Equal(inFailedBatch.Contains(retried) ? CreateTransferResult.Exists : CreateTransferResult.Ok, retry);
        AssertConserved(reopened.ReadAllAccounts());
    }

    [Theory]
    [InlineData(AppendFault.DelayBeforeWrite)]
    [InlineData(AppendFault.DelayAfterWrite)]
    public async Task CreateTransferAsync_SlowAppend_ReleasesTheResultAndTheReadsOnlyAfterTheAppendCompleted(AppendFault fault)
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory)) { Delay = TimeSpan.FromSeconds(1) };
        ulong released;
        await using (LedgerEngine engine = await OpenEngineAsync(store))
        {
            await CreateAcknowledgedStateAsync(engine);
            released = engine.ReleasedBatchNumber;
            Account[] before = engine.ReadAllAccounts();

            store.InjectFault(fault);
            ValueTask<CreateTransferResult> slow = engine.CreateTransferAsync(Tr(500, 1, 2, 5));
            await WaitUntilAsync(() => store.FaultsInjected == 1);

            // Inside the delay (for DelayAfterWrite the batch is already on disk): neither the caller nor a reader
            // may see the batch before the store has acknowledged it.
            Assert.False(slow.IsCompleted);
            Assert.False(engine.TryGetTransfer(500, out _));
            Assert.Equal(released, engine.ReleasedBatchNumber);
            Assert.Equal(before, engine.ReadAllAccounts());

            Assert.Equal(CreateTransferResult.Ok, await slow.AsTask().WaitAsync(Patience));
            Assert.True(engine.TryGetTransfer(500, out _));
            Assert.Equal(released + 1, engine.ReleasedBatchNumber);
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(released + 1, reopened.ReleasedBatchNumber);
        Assert.True(reopened.TryGetTransfer(500, out _));
    }

    [Fact]
    public async Task DisposeAsync_ManySubmissionsNotYetAwaited_CompletesEveryOneWithItsResult()
    {
        LedgerEngine engine = await OpenFileEngineAsync();
        await CreateAcknowledgedStateAsync(engine);
        var singles = new List<(UInt128 Id, ValueTask<CreateTransferResult> Result)>();
        var batches = new List<(Transfer[] Transfers, CreateTransferResult[] Results, ValueTask<int> Failed)>();
        for (int i = 0; i < 2000; i++)
        {
            UInt128 id = (UInt128)(10_000 + i);
            singles.Add((id, engine.CreateTransferAsync(Tr(id, 1 + ((UInt128)i % AccountCount), 1 + ((UInt128)(i + 3) % AccountCount), 1))));
            if (i % 40 == 0)
            {
                Transfer[] transfers = [.. Enumerable.Range(0, 10).Select(k => Tr((UInt128)(50_000 + (i * 10) + k), 2, 3, 1))];
                var results = new CreateTransferResult[transfers.Length];
                batches.Add((transfers, results, engine.CreateTransfersAsync(transfers, results)));
            }
        }

        await engine.DisposeAsync().AsTask().WaitAsync(Patience);

        // Nothing accepted is lost: every call completes with its result (by now or very soon: the results are
        // released on the thread pool).
        foreach ((_, ValueTask<CreateTransferResult> result) in singles)
        {
            Assert.Equal(CreateTransferResult.Ok, await result.AsTask().WaitAsync(Patience));
        }

        foreach ((_, CreateTransferResult[] results, ValueTask<int> failed) in batches)
        {
            Assert.Equal(0, await failed.AsTask().WaitAsync(Patience));
            Assert.All(results, r => Assert.Equal(CreateTransferResult.Ok, r));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateTransferAsync(Tr(1, 1, 2, 1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateAccountAsync(Acct(99)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateTransfersAsync(new[] { Tr(1, 1, 2, 1) }, new CreateTransferResult[1]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.CreateAccountsAsync(new[] { Acct(99) }, new CreateAccountResult[1]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await engine.TakeSnapshotAsync());
        await engine.DisposeAsync(); // a second dispose is harmless

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.All(singles, s => Assert.True(reopened.TryGetTransfer(s.Id, out _)));
        Assert.All(batches.SelectMany(b => b.Transfers), t => Assert.True(reopened.TryGetTransfer(t.Id, out _)));
        AssertConserved(reopened.ReadAllAccounts());
    }

    [Fact]
    public async Task DisposeAsync_WhileCallersKeepSubmitting_EachCallIsCompletedOrRefusedNeverLost()
    {
        LedgerEngine engine = await OpenFileEngineAsync();
        await CreateAcknowledgedStateAsync(engine);
        const int callers = 4;
        var completed = new List<UInt128>[callers];
        var refused = new List<UInt128>[callers];
        using var started = new CountdownEvent(callers);
        Task[] loops = new Task[callers];
        for (int c = 0; c < callers; c++)
        {
            int caller = c;
            completed[c] = [];
            refused[c] = [];
            loops[c] = Task.Run(async () =>
            {
                started.Signal();
                var inFlight = new Queue<(UInt128, ValueTask<CreateTransferResult>)>();
                for (int i = 0; ; i++)
                {
                    UInt128 id = (UInt128)(1_000_000 * (caller + 1)) + (UInt128)i;
                    inFlight.Enqueue((id, engine.CreateTransferAsync(Tr(id, 1, 2, 1))));
                    if (inFlight.Count < 16)
                    {
                        continue;
                    }

                    (UInt128 oldest, ValueTask<CreateTransferResult> result) = inFlight.Dequeue();
                    try
                    {
                        Assert.Equal(CreateTransferResult.Ok, await result);
                        completed[caller].Add(oldest);
                    }
                    catch (ObjectDisposedException)
                    {
                        refused[caller].Add(oldest);
                        break;
                    }
                }

                while (inFlight.TryDequeue(out (UInt128 Id, ValueTask<CreateTransferResult> Result) rest))
                {
                    try
                    {
                        Assert.Equal(CreateTransferResult.Ok, await rest.Result);
                        completed[caller].Add(rest.Id);
                    }
                    catch (ObjectDisposedException)
                    {
                        refused[caller].Add(rest.Id);
                    }
                }
            });
        }

        started.Wait();
        await Task.Delay(150);
        await engine.DisposeAsync().AsTask().WaitAsync(Patience);
        await Task.WhenAll(loops).WaitAsync(Patience);

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.All(completed.SelectMany(c => c), id => Assert.True(reopened.TryGetTransfer(id, out _), $"completed transfer {id} is missing"));
        Assert.All(refused.SelectMany(c => c), id => Assert.False(reopened.TryGetTransfer(id, out _), $"refused transfer {id} was applied"));
        Assert.True(completed.Sum(c => c.Count) > 0);
        AssertConserved(reopened.ReadAllAccounts());
    }

    [Fact]
    public async Task CreateCalls_TokenCancelledBeforeTheCall_ThrowOperationCanceledExceptionAndApplyNothing()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await CreateAcknowledgedStateAsync(engine);
        ulong released = engine.ReleasedBatchNumber;
        Account[] before = engine.ReadAllAccounts();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await engine.CreateTransferAsync(Tr(700, 1, 2, 1), cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await engine.CreateAccountAsync(Acct(700), cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await engine.CreateTransfersAsync(new[] { Tr(701, 1, 2, 1) }, new CreateTransferResult[1], cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await engine.CreateAccountsAsync(new[] { Acct(701) }, new CreateAccountResult[1], cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await engine.TakeSnapshotAsync(cancelled.Token));

        // The next batch is the very next number: nothing was applied or journaled for the cancelled calls.
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(702, 1, 2, 1)));
        Assert.Equal(released + 1, engine.ReleasedBatchNumber);
        Assert.False(engine.TryGetTransfer(700, out _));
        Assert.False(engine.TryGetTransfer(701, out _));
        Assert.False(engine.TryGetAccount(700, out _));
        Assert.False(engine.TryGetAccount(701, out _));
        Assert.Equal(before.Length, engine.ReadAllAccounts().Length);
    }

    [Fact]
    public async Task CreateTransferAsync_RingFullAndStoreBlocked_WaitingCallersCanBeCancelledAndAreNotApplied()
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory)) { Delay = TimeSpan.FromSeconds(1) };
        await using LedgerEngine engine = await OpenEngineAsync(store, ingressCapacity: 2);
        await CreateAcknowledgedStateAsync(engine);
        (Task<Outcome> blocked, Task<Outcome> applied) = await BlockThePipelineAsync(engine, store);

        // Two fit in the ring; the rest wait for room, and those are the ones a token can still take back. Each
        // caller awaits on its own, as real callers do: a cancelled one sees its exception at once.
        using var cancellation = new CancellationTokenSource();
        var waiting = new List<(UInt128 Id, Task<Outcome> Outcome)>();
        for (int i = 0; i < 16; i++)
        {
            UInt128 id = (UInt128)(900 + i);
            waiting.Add((id, ObserveAsync(engine.CreateTransferAsync(Tr(id, 3, 4, 1), cancellation.Token))));
        }

        await cancellation.CancelAsync();
        Outcome[] outcomes = await Task.WhenAll(waiting.Select(w => w.Outcome));

        Assert.Equal(Outcome.Ok, await blocked);
        Assert.Equal(Outcome.Ok, await applied);
        Assert.All(outcomes, o => Assert.True(o is Outcome.Ok or Outcome.Cancelled, $"a waiting caller ended with {o}"));
        UInt128[] cancelledIds = [.. waiting.Where((_, i) => outcomes[i] == Outcome.Cancelled).Select(w => w.Id)];
        UInt128[] appliedIds = [.. waiting.Where((_, i) => outcomes[i] == Outcome.Ok).Select(w => w.Id)];
        Assert.NotEmpty(cancelledIds);
        Assert.All(cancelledIds, id => Assert.False(engine.TryGetTransfer(id, out _), $"transfer {id} was applied although its caller saw it cancelled"));
        Assert.All(appliedIds, id => Assert.True(engine.TryGetTransfer(id, out _)));

        // Account 3 was debited once per applied waiter, and never for a cancelled one.
        Assert.True(engine.TryGetAccount(3, out Account debited));
        Assert.True(engine.TryGetAccount(4, out Account credited));
        Assert.Equal((UInt128)appliedIds.Length, debited.DebitsPosted - InitialDebits(3));
        Assert.Equal((UInt128)appliedIds.Length, credited.CreditsPosted - InitialCredits(4));
    }

    [Fact]
    public async Task CreateTransferAsync_SomeWaitingCallersCancelled_TheOtherWaitersStillComplete()
    {
        // Cancelled waiters complete at once and their callers take the exception while the engine may still hold
        // them on its wait list: the callers waiting beside them must still be served, and new calls (which reuse
        // the engine's pooled submissions) too.
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory)) { Delay = TimeSpan.FromSeconds(1) };
        await using LedgerEngine engine = await OpenEngineAsync(store, ingressCapacity: 2);
        await CreateAcknowledgedStateAsync(engine);
        (Task<Outcome> blocked, Task<Outcome> applied) = await BlockThePipelineAsync(engine, store);

        var tokens = new List<CancellationTokenSource>();
        var waiting = new List<(UInt128 Id, Task<Outcome> Outcome)>();
        for (int i = 0; i < 16; i++)
        {
            UInt128 id = (UInt128)(900 + i);
            var token = new CancellationTokenSource();
            tokens.Add(token);
            waiting.Add((id, ObserveAsync(engine.CreateTransferAsync(Tr(id, 3, 4, 1), token.Token))));
        }

        // Every other one, the newest (the head of the wait list) included.
        var cancelledIds = new HashSet<UInt128>();
        for (int i = waiting.Count - 1; i >= 0; i -= 2)
        {
            await tokens[i].CancelAsync();
            if (await waiting[i].Outcome.WaitAsync(Patience) == Outcome.Cancelled)
            {
                cancelledIds.Add(waiting[i].Id);
            }
        }

        Assert.NotEmpty(cancelledIds);
        var later = new List<(UInt128 Id, Task<Outcome> Outcome)>();
        for (int i = 0; i < 8; i++)
        {
            UInt128 id = (UInt128)(950 + i);
            later.Add((id, ObserveAsync(engine.CreateTransferAsync(Tr(id, 3, 4, 1)))));
        }

        Assert.Equal(Outcome.Ok, await blocked);
        Assert.Equal(Outcome.Ok, await applied);
        foreach ((UInt128 id, Task<Outcome> outcome) in waiting.Where(w => !cancelledIds.Contains(w.Id)).Concat(later))
        {
            // A caller that was never answered shows as TimedOut here.
            Assert.True(await outcome == Outcome.Ok, $"transfer {id}: the caller got {await outcome}");
        }

        Assert.All(cancelledIds, id => Assert.False(engine.TryGetTransfer(id, out _), $"transfer {id} was applied although its caller saw it cancelled"));
        Assert.True(engine.TryGetAccount(3, out Account debited));
        Assert.Equal((UInt128)(waiting.Count - cancelledIds.Count + later.Count), debited.DebitsPosted - InitialDebits(3));
        tokens.ForEach(t => t.Dispose());
    }

    [Fact]
    public async Task SnapshotIntervalBatches_StoreFailsTheSnapshot_EngineKeepsRunningAndReportsLastSnapshotError()
    {
        var store = new FaultInjectingLedgerStore(new FileLedgerStore(Directory)) { FailSnapshotWrites = true };
        Account[] before;
        ulong taken;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = store, SnapshotIntervalBatches = 2, ClockPulses = false }))
        {
            // The genesis batch (batch 1) counts toward the interval like any batch applied since the open, so the
            // accounts' batch (batch 2) makes the first periodic snapshot due.
            Assert.Equal(GenesisBatches, engine.ReleasedBatchNumber);
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));

            // The snapshot due after batch 2 is written (and fails) before batch 3 is released: the publisher does both in order.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(101, 1, 2, 7)));
            Assert.Equal(1, store.SnapshotWriteCalls);
            LedgerEngineException periodic = Assert.IsType<LedgerEngineException>(engine.LastSnapshotError);
            Assert.IsType<LedgerStoreException>(periodic.InnerException);
            Assert.Contains("batch 2", periodic.Message, StringComparison.Ordinal);
            Assert.Equal(0UL, engine.LatestSnapshotBatchNumber);

            // A requested snapshot that fails reports the same way, to its caller and on the property.
            LedgerEngineException requested = await Assert.ThrowsAsync<LedgerEngineException>(async () => await engine.TakeSnapshotAsync());
            Assert.Same(requested, engine.LastSnapshotError);
            Assert.Equal(0UL, engine.LatestSnapshotBatchNumber);

            // Nothing was lost and the engine still takes work; the next snapshot that succeeds clears the error.
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(102, 2, 1, 3)));
            store.FailSnapshotWrites = false;
            taken = await engine.TakeSnapshotAsync();
            Assert.Equal(engine.ReleasedBatchNumber, taken);
            Assert.Null(engine.LastSnapshotError);
            Assert.Equal(taken, engine.LatestSnapshotBatchNumber);
            before = engine.ReadAllAccounts();
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        Assert.Equal(taken, reopened.LatestSnapshotBatchNumber);
        Assert.Null(reopened.LastSnapshotError);
        Assert.Equal(before, reopened.ReadAllAccounts());
    }

    [Fact]
    public async Task BatchCalls_InvalidArguments_ThrowArgumentExceptionNamingTheParameter()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, MaxBatchSize = 4 });
        ulong opened = engine.ReleasedBatchNumber;

        Assert.Equal("transfers", Assert.Throws<ArgumentException>(() => engine.CreateTransfersAsync(ReadOnlyMemory<Transfer>.Empty, new CreateTransferResult[1])).ParamName);
        Assert.Equal("accounts", Assert.Throws<ArgumentException>(() => engine.CreateAccountsAsync(ReadOnlyMemory<Account>.Empty, new CreateAccountResult[1])).ParamName);
        Assert.Equal("transfers", Assert.Throws<ArgumentException>(() => engine.CreateTransfersAsync(new Transfer[5], new CreateTransferResult[5])).ParamName);
        Assert.Equal("accounts", Assert.Throws<ArgumentException>(() => engine.CreateAccountsAsync(new Account[5], new CreateAccountResult[5])).ParamName);
        Assert.Equal("results", Assert.Throws<ArgumentException>(() => engine.CreateTransfersAsync(new Transfer[3], new CreateTransferResult[2])).ParamName);
        Assert.Equal("results", Assert.Throws<ArgumentException>(() => engine.CreateAccountsAsync(new Account[3], new CreateAccountResult[2])).ParamName);
        Assert.Equal("results", Assert.Throws<ArgumentException>(() => engine.LookupAccounts(new UInt128[3], new Account[2])).ParamName);
        Assert.Equal("results", Assert.Throws<ArgumentException>(() => engine.LookupTransfers(new UInt128[3], new Transfer[2])).ParamName);
        Assert.Throws<NotSupportedException>(() => engine.TakeSnapshotAsync());

        // A refused call left nothing behind: the engine still works, and exactly MaxBatchSize is accepted.
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(3), Acct(4) }, new CreateAccountResult[4]));
        Assert.Equal(opened + 1, engine.ReleasedBatchNumber);
    }

    public static TheoryData<string, Func<string, LedgerEngineOptions>> BadOptions => new()
    {
        { "Durability", _ => new LedgerEngineOptions { Durability = (DurabilityMode)7, Store = null } },
        { "Store", _ => new LedgerEngineOptions { Durability = DurabilityMode.Durable } },
        { "Store", _ => new LedgerEngineOptions { Durability = DurabilityMode.Buffered } },
        { "MaxBatchSize", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, MaxBatchSize = 0 } },
        { "MaxBatchSize", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, MaxBatchSize = CommitBatch.MaxEventCount + 1 } },
        { "IngressCapacity", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, IngressCapacity = 1 } },
        { "IngressCapacity", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, IngressCapacity = 48 } },
        { "TimeProvider", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, TimeProvider = null! } },
        { "SnapshotIntervalBatches", d => new LedgerEngineOptions { Store = new FileLedgerStore(d), SnapshotIntervalBatches = -1 } },
        { "AccountCapacity", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, AccountCapacity = -1 } },
        { "TransferCapacity", _ => new LedgerEngineOptions { Durability = DurabilityMode.InMemory, TransferCapacity = -1 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task OpenAsync_BadOption_ThrowsArgumentExceptionNamingIt(string name, Func<string, LedgerEngineOptions> options)
    {
        ArgumentException error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await LedgerEngine.OpenAsync(options(Directory)));
        Assert.Equal(name, error.ParamName);

        // Checked before the store is opened: it wrote nothing (no lock file, no segment).
        Assert.True(!System.IO.Directory.Exists(Directory) || !System.IO.Directory.EnumerateFileSystemEntries(Directory).Any());
    }

    [Fact]
    public async Task OpenAsync_NullOptions_ThrowsArgumentNullException()
    {
        ArgumentNullException error = await Assert.ThrowsAsync<ArgumentNullException>(async () => await LedgerEngine.OpenAsync(null!));
        Assert.Equal("options", error.ParamName);
    }

    // ---- Helpers. ----

    // The setup's funding moves: account 1 pays 100 to every other account (so accounts keep a known baseline).
    private static UInt128 InitialDebits(UInt128 id) => id == 1 ? (UInt128)(100 * (AccountCount - 1)) : 0;

    private static UInt128 InitialCredits(UInt128 id) => id == 1 ? UInt128.Zero : 100;

    /// <summary>
    /// Creates accounts 1 to <see cref="AccountCount"/> and funds them from account 1 (one batch each, awaited):
    /// acknowledged, durable state. Returns the acknowledged transfer ids.
    /// </summary>
    private static async Task<List<UInt128>> CreateAcknowledgedStateAsync(LedgerEngine engine)
    {
        Account[] accounts = [.. Enumerable.Range(1, AccountCount).Select(i => Acct((UInt128)i))];
        Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]));
        var ids = new List<UInt128>();
        for (int i = 2; i <= AccountCount; i++)
        {
            UInt128 id = (UInt128)(100 + i);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(id, 1, (UInt128)i, 100)));
            ids.Add(id);
        }

        return ids;
    }

    /// <summary>
    /// Fills the engine's pipeline behind a blocked append: the first call's batch stalls in the store (for the
    /// store's <see cref="FaultInjectingLedgerStore.Delay"/>), the second call's batch is applied and waits behind it,
    /// and the apply loop then waits for a free batch, so the ingress ring fills up.
    /// </summary>
    private static async Task<(Task<Outcome> Blocked, Task<Outcome> Applied)> BlockThePipelineAsync(LedgerEngine engine, FaultInjectingLedgerStore store)
    {
        store.InjectFault(AppendFault.DelayBeforeWrite);
        Task<Outcome> blocked = ObserveAsync(engine.CreateTransferAsync(Tr(800, 1, 2, 1)));
        await WaitUntilAsync(() => store.FaultsInjected == 1);
        Task<Outcome> applied = ObserveAsync(engine.CreateTransferAsync(Tr(801, 1, 2, 1)));

        // Time for the apply loop to take the second call as a batch of its own (it has nothing else to take). It
        // cannot be observed from outside; were the loop slower than this, the callers queued next would join that
        // batch instead of waiting, and none would be left to cancel.
        await Task.Delay(500);
        return (blocked, applied);
    }

    /// <summary>How one call ended, as its caller saw it (with <see cref="Outcome.TimedOut"/> for a call never answered).</summary>
    private enum Outcome
    {
        Ok,
        Failed,
        Cancelled,
        TimedOut,
        OtherException,
    }

    /// <summary>Awaits one call on its own, as an independent caller would, and reports how it ended.</summary>
    private static async Task<Outcome> ObserveAsync(ValueTask<CreateTransferResult> call)
    {
        try
        {
            return await call.AsTask().WaitAsync(CallPatience) == CreateTransferResult.Ok ? Outcome.Ok : Outcome.Failed;
        }
        catch (OperationCanceledException)
        {
            return Outcome.Cancelled;
        }
        catch (TimeoutException)
        {
            return Outcome.TimedOut;
        }
        catch (Exception)
        {
            return Outcome.OtherException;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    private static async Task AssertStoppedAsync(Func<Task> call)
    {
        LedgerEngineException error = await Assert.ThrowsAsync<LedgerEngineException>(call);
        Assert.IsType<LedgerStoreException>(error.InnerException);
    }
}
