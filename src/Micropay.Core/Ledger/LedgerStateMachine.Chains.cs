using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// How one kind of event is applied inside the shared batch driver (<see cref="LedgerStateMachine.ApplyBatch"/>):
/// its check-and-apply step, its linked flag and the results the driver writes for chains. Implemented by structs, so
/// the JIT compiles one copy of the driver per kind with every call inlined or direct: the hot path stays one loop.
/// </summary>
/// <typeparam name="TEvent">The event record.</typeparam>
/// <typeparam name="TResult">Its result code (a dense enum whose default value is Ok).</typeparam>
internal interface IEventKind<TEvent, TResult>
    where TResult : unmanaged, Enum
{
    /// <summary>The result of an event applied.</summary>
    static abstract TResult Ok { get; }

    /// <summary>The result of an event whose chain failed at another event.</summary>
    static abstract TResult LinkedEventFailed { get; }

    /// <summary>The result of the last event of a batch that is still linked to a next event the batch does not hold.</summary>
    static abstract TResult LinkedEventChainOpen { get; }

    /// <summary>Whether the event is linked to the next (its chain goes on).</summary>
    static abstract bool IsLinked(in TEvent e);

    /// <summary>Whether a result is <see cref="Ok"/> (a compare the JIT folds, unlike a generic equality).</summary>
    static abstract bool IsOk(TResult result);

    /// <summary>Before the batch's first event: the kind's look-ahead for the first events, if any.</summary>
    void BeforeBatch(ReadOnlySpan<TEvent> events);

    /// <summary>Before event <paramref name="i"/> is applied: the kind's look-ahead (prefetching) for later events, if any.</summary>
    void BeforeEvent(ReadOnlySpan<TEvent> events, int i);

    /// <summary>
    /// Checks and applies event <paramref name="i"/> at <paramref name="timestamp"/>; inside a chain
    /// (<paramref name="inChain"/>) every change is logged in the undo log, so a later failure can roll it back.
    /// </summary>
    TResult Apply(ReadOnlySpan<TEvent> events, int i, ulong timestamp, bool inChain);

    /// <summary>After event <paramref name="i"/> failed with <paramref name="result"/> (after any rollback): e.g. burn its id.</summary>
    void AfterFailure(ReadOnlySpan<TEvent> events, int i, TResult result);
}

/// <content>The batch driver every event kind shares: the clock, linked chains and their rollback.</content>
public sealed partial class LedgerStateMachine
{
    /// <summary>
    /// Applies a batch of events of one kind, writing one result per event, and returns the number that failed.
    /// Events flagged linked form chains that succeed or fail as a whole: the first failure rolls back what the chain
    /// changed and turns every earlier result of the chain into LinkedEventFailed; every later event of the chain gets
    /// LinkedEventFailed without being tried. A chain still open at the batch's end fails there with
    /// LinkedEventChainOpen, unless it had already failed (then LinkedEventFailed, TigerBeetle's documented precedence).
    /// </summary>
    /// <remarks>
    /// The caller reserved room for the whole batch (so a table never grows, or refuses, midway) before calling; this
    /// advances the clock and expires due holds first (<see cref="BeginBatch"/>), then applies the events in order.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ApplyBatch<TEvent, TResult, TKind>(ref TKind kind, ulong timestamp, ReadOnlySpan<TEvent> events, Span<TResult> results)
        where TResult : unmanaged, Enum
        where TKind : struct, IEventKind<TEvent, TResult>
    {
        ulong start = BeginBatch(timestamp, events.Length);
        int n = events.Length;
        int chainStart = -1;
        bool chainBroken = false;
        int failed = 0;
        kind.BeforeBatch(events);
        for (int i = 0; i < n; i++)
        {
            kind.BeforeEvent(events, i);
            bool linked = TKind.IsLinked(in events[i]);
            if (linked && chainStart < 0)
            {
                chainStart = i;
                chainBroken = false;
                BeginChain();
            }

            TResult result;
            if (chainStart >= 0 && chainBroken)
            {
                result = TKind.LinkedEventFailed;
            }
            else if (linked && i == n - 1)
            {
                result = TKind.LinkedEventChainOpen;
                RollbackChain();
                failed += MarkChainFailed<TEvent, TResult, TKind>(results, chainStart, i);
            }
            else
            {
                result = kind.Apply(events, i, start + (ulong)i, inChain: chainStart >= 0);
                if (!TKind.IsOk(result))
                {
                    if (chainStart >= 0)
                    {
                        RollbackChain();
                        failed += MarkChainFailed<TEvent, TResult, TKind>(results, chainStart, i);
                        chainBroken = true;
                    }

                    kind.AfterFailure(events, i, result);
                }
            }

            results[i] = result;
            if (!TKind.IsOk(result))
            {
                failed++;
            }

            if (!linked)
            {
                chainStart = -1;
            }
        }

        return failed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int MarkChainFailed<TEvent, TResult, TKind>(Span<TResult> results, int from, int to)
        where TResult : unmanaged, Enum
        where TKind : struct, IEventKind<TEvent, TResult>
    {
        // Every earlier event of a chain succeeded (the first failure stops the chain), so each one turns into a failure.
        results[from..to].Fill(TKind.LinkedEventFailed);
        return to - from;
    }
}
