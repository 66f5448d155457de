using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>
/// The events and results of one batch of one operation on its way through the engine (or through replay): a staging
/// array the submissions are copied into, or one large submission's own memory (applied without a copy).
/// </summary>
internal abstract class OperationStaging
{
    /// <summary>The operation whose events these are.</summary>
    public abstract Operation Operation { get; }

    /// <summary>Applies the batch's <paramref name="count"/> events to the state machine; returns the failed count.</summary>
    public abstract int Apply(LedgerStateMachine ledger, ulong timestamp, int count);

    /// <summary>Encodes the batch's <paramref name="count"/> events into <paramref name="destination"/> (count × event size bytes).</summary>
    public abstract void Encode(int count, Span<byte> destination);

    /// <summary>Decodes <paramref name="count"/> journaled events into the staging array, growing it if a batch is larger (replay).</summary>
    public abstract void Decode(ReadOnlySpan<byte> source, int count);

    /// <summary>Forgets a direct batch's caller memory (the batch is done).</summary>
    public abstract void Clear();

    /// <summary>Copies the batch's first <paramref name="count"/> results as numbers (the audit log's leaves carry them).</summary>
    public abstract void CopyResultCodes(int count, Span<uint> destination);

    /// <summary>Rechecks each decoded event at the edge (<see cref="Operation{TEvent, TResult}.RecheckEdge"/>), adding each refusal; returns how many signed events passed.</summary>
    public abstract int RecheckEdge(int count, in JournalEdge edge, List<(int Index, string Refusal)> refusals);
}

/// <inheritdoc cref="OperationStaging"/>
internal sealed class OperationStaging<TEvent, TResult>(Operation<TEvent, TResult> operation, int capacity) : OperationStaging
    where TEvent : struct
    where TResult : unmanaged, Enum
{
    public TEvent[] Events = new TEvent[capacity];
    public TResult[] Results = new TResult[capacity];

    /// <summary>When the batch is one large batch submission: the caller's events, applied without a copy.</summary>
    public ReadOnlyMemory<TEvent> Direct;

    public override Operation Operation => operation;

    public ReadOnlySpan<TEvent> EventsOf(int count) => Direct.IsEmpty ? Events.AsSpan(0, count) : Direct.Span;

    public override int Apply(LedgerStateMachine ledger, ulong timestamp, int count) =>
        operation.Apply(ledger, timestamp, EventsOf(count), Results);

    public override void Encode(int count, Span<byte> destination) => operation.Encode(EventsOf(count), destination);

    public override void Decode(ReadOnlySpan<byte> source, int count)
    {
        if (Events.Length < count)
        {
            // Written by an engine with a larger MaxBatchSize than this one's: replay it all the same.
            Events = new TEvent[count];
            Results = new TResult[count];
        }

        operation.Decode(source, Events.AsSpan(0, count));
    }

    public override void Clear() => Direct = default;

    public override int RecheckEdge(int count, in JournalEdge edge, List<(int Index, string Refusal)> refusals)
    {
        int verified = 0;
        ReadOnlySpan<TEvent> events = EventsOf(count);
        for (int i = 0; i < events.Length; i++)
        {
            if (operation.RecheckEdge(events[i], edge, out bool signed) is { } refusal)
            {
                refusals.Add((i, refusal));
            }
            else if (signed)
            {
                verified++;
            }
        }

        return verified;
    }

    public override void CopyResultCodes(int count, Span<uint> destination)
    {
        ReadOnlySpan<TResult> results = Results.AsSpan(0, count);
        if (Unsafe.SizeOf<TResult>() == sizeof(uint))
        {
            MemoryMarshal.Cast<TResult, uint>(results).CopyTo(destination);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            destination[i] = Convert.ToUInt32(results[i], System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
