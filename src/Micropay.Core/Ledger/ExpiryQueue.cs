using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// A binary min-heap of pending transfers ordered by expiry time, then row (so the order of expiry is
/// deterministic).
/// </summary>
/// <remarks>
/// Entries are never removed when a hold is posted or voided, nor when a linked chain that created it is rolled
/// back: the ledger checks each popped entry against the row (still pending, and the row's own timestamp and
/// timeout give the same expiry), and skips stale ones. This keeps posting and undo free of heap surgery.
/// </remarks>
internal sealed class ExpiryQueue
{
    private Entry[] _heap = new Entry[16];
    private int _count;

    /// <summary>The entries queued, stale ones included (for diagnostics: the soak test watches it).</summary>
    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Push(ulong expiresAt, int row)
    {
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _heap.Length * 2);
        }

        Entry entry = new(expiresAt, row);
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!entry.LessThan(_heap[parent]))
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = entry;
    }

    /// <summary>The earliest expiry queued (possibly of a hold already posted or voided), or false when none.</summary>
    public bool TryPeek(out ulong expiresAt)
    {
        expiresAt = _count == 0 ? 0 : _heap[0].ExpiresAt;
        return _count != 0;
    }

    /// <summary>Pops the earliest entry if it expires at or before <paramref name="now"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryPopDue(ulong now, out ulong expiresAt, out int row)
    {
        if (_count == 0 || _heap[0].ExpiresAt > now)
        {
            expiresAt = 0;
            row = 0;
            return false;
        }

        expiresAt = _heap[0].ExpiresAt;
        row = _heap[0].Row;
        Entry last = _heap[--_count];
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _heap[child + 1].LessThan(_heap[child]))
            {
                child++;
            }

            if (!_heap[child].LessThan(last))
            {
                break;
            }

            _heap[i] = _heap[child];
            i = child;
        }

        if (_count > 0)
        {
            _heap[i] = last;
        }

        return true;
    }

    private readonly record struct Entry(ulong ExpiresAt, int Row)
    {
        public bool LessThan(Entry other) =>
            ExpiresAt < other.ExpiresAt || (ExpiresAt == other.ExpiresAt && Row < other.Row);
    }
}
