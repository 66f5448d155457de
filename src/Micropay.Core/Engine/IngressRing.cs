using System.Runtime.InteropServices;

namespace Micropay.Core.Engine;

/// <summary>
/// The engine's ingress: a bounded multi-producer, single-consumer ring of submissions (Vyukov's bounded queue
/// specialised to one consumer). Producers claim a position with one compare-and-swap, write their submission into
/// the slot and publish it; the apply loop takes slots in position order.
/// </summary>
/// <remarks>
/// <para>
/// Invariants: slot <c>i</c>'s sequence is <c>p</c> when position <c>p</c> (with <c>p mod capacity == i</c>) is free
/// to claim, <c>p + 1</c> once the submission at <c>p</c> is published, and <c>p + capacity</c> once the consumer
/// has taken it. <c>_head</c> (consumer) never passes <c>_tail</c> (producers).
/// </para>
/// <para>
/// Memory ordering: a producer writes the item, then release-stores (by an interlocked exchange, which is also the
/// full fence the wake-up protocol needs) the sequence <c>p + 1</c>; the consumer acquire-loads the sequence before
/// reading the item, and release-stores <c>p + capacity</c> after clearing it.
/// </para>
/// <para>
/// Linearization point of an enqueue: the successful compare-and-swap on <c>_tail</c> (positions order the
/// submissions); the consumer may see it only after the publish store. Progress: producers are lock-free among
/// themselves; the consumer waits for a producer that claimed a position but has not published it yet.
/// </para>
/// </remarks>
internal sealed class IngressRing
{
    private readonly Slot[] _slots;
    private readonly long _mask;

    // Producers only (compare-and-swap). Padded away from _head so producers and consumer do not share a line.
    private PaddedLong _tail;

    // Written by the consumer only (plain stores); also read, for monitoring only, by ApproximateCount on any thread.
    private PaddedLong _head;

    public IngressRing(int capacity)
    {
        if (capacity < 2 || !int.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The ring's capacity must be a power of two of at least 2.");
        }

        _slots = new Slot[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _slots[i].Sequence = i;
        }

        _mask = capacity - 1;
    }

    /// <summary>Claims a position and publishes <paramref name="item"/> there; false when the ring is full. Any thread.</summary>
    public bool TryEnqueue(Submission item)
    {
        long position = Volatile.Read(ref _tail.Value);
        while (true)
        {
            ref Slot slot = ref _slots[position & _mask];
            long sequence = Volatile.Read(ref slot.Sequence);
            long difference = sequence - position;
            if (difference == 0)
            {
                long seen = Interlocked.CompareExchange(ref _tail.Value, position + 1, position);
                if (seen == position)
                {
                    slot.Item = item;
                    Interlocked.Exchange(ref slot.Sequence, position + 1);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                // The slot still holds the item from one lap ago: the ring is full.
                return false;
            }
            else
            {
                position = Volatile.Read(ref _tail.Value);
            }
        }
    }

    /// <summary>Takes the next published submission, if any. Consumer only.</summary>
    public bool TryDequeue(out Submission? item)
    {
        long head = _head.Value;
        ref Slot slot = ref _slots[head & _mask];
        if (Volatile.Read(ref slot.Sequence) != head + 1)
        {
            item = null;
            return false;
        }

        item = slot.Item;
        slot.Item = null;
        Volatile.Write(ref slot.Sequence, head + _slots.Length);
        _head.Value = head + 1;
        return true;
    }

    /// <summary>Whether a submission is published at the head. Consumer only.</summary>
    public bool HasItem
    {
        get
        {
            long head = _head.Value;
            return Volatile.Read(ref _slots[head & _mask].Sequence) == head + 1;
        }
    }

    /// <summary>Whether a producer has claimed a position the consumer has not taken yet (published or not). Consumer only.</summary>
    public bool HasClaims => Volatile.Read(ref _tail.Value) != _head.Value;

    /// <summary>
    /// Positions claimed and not yet taken, for monitoring; any thread. The two reads are not one snapshot, so it is
    /// approximate while the ring moves (head is read first, and the result is clamped to 0..capacity, so a stale or, on a
    /// 32-bit process, torn read of the consumer's plain store stays in range), and exact when it is still.
    /// </summary>
    public int ApproximateCount
    {
        get
        {
            long head = Volatile.Read(ref _head.Value);
            long tail = Volatile.Read(ref _tail.Value);
            return (int)Math.Clamp(tail - head, 0, _slots.Length);
        }
    }

    private struct Slot
    {
        public long Sequence;
        public Submission? Item;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedLong
    {
        [FieldOffset(64)]
        public long Value;
    }
}
