using System.Threading.Tasks.Sources;

namespace Micropay.Core.Engine;

/// <summary>
/// The typed part of a <see cref="Submission"/>: its events (one, held inline, or a caller's batch) and where their
/// results go. Each pooled submission keeps one payload per operation it has carried, so steady-state submits allocate
/// nothing. The apply loop and the publisher reach it through two virtual calls per submission.
/// </summary>
internal abstract class SubmissionPayload
{
    /// <summary>The operation this payload's events belong to.</summary>
    public abstract Operation Operation { get; }

    /// <summary>Copies the events into a batch's staging at <paramref name="offset"/> (apply loop).</summary>
    public abstract void CopyTo(OperationStaging staging, int offset);

    /// <summary>Lends the caller's batch to the staging, to be applied without a copy (apply loop).</summary>
    public abstract void LendTo(OperationStaging staging);

    /// <summary>
    /// The outcome to release, from the batch's results at <paramref name="offset"/> (publisher): a single event's result
    /// code, or a batch's failed count after its results were copied to the caller's memory.
    /// </summary>
    public abstract long TakeOutcome(OperationStaging staging, int offset);

    /// <summary>Drops references to caller memory (the submission goes back to the pool).</summary>
    public abstract void Clear();
}

/// <inheritdoc cref="SubmissionPayload"/>
/// <remarks>Also the <see cref="IValueTaskSource{TResult}"/> a single event's caller awaits: it forwards to its
/// submission, which owns completion, and converts the outcome word to the operation's result type.</remarks>
internal sealed class SubmissionPayload<TEvent, TResult>(Operation<TEvent, TResult> operation, Submission owner) : SubmissionPayload, IValueTaskSource<TResult>
    where TEvent : struct
    where TResult : unmanaged, Enum
{
    public override Operation Operation => operation;

    public TEvent Single;
    public ReadOnlyMemory<TEvent> Events;
    public Memory<TResult> Results;

    public override void CopyTo(OperationStaging staging, int offset)
    {
        var typed = (OperationStaging<TEvent, TResult>)staging;
        if (Events.IsEmpty)
        {
            typed.Events[offset] = Single;
        }
        else
        {
            Events.Span.CopyTo(typed.Events.AsSpan(offset));
        }
    }

    public override void LendTo(OperationStaging staging) => ((OperationStaging<TEvent, TResult>)staging).Direct = Events;

    public override long TakeOutcome(OperationStaging staging, int offset)
    {
        var typed = (OperationStaging<TEvent, TResult>)staging;
        if (Events.IsEmpty)
        {
            return operation.ToOutcome(typed.Results[offset]);
        }

        ReadOnlySpan<TResult> results = typed.Results.AsSpan(offset, Events.Length);
        results.CopyTo(Results.Span);
        int failed = 0;
        foreach (TResult result in results)
        {
            // Ok is the default value of every result enum; for an enum the JIT turns this compare into one instruction.
            failed += EqualityComparer<TResult>.Default.Equals(result, default) ? 0 : 1;
        }

        return failed;
    }

    public override void Clear()
    {
        Events = default;
        Results = default;
    }

    TResult IValueTaskSource<TResult>.GetResult(short token) => operation.FromOutcome(owner.GetResult(token));

    ValueTaskSourceStatus IValueTaskSource<TResult>.GetStatus(short token) => owner.GetStatus(token);

    void IValueTaskSource<TResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        owner.OnCompleted(continuation, state, token, flags);
}
