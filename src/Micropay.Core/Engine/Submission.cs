using System.Threading.Tasks.Sources;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>What a <see cref="Submission"/> asks the engine to do.</summary>
internal enum SubmissionKind : byte
{
    /// <summary>Apply events of one operation (<see cref="Submission.Operation"/>, <see cref="Submission.Payload"/>).</summary>
    Events,

    /// <summary>Take a snapshot after the batches submitted before it.</summary>
    Snapshot,

    /// <summary>Apply a batch now, even an empty one (a clock pulse).</summary>
    Pulse,
}

/// <summary>
/// One call into the engine, from the caller's thread through the ring and the apply loop to the publisher that
/// completes it: the payload, the result, and the pooled <see cref="IValueTaskSource{TResult}"/> behind the
/// <see cref="ValueTask{TResult}"/> the caller awaits. Reused through <see cref="SubmissionPool"/>, so the steady
/// state allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Ownership moves in one direction: the caller's thread fills it and hands it to the ring (or the wait list);
/// the apply loop owns it from <see cref="TryAccept"/> until it hands the batch to the publisher; the publisher sets
/// the outcome, links the batch's submissions through <see cref="Next"/> and queues the first to the thread pool,
/// whose <see cref="IThreadPoolWorkItem.Execute"/> completes each caller's <see cref="ValueTask{TResult}"/> in turn;
/// <c>GetResult</c> returns it to the pool. Each hand-off is a release store / acquire load pair (ring slot,
/// semaphore, thread-pool queue).
/// </para>
/// <para>
/// <see cref="State"/>: Idle -> Waiting (no room in the ring) -> Accepted or Cancelled, by compare-and-swap,
/// so a cancellation and the apply loop never both win.
/// </para>
/// </remarks>
internal sealed class Submission : IValueTaskSource<int>, IValueTaskSource<ulong>, IThreadPoolWorkItem
{
    public const int Idle = 0;
    public const int Waiting = 1;
    public const int Accepted = 2;
    public const int Cancelled = 3;

    // The completion core. Written out instead of ManualResetValueTaskSourceCore because that core allocates when a
    // caller registers its continuation just after the result was set (it queues a new work item, or posts a new
    // tuple to a captured context); here the submission queues itself, so no path allocates.
    //
    // _completion moves by compare-and-swap: Pending -> Registered (OnCompleted) or Pending -> Completed (Signal),
    // then Registered -> Done (Signal, which runs the continuation) or Completed -> Done (OnCompleted, which queues
    // this submission to run it). Exactly one side sees the other's state and runs the continuation, once. The
    // continuation, its state and contexts are written before the compare-and-swap that publishes them; the outcome
    // (Result, _error) before Signal's. A caller that polls sees Completed and may reuse the submission at once:
    // Signal touches nothing after its compare-and-swap in that case.
    private const int Pending = 0;
    private const int Registered = 1;
    private const int Completed = 2;
    private const int Done = 3;

    private static readonly SendOrPostCallback s_postContinuation = static state => ((Submission)state!).RunContinuation();
    private static readonly ContextCallback s_runContinuation = static state => ((Submission)state!).InvokeContinuation();

    private int _completion;
    private short _version;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private object? _scheduler;
    private ExecutionContext? _executionContext;
    private Exception? _error;

    // What Execute does: complete this submission only (its Next may be a wait-list link), complete the chain the
    // publisher linked through Next, or run a continuation registered after completion.
    private WorkMode _work;

    private enum WorkMode : byte
    {
        CompleteSelf,
        CompleteChain,
        RunContinuation,
    }

    private CancellationTokenRegistration _registration;

    // One payload per operation this submission has carried, by operation index: kept across reuse, so steady-state
    // submits allocate nothing.
    private SubmissionPayload?[] _payloads = [];

    public SubmissionKind Kind;

    /// <summary>The operation whose events this submission carries (<see cref="SubmissionKind.Events"/> only).</summary>
    public Operation? Operation;

    /// <summary>The events and where their results go (<see cref="SubmissionKind.Events"/> only).</summary>
    public SubmissionPayload? Payload;

    /// <summary>Whether the events are a caller's batch (completes with a failed count) rather than one event.</summary>
    public bool IsBatch;

    /// <summary>The number of events: 1 for a single event, the batch length, or 0 for a snapshot request or a pulse.</summary>
    public int Count;

    /// <summary>
    /// Whether the submission's last event is linked: its chain would run into whatever comes next, so it must be the
    /// last submission of its ledger batch (where the ledger fails the open chain, as documented). Computed by the
    /// caller's thread when it submits.
    /// </summary>
    public bool EndsWithOpenChain;

