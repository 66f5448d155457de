using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// The account rows a batch changed, each with its content right after the change, in order (a row may appear
/// more than once; its last entry is its content after the batch). The engine installs one on its ledger
/// (<see cref="LedgerStateMachine.AccountChanges"/>) so it can publish exactly the changed rows without reading the table again.
/// </summary>
/// <remarks>
/// Entries are written while the row is still in the core's cache (just modified), which is why this is a log of
/// images rather than a list of rows read back after the batch. A linked chain that rolls back truncates the log
/// to where the chain began (<see cref="Truncate"/>): the rows it restored hold what they held before, which is
/// either logged earlier in the batch or unchanged. Owned by the ledger's thread.
/// </remarks>
internal sealed class AccountImageLog
{
    private int[] _rows;
    private Account[] _images;
    private int _count;

    public AccountImageLog(int capacity)
    {
        capacity = Math.Max(capacity, 16);
        _rows = new int[capacity];
        _images = new Account[capacity];
    }

    public int Count => _count;

    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, _count);

    public ReadOnlySpan<Account> Images => _images.AsSpan(0, _count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int row, in Account image)
    {
        int count = _count;
        if ((uint)count < (uint)_rows.Length)
        {
            _rows[count] = row;
            _images[count] = image;
            _count = count + 1;
        }
        else
        {
            AddSlow(row, image);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddSlow(int row, in Account image)
    {
        // Grows only when a batch changes more rows than any batch before (many expiries at once).
        Array.Resize(ref _rows, _rows.Length * 2);
        Array.Resize(ref _images, _rows.Length);
        Add(row, image);
    }

    /// <summary>Forgets the entries from <paramref name="count"/> on (a rolled-back chain's).</summary>
    public void Truncate(int count) => _count = Math.Min(_count, count);

    public void Clear() => _count = 0;
}
