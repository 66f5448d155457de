using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// Submitting must not allocate once the engine is warm: a caller making millions of payments cannot afford garbage
/// per call. Measured with the submitting thread's allocation counter on a dedicated thread (see
/// <see cref="Ledger.LedgerAllocationTests"/> for why not the test runner's thread), in the two ways a caller can
/// consume a call: awaiting it (the continuation is brought back to the submitting thread by a single-threaded
/// synchronization context, so everything the caller's side of the call does runs, and is counted, there) and
/// polling it to completion.
/// </summary>
/// <remarks>
/// What is counted is the caller's side only: renting the pooled submission, the ingress ring, waking the apply loop,
/// registering the continuation, taking the result and returning the submission. The engine's own threads and the
/// thread-pool thread that completes the call are not measured (the completion's hop back to a synchronization context
/// allocates there, in the runtime's ManualResetValueTaskSourceCore, not in the engine).
/// </remarks>
public sealed class LedgerEngineAllocationTests
{
    private const int AccountCount = 1_000;
    private const int BatchSize = 16;
    private const int WarmRounds = 3_000;
    private const int MeasuredRounds = 2_000;

    // Each round: one single submission and one batch submission.
    private const int TransfersNeeded = (WarmRounds + MeasuredRounds) * (1 + BatchSize);

    [Fact]
    public async Task CreateTransferAsync_WarmEngineAwaitedOnTheSubmittingThread_AllocatesNothing()
    {
        await using LedgerEngine engine = await OpenWarmEngineAsync();
        ulong opened = engine.ReleasedBatchNumber;
        var submitter = new Submitter(engine);

        // One async method for the whole loop: its state machine is boxed once, at its first await (in the warm-up).
        // A helper async method per round would box a new state machine each round, and that would be the test's
        // allocation, not the engine's.
        long allocated = RunOnPumpThread(async () =>
        {
            long before = 0;
            for (int i = 0; i < WarmRounds + MeasuredRounds; i++)
            {
                if (i == WarmRounds)
                {
                    before = GC.GetAllocatedBytesForCurrentThread();
                }

                CreateTransferResult result = await engine.CreateTransferAsync(submitter.Next());
                submitter.FillBatch();
                int failed = await engine.CreateTransfersAsync(submitter.Batch, submitter.Results);
                Submitter.Check(result, failed);
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        });

        Assert.Equal(0, allocated);
        // Every submission was a batch of its own, after the genesis and accounts batches of the open.
        Assert.Equal(EngineTestKit.GenesisBatches + 1, opened);
        Assert.Equal(opened + (ulong)(2 * (WarmRounds + MeasuredRounds)), engine.ReleasedBatchNumber);
    }

    [Fact]
    public async Task CreateTransferAsync_WarmEnginePolledToCompletion_AllocatesNothing()
    {
        await using LedgerEngine engine = await OpenWarmEngineAsync();
        var submitter = new Submitter(engine);
        long allocated = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < WarmRounds; i++)
                {
                    submitter.PollRound();
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < MeasuredRounds; i++)
                {
                    submitter.PollRound();
                }

                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.UnsafeStart();
        thread.Join();
        Assert.Null(failure);

        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// The race an awaiting caller can lose: its continuation is registered after the result was already set. The
    /// engine then queues the submission itself to run the continuation (ManualResetValueTaskSourceCore would queue a
    /// new work item). Forced here by polling to completion before registering; the registration must allocate
    /// nothing and the continuation must run exactly once with the result.
    /// </summary>
    [Fact]
    public async Task OnCompleted_AfterTheResultIsSet_RunsTheContinuationOnceWithoutAllocating()
    {
        await using LedgerEngine engine = await OpenWarmEngineAsync();
        var submitter = new Submitter(engine);
        long allocated = -1;
        int runs = 0;
        int okResults = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var done = new SemaphoreSlim(0);
                ValueTaskAwaiter<CreateTransferResult> awaiter = default;
                Action continuation = () =>
                {
                    if (awaiter.GetResult() == CreateTransferResult.Ok)
                    {
                        Interlocked.Increment(ref okResults);
                    }

                    Interlocked.Increment(ref runs);
                    done.Release();
                };

                for (int round = 0; round < WarmRounds + MeasuredRounds; round++)
                {
                    ValueTask<CreateTransferResult> single = engine.CreateTransferAsync(submitter.Next());
                    while (!single.IsCompleted)
                    {
                        Thread.Yield();
                    }

                    awaiter = single.GetAwaiter();
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    awaiter.UnsafeOnCompleted(continuation);
                    long after = GC.GetAllocatedBytesForCurrentThread();
                    if (round >= WarmRounds)
                    {
                        allocated = Math.Max(allocated, 0) + (after - before);
                    }

                    done.Wait();
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.UnsafeStart();
        thread.Join();

        Assert.Null(failure);
        Assert.Equal(WarmRounds + MeasuredRounds, runs);
        Assert.Equal(WarmRounds + MeasuredRounds, okResults);
        Assert.Equal(0, allocated);
    }

    private static async Task<LedgerEngine> OpenWarmEngineAsync()
    {
        // Room reserved for every transfer the test makes, so the ledger and the read indexes never grow mid-test
        // (they would grow on the engine's threads, not the measured one, but the test should not depend on that).
        LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Durability = DurabilityMode.InMemory,
            AccountCapacity = AccountCount,
            TransferCapacity = TransfersNeeded,
        });
        Account[] accounts = [.. Enumerable.Range(1, AccountCount).Select(i => new Account { Id = (UInt128)i, LedgerId = 1, Code = 1 })];
        Assert.Equal(0, await engine.CreateAccountsAsync(accounts, new CreateAccountResult[AccountCount]));
        return engine;
    }