    /// <summary>The result to release: a status, a failed count or a batch number.</summary>
    public long Result;

    /// <summary>Where this submission's events start in its batch's staging arrays (apply loop to publisher).</summary>
    public int Offset;

    /// <summary>The intrusive link of the wait list (while Waiting) and of a chain of completions (after release).</summary>
    public Submission? Next;

    /// <summary>Idle, Waiting, Accepted or Cancelled (see the remarks).</summary>
    public int State;

    public short Version => _version;

    /// <summary>This submission's payload for <paramref name="operation"/> (created the first time it carries that operation).</summary>
    public SubmissionPayload<TEvent, TResult> PayloadFor<TEvent, TResult>(Operation<TEvent, TResult> operation)
        where TEvent : struct
        where TResult : unmanaged, Enum
    {
        int index = operation.Index;
        if (index >= _payloads.Length)
        {
            Array.Resize(ref _payloads, index + 1);
        }

        if (_payloads[index] is SubmissionPayload<TEvent, TResult> payload && payload.Operation == operation)
        {
            return payload;
        }

        var created = (SubmissionPayload<TEvent, TResult>)operation.CreatePayload(this);
        _payloads[index] = created;
        return created;
    }

    /// <summary>Waits for room after a full ring: registers cancellation, then the apply loop or the token decides.</summary>
    public void BeginWaiting(CancellationToken cancellationToken)
    {
        State = Waiting;
        if (cancellationToken.CanBeCanceled)
        {
            // Allocates a registration: only on this slow path (a full ring and a cancellable token).
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((Submission)state!).CancelWhileWaiting(token), this);
        }
    }

    /// <summary>The apply loop takes the submission; false when it was cancelled first (then it is already completed).</summary>
    public bool TryAccept()
    {
        if (State == Idle)
        {
            State = Accepted;
            return true;
        }

        if (Interlocked.CompareExchange(ref State, Accepted, Waiting) != Waiting)
        {
            return false;
        }

        _registration.Unregister();
        _registration = default;
        return true;
    }

    private void CancelWhileWaiting(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref State, Cancelled, Waiting) == Waiting)
        {
            Fail(new OperationCanceledException("The submission was cancelled while it waited for room in the engine's ingress ring; it was not applied.", token));
        }
    }

    /// <summary>Sets the result to release; <see cref="Release"/> or a chain's head then releases it.</summary>
    public void SetOutcome(long result) => Result = result;

    /// <summary>Sets the exception to release; <see cref="Release"/> or a chain's head then releases it.</summary>
    public void SetError(Exception error) => _error = error;

    /// <summary>Releases the result to the caller (on a thread-pool thread).</summary>
    public void Complete(long result)
    {
        Result = result;
        Release();
    }

    /// <summary>Releases an exception to the caller (on a thread-pool thread).</summary>
    public void Fail(Exception error)
    {
        _error = error;
        Release();
    }

    /// <summary>Queues this submission alone for completion (its <see cref="Next"/> may be a wait-list link: not followed).</summary>
    public void Release()
    {
        _work = WorkMode.CompleteSelf;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Queues this submission and the chain the publisher linked from it through <see cref="Next"/> for completion.</summary>
    public void ReleaseChain()
    {
        _work = WorkMode.CompleteChain;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        WorkMode work = _work;
        if (work == WorkMode.RunContinuation)
        {
            RunContinuation();
            return;
        }

        if (work == WorkMode.CompleteSelf)
        {
            Signal();
            return;
        }

        Submission? current = this;
        while (current is not null)
        {
            // Read the link first: completing may run the caller's continuation inline, which returns the
            // submission to the pool, where it may be rented and relinked at once.
            Submission? next = current.Next;
            current.Next = null;
            current.Signal();
            current = next;
        }
    }

    /// <summary>Makes the outcome visible and runs the continuation if one is registered. On a thread-pool thread.</summary>
    private void Signal()
    {
        if (Interlocked.CompareExchange(ref _completion, Completed, Pending) == Pending)
        {
            // No continuation yet: OnCompleted will see Completed and run it; a poller may take the result now.
            return;
        }

        // Registered: the continuation is ours to run.
        Volatile.Write(ref _completion, Done);
        ScheduleContinuation();
    }

    /// <summary>Runs the continuation where the caller asked: its synchronization context or task scheduler, else here.</summary>
    private void ScheduleContinuation()
    {
        switch (_scheduler)
        {
            case SynchronizationContext context:
                context.Post(s_postContinuation, this);
                break;
            case TaskScheduler scheduler:
                // Rare (a custom scheduler was current where the caller awaited); this path allocates a task.
                Task.Factory.StartNew(static state => ((Submission)state!).RunContinuation(), this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler);
                break;
            default:
                RunContinuation();
                break;
        }
    }

    private void RunContinuation()
    {
        if (_executionContext is { } executionContext)
        {
            ExecutionContext.Run(executionContext, s_runContinuation, this);
        }
        else
        {
            InvokeContinuation();
        }
    }

    private void InvokeContinuation() => _continuation!(_continuationState);

    private long GetResultAndReturn(short token)
    {
        if (token != _version || Volatile.Read(ref _completion) < Completed)
        {
            // Not this operation's result (awaited twice, or read before completion): touch nothing.
            throw new InvalidOperationException("The engine's ValueTask was awaited twice, or its result read before it completed; await each call exactly once.");
        }

        Exception? error = _error;
        long result = Result;

        // A submission cancelled while it waited for room is still linked on the engine's wait list, where the apply
        // loop will find it Cancelled and drop it: it must not be reset (its Next is that list's link) nor reused. It
        // is left to the garbage collector (cancellation is the slow path).
        if (Volatile.Read(ref State) != Cancelled)
        {
            ReturnToPool();
        }

        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        return result;
    }

    private void ReturnToPool()
    {
        // The caller has its result; the object goes back to the pool without references to caller memory.
        // The ValueTask token is a short: it passes short.MaxValue after 32,767 uses of one pooled submission, which a long-running
        // engine reaches (the engine's 60-second concurrency stress test does), and the project's checked arithmetic would throw there.
        // Wrapping is harmless: the token only has to differ from the one a finished caller still holds.
        _version = unchecked((short)(_version + 1));
        _continuation = null;
        _continuationState = null;
        _scheduler = null;
        _executionContext = null;
        _error = null;
        _work = WorkMode.CompleteSelf;
        Volatile.Write(ref _completion, Pending);
        ClearEvents();
        Next = null;
        State = Idle;
        SubmissionPool.Return(this);
    }

    /// <summary>Drops the events and references to caller memory (before the submission goes back to the pool).</summary>
    public void ClearEvents()
    {
        Payload?.Clear();
        Payload = null;
        Operation = null;
        IsBatch = false;
        Count = 0;
        EndsWithOpenChain = false;
    }

    /// <summary>The outcome word, for the typed views (<see cref="SubmissionPayload{TEvent, TResult}"/>); returns the submission to the pool.</summary>
    public long GetResult(short token) => GetResultAndReturn(token);

    int IValueTaskSource<int>.GetResult(short token) => (int)GetResultAndReturn(token);

    ulong IValueTaskSource<ulong>.GetResult(short token) => (ulong)GetResultAndReturn(token);

    public ValueTaskSourceStatus GetStatus(short token)
    {
        if (token != _version)
        {
            throw new InvalidOperationException("The engine's ValueTask was awaited twice; await each call exactly once.");
        }

        return Volatile.Read(ref _completion) < Completed ? ValueTaskSourceStatus.Pending
            : _error is null ? ValueTaskSourceStatus.Succeeded
            : _error is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        if (token != _version)
        {
            throw new InvalidOperationException("The engine's ValueTask was awaited twice; await each call exactly once.");
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
        {
            _executionContext = ExecutionContext.Capture();
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0)
        {
            SynchronizationContext? context = SynchronizationContext.Current;
            if (context is not null && context.GetType() != typeof(SynchronizationContext))
            {
                _scheduler = context;
            }
            else if (TaskScheduler.Current != TaskScheduler.Default)
            {
                _scheduler = TaskScheduler.Current;
            }
        }

        _continuation = continuation;
        _continuationState = state;
        int seen = Interlocked.CompareExchange(ref _completion, Registered, Pending);
        if (seen == Pending)
        {
            // Signal will run it.
            return;
        }

        if (seen != Completed)
        {
            throw new InvalidOperationException("The engine's ValueTask was awaited twice; await each call exactly once.");
        }

        // The outcome was set first. Never run the continuation inline here (the caller is inside its await): post it
        // to the caller's context, or queue this submission itself to the thread pool.
        Volatile.Write(ref _completion, Done);
        if (_scheduler is not null)
        {
            ScheduleContinuation();
            return;
        }

        _work = WorkMode.RunContinuation;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }
}
