using System.Threading.Tasks.Sources;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>What a <see cref="Submission"/> asks the engine to do.</summary>
internal enum SubmissionKind : byte
{
    Account,
    Transfer,
    AccountBatch,
    TransferBatch,
    Snapshot,
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
internal sealed class Submission : IValueTaskSource<int>, IValueTaskSource<CreateAccountResult>, IValueTaskSource<CreateTransferResult>,
    IValueTaskSource<ulong>, IThreadPoolWorkItem
{
    public const int Idle = 0;
    public const int Waiting = 1;
    public const int Accepted = 2;
    public const int Cancelled = 3;

    // Continuations run inline on the thread-pool thread that executes this work item (Execute), never on the
    // engine's own threads, and no per-completion object is allocated.
    private ManualResetValueTaskSourceCore<long> _core;
    private Exception? _error;

    // Whether Execute completes the chain linked through Next (set by the publisher) or this submission only.
    private bool _completesChain;
    private CancellationTokenRegistration _registration;

    public SubmissionKind Kind;
    public Account Account;
    public Transfer Transfer;
    public ReadOnlyMemory<Account> Accounts;
    public Memory<CreateAccountResult> AccountResults;
    public ReadOnlyMemory<Transfer> Transfers;
    public Memory<CreateTransferResult> TransferResults;

    /// <summary>The result to release: a status, a failed count or a batch number.</summary>
    public long Result;

    /// <summary>Where this submission's events start in its batch's staging arrays (apply loop to publisher).</summary>
    public int Offset;

    /// <summary>The intrusive link of the wait list (while Waiting) and of a chain of completions (after release).</summary>
    public Submission? Next;

    /// <summary>Idle, Waiting, Accepted or Cancelled (see the remarks).</summary>
    public int State;

    public short Version => _core.Version;

    /// <summary>The number of events: 1 for a single event, the batch length, or 0 for a snapshot request.</summary>
    public int Count => Kind switch
    {
        SubmissionKind.Account or SubmissionKind.Transfer => 1,
        SubmissionKind.AccountBatch => Accounts.Length,
        SubmissionKind.TransferBatch => Transfers.Length,
        _ => 0,
    };

    public BatchKind BatchKind => Kind switch
    {
        SubmissionKind.Account or SubmissionKind.AccountBatch => BatchKind.Accounts,
        SubmissionKind.Transfer or SubmissionKind.TransferBatch => BatchKind.Transfers,
        _ => BatchKind.None,
    };

    /// <summary>
    /// Whether the submission's last event is flagged Linked: its chain would run into whatever comes next, so it
    /// must be the last submission of its ledger batch (where the ledger fails the open chain, as documented).
    /// </summary>
    public bool EndsWithOpenChain => Kind switch
    {
        SubmissionKind.Account => (Account.Flags & AccountFlags.Linked) != 0,
        SubmissionKind.Transfer => (Transfer.Flags & TransferFlags.Linked) != 0,
        SubmissionKind.AccountBatch => (Accounts.Span[^1].Flags & AccountFlags.Linked) != 0,
        SubmissionKind.TransferBatch => (Transfers.Span[^1].Flags & TransferFlags.Linked) != 0,
        _ => false,
    };

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
        _completesChain = false;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Queues this submission and the chain the publisher linked from it through <see cref="Next"/> for completion.</summary>
    public void ReleaseChain()
    {
        _completesChain = true;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        if (!_completesChain)
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

    private void Signal()
    {
        if (_error is { } error)
        {
            _core.SetException(error);
        }
        else
        {
            _core.SetResult(Result);
        }
    }

    private long GetResultAndReturn(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // A submission cancelled while it waited for room is still linked on the engine's wait list, where the
            // apply loop will find it Cancelled and drop it: it must not be reset (its Next is that list's link) nor
            // reused. It is left to the garbage collector (cancellation is the slow path).
            if (Volatile.Read(ref State) != Cancelled)
            {
                ReturnToPool();
            }
        }
    }

    private void ReturnToPool()
    {
        // The caller has its result; the object goes back to the pool without references to caller memory.
        _core.Reset();
        _error = null;
        _completesChain = false;
        Accounts = default;
        AccountResults = default;
        Transfers = default;
        TransferResults = default;
        Next = null;
        State = Idle;
        SubmissionPool.Return(this);
    }

    int IValueTaskSource<int>.GetResult(short token) => (int)GetResultAndReturn(token);

    CreateAccountResult IValueTaskSource<CreateAccountResult>.GetResult(short token) => (CreateAccountResult)GetResultAndReturn(token);

    CreateTransferResult IValueTaskSource<CreateTransferResult>.GetResult(short token) => (CreateTransferResult)GetResultAndReturn(token);

    ulong IValueTaskSource<ulong>.GetResult(short token) => (ulong)GetResultAndReturn(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>Which ledger operation a submission's events go to.</summary>
internal enum BatchKind : byte
{
    None,
    Accounts,
    Transfers,
}
