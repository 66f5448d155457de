namespace Micropay.Core.Identity;

/// <summary>
/// A key's payments within its rolling window, oldest first, and their sum: exact, so the limit holds for every window
/// (not only for fixed buckets). A payment at time <c>at</c> counts at a time <c>t</c> while <c>t - at &lt; length</c>.
/// Writer thread only. A ring (a power of two long, indexed by mask) that grows by doubling to the most payments any
/// window held, then allocates nothing.
/// </summary>
internal sealed class SpendWindow
{
    private Entry[] _ring = [];
    private int _head;

    /// <summary>How many payments are in the window (as of the last <see cref="Evict"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Their sum (never above the policy's window limit: payments are added only when they fit).</summary>
    public UInt128 Sum { get; private set; }

    /// <summary>Drops the payments that left the window by <paramref name="now"/> (the clock never goes back).</summary>
    public void Evict(ulong now, ulong length)
    {
        while (Count != 0 && now - _ring[_head].At >= length)
        {
            Sum -= _ring[_head].Amount;
            _ring[_head] = default;
            _head = (_head + 1) & (_ring.Length - 1);
            Count--;
        }
    }

    /// <summary>Whether <paramref name="amount"/> more, at <paramref name="now"/>, stays within <paramref name="limit"/>; changes nothing.</summary>
    public bool Fits(ulong now, ulong length, UInt128 amount, UInt128 limit)
    {
        UInt128 spent = SumAt(now, length);
        return spent <= limit && amount <= limit - spent;
    }

    /// <summary>Records a payment at <paramref name="at"/> (it fits, see <see cref="Fits"/>; <see cref="Evict"/> at the same time first).</summary>
    public void Add(ulong at, UInt128 amount)
    {
        if (Count == _ring.Length)
        {
            var grown = new Entry[Math.Max(8, _ring.Length * 2)];
            for (int i = 0; i < Count; i++)
            {
                grown[i] = _ring[(_head + i) & (_ring.Length - 1)];
            }

            _ring = grown;
            _head = 0;
        }

        _ring[(_head + Count) & (_ring.Length - 1)] = new Entry(at, amount);
        Count++;
        Sum += amount;
    }

    /// <summary>
    /// What the payments still inside the window at <paramref name="now"/> add up to, without dropping the others: a check
    /// changes nothing, so the window's content changes only where the key changes (a payment, a policy, a revocation),
    /// and a snapshot or a read after recovery sees what the writer saw. Walks only the payments that left.
    /// </summary>
    public UInt128 SumAt(ulong now, ulong length)
    {
        UInt128 left = UInt128.Zero;
        for (int i = 0; i < Count; i++)
        {
            Entry e = _ring[(_head + i) & (_ring.Length - 1)];
            if (now - e.At < length)
            {
                break;
            }

            left += e.Amount;
        }

        return Sum - left;
    }

    /// <summary>Forgets every payment (a policy without a window).</summary>
    public void Clear()
    {
        _ring = [];
        _head = 0;
        Count = 0;
        Sum = UInt128.Zero;
    }

    /// <summary>The payment <paramref name="i"/> places after the oldest.</summary>
    public (ulong At, UInt128 Amount) this[int i]
    {
        get
        {
            Entry e = _ring[(_head + i) & (_ring.Length - 1)];
            return (e.At, e.Amount);
        }
    }

    private readonly record struct Entry(ulong At, UInt128 Amount);
}
