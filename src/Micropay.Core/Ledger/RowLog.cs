using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// The account rows a batch changed, in the order it changed them (a row may appear more than once). The engine
/// installs one on its ledger (<see cref="Ledger.AccountChanges"/>) to copy exactly those rows out after each batch.
/// </summary>
/// <remarks>
/// Rows changed by a linked chain that was rolled back stay listed: their content is the restored one, so copying
/// them again is harmless. A row removed by a rollback may be listed at or past <see cref="Ledger.AccountCount"/>;
/// readers skip those. Owned by the ledger's thread.
/// </remarks>
internal sealed class RowLog
{
    private int[] _rows;
    private int _count;

    public RowLog(int capacity) => _rows = new int[Math.Max(capacity, 16)];

    public int Count => _count;

    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, _count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int first, int second)
    {
        int count = _count;
        int[] rows = _rows;
        if ((uint)(count + 1) < (uint)rows.Length)
        {
            rows[count] = first;
            rows[count + 1] = second;
            _count = count + 2;
        }
        else
        {
            AddSlow(first, second);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddSlow(int first, int second)
    {
        // Grows only when a batch changes more rows than any batch before (many expiries at once).
        Array.Resize(ref _rows, _rows.Length * 2);
        Add(first, second);
    }

    public void Clear() => _count = 0;
}
