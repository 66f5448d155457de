using System.Buffers;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Engine;

// What the operations checked at the edge share (channels, orders): a batch whose events each got Ok or a refusal on the
// caller's thread goes to the ledger whole, in part, or not at all.
public sealed partial class LedgerEngine
{
    /// <summary>Submits a batch whose edge checks wrote Ok (0) or a refusal per event: all of it, the passed part, or nothing.</summary>
    private ValueTask<int> SubmitChecked<TEvent, TResult>(
        Operation<TEvent, TResult> operation, ReadOnlyMemory<TEvent> events, Memory<TResult> results, int refused, string eventsName, CancellationToken cancellationToken)
        where TEvent : struct
        where TResult : unmanaged, Enum =>
        refused == 0 ? SubmitMany(operation, events, results, eventsName, cancellationToken)
            : refused == events.Length ? new ValueTask<int>(refused)
            : SubmitPassedAsync(operation, events, results, refused, cancellationToken);

    /// <summary>Whether an edge result is Ok: every checked operation's result is a 32-bit enum whose 0 means Ok.</summary>
    private static bool IsOk<TResult>(TResult result)
        where TResult : unmanaged, Enum => Unsafe.As<TResult, uint>(ref result) == 0;

    /// <summary>
    /// Submits the events that passed the edge's checks (their results say Ok), then writes their results beside the
    /// refused ones'. Only batches with refusals come here: the copy (pooled arrays) is the price of a bad event.
    /// </summary>
    private async ValueTask<int> SubmitPassedAsync<TEvent, TResult>(
        Operation<TEvent, TResult> operation, ReadOnlyMemory<TEvent> events, Memory<TResult> results, int refused, CancellationToken cancellationToken)
        where TEvent : struct
        where TResult : unmanaged, Enum
    {
        int count = events.Length - refused;
        TEvent[] passed = ArrayPool<TEvent>.Shared.Rent(count);
        TResult[] passedResults = ArrayPool<TResult>.Shared.Rent(count);
        try
        {
            int n = 0;
            for (int i = 0; i < events.Length; i++)
            {
                if (IsOk(results.Span[i]))
                {
                    passed[n++] = events.Span[i];
                }
            }

            int failed = await SubmitMany(operation, passed.AsMemory(0, count), passedResults.AsMemory(0, count), "events", cancellationToken).ConfigureAwait(false);
            n = 0;
            for (int i = 0; i < events.Length; i++)
            {
                if (IsOk(results.Span[i]))
                {
                    results.Span[i] = passedResults[n++];
                }
            }

            return failed + refused;
        }
        finally
        {
            ArrayPool<TEvent>.Shared.Return(passed, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<TEvent>());
            ArrayPool<TResult>.Shared.Return(passedResults);
        }
    }
}