    /// <summary>The calls of a round (one single and one batch submission, each completed before the next) and their checks.</summary>
    private sealed class Submitter(LedgerEngine engine)
    {
        private ulong _nextId = 1;

        public Transfer[] Batch { get; } = new Transfer[BatchSize];

        public CreateTransferResult[] Results { get; } = new CreateTransferResult[BatchSize];

        public void PollRound()
        {
            ValueTask<CreateTransferResult> single = engine.CreateTransferAsync(Next());
            while (!single.IsCompleted)
            {
                // Gives the core to the engine's threads (two cores, and they need one each at times).
                Thread.Yield();
            }

            CreateTransferResult result = single.GetAwaiter().GetResult();
            FillBatch();
            ValueTask<int> batch = engine.CreateTransfersAsync(Batch, Results);
            while (!batch.IsCompleted)
            {
                Thread.Yield();
            }

            Check(result, batch.GetAwaiter().GetResult());
        }

        public Transfer Next()
        {
            ulong id = _nextId++;
            return new Transfer
            {
                Id = id,
                DebitAccountId = (id % AccountCount) + 1,
                CreditAccountId = ((id + 1) % AccountCount) + 1,
                Amount = 1,
                LedgerId = 1,
                Code = 1,
            };
        }

        public void FillBatch()
        {
            for (int i = 0; i < Batch.Length; i++)
            {
                Batch[i] = Next();
            }
        }

        public static void Check(CreateTransferResult result, int failed)
        {
            if (result != CreateTransferResult.Ok || failed != 0)
            {
                // Allocates, but only on failure, which fails the test anyway.
                throw new InvalidOperationException($"a submission failed: {result}, {failed} failed in the batch");
            }
        }
    }

    /// <summary>
    /// Runs an async loop on a thread of its own, with a synchronization context that brings every continuation back
    /// to that thread, and returns the loop's result.
    /// </summary>
    internal static long RunOnPumpThread(Func<Task<long>> loop)
    {
        long result = -1;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            var context = new PumpContext();
            SynchronizationContext.SetSynchronizationContext(context);
            try
            {
                Task<long> task = loop();
                while (!task.IsCompleted)
                {
                    context.RunNext();
                }

                result = task.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });

        // Unsafe: no execution context flows from the test runner, so the loop captures none.
        thread.UnsafeStart();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("The measured loop failed.", failure);
        }

        return result;
    }

    /// <summary>A single-threaded synchronization context: posts queue up, the owning thread runs them one by one.</summary>
    private sealed class PumpContext : SynchronizationContext
    {
        // Posted by the thread-pool threads that complete calls; taken by the pump thread. Neither allocates once the
        // queue's segment and the semaphore's lock exist (both made during the warm-up).
        private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();
        private readonly SemaphoreSlim _available = new(0);

        public override void Post(SendOrPostCallback d, object? state)
        {
            _posted.Enqueue((d, state));
            _available.Release();
        }

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

        public void RunNext()
        {
            _available.Wait();
            if (_posted.TryDequeue(out (SendOrPostCallback Callback, object? State) item))
            {
                item.Callback(item.State);
            }
        }
    }
}
