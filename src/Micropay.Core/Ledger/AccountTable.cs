using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Micropay.Core.Ledger;

/// <summary>
/// The accounts: a dense array of 128-byte <see cref="Account"/> rows in creation order, plus an
/// <see cref="IdIndex"/> from id to row.
/// </summary>
/// <remarks>
/// <para>
/// Rows live in a pinned array of 64-byte cache lines, offset so that every row starts on a cache-line boundary
/// and occupies exactly two lines (an unaligned row would straddle three), and so that rows can be prefetched
/// by address. Rows are appended and only ever removed from the end (undo of a failed linked chain), so row
/// numbers are stable.
/// </para>
/// <para>
/// Growth happens only in <see cref="Reserve"/>, before a batch changes anything, by a factor of 1.5: with the
/// index's 16 to 32 bytes per entry this keeps the table under 256 bytes per account even right after growing.
/// </para>
/// </remarks>
internal sealed unsafe class AccountTable
{
    public const int MaxCapacity = 1 << 28;

    private const int DefaultCapacity = 64;

    private CacheLine[] _lines;
    private Account* _rows;
    private int _capacity;
    private int _count;
    private readonly IdIndex _index;

    public AccountTable(int capacity)
    {
        _index = new IdIndex(capacity);
        Allocate(Math.Max(capacity, DefaultCapacity));
    }

    public int Count => _count;

    /// <summary>Bytes this table holds (rows and index), for the memory budget.</summary>
    public long MemoryBytes => ((long)_lines.Length * CacheLine.Size) + _index.MemoryBytes;

    public ref Account this[int row]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert((uint)row < (uint)_count);
            return ref _rows[row];
        }
    }

    // The rows are inside a pinned array that this table keeps alive; the span's interior reference keeps it
    // alive for as long as the caller holds the span, even after the table has grown into a new array.
    /// <summary>The address of a row: stable until the table grows, which happens only between batches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Account* RowPointer(int row)
    {
        Debug.Assert((uint)row < (uint)_count);
        return _rows + row;
    }

    public ReadOnlySpan<Account> AsSpan() => new(_rows, _count);

    [MemberNotNull(nameof(_lines))]
    private void Allocate(int capacity)
    {
        // Two lines per row, plus one so the rows can start on a line boundary whatever the array's address.
        CacheLine[] lines = MemoryCommit.AllocatePinned<CacheLine>(checked((capacity * 2) + 1), zeroed: false);
        byte* start = (byte*)Unsafe.AsPointer(ref lines[0]);
        int offset = (int)((CacheLine.Size - ((nuint)start % CacheLine.Size)) % CacheLine.Size);
        Account* rows = (Account*)(start + offset);
        if (_lines is not null)
        {
            Buffer.MemoryCopy(_rows, rows, (long)capacity * Account.Size, (long)_count * Account.Size);
        }

        _lines = lines;
        _rows = rows;
        _capacity = capacity;
    }

    /// <summary>Makes room for <paramref name="additional"/> more accounts, so that adds never grow midway through a batch.</summary>
    /// <exception cref="LedgerFullException">The table would pass <see cref="MaxCapacity"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reserve(int additional)
    {
        long needed = (long)_count + additional;
        if (needed > _capacity)
        {
            if (needed > MaxCapacity)
            {
                ThrowHelper.ThrowLedgerFullException("account", MaxCapacity, needed);
            }

            long capacity = Math.Max(needed, Math.Min((long)_capacity * 3 / 2, MaxCapacity));
            Allocate((int)capacity);
        }

        _index.Reserve(additional, new Source(_rows), "account");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(UInt128 id) => Find(IdHash.Hash(id), id);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ulong hash, UInt128 id)
    {
        uint value = _index.Find(hash, id, new Source(_rows));
        return value == IdIndex.NotFound ? -1 : (int)value;
    }

    /// <summary>Resolves a candidate from <see cref="FindCandidate"/>: the row if it holds <paramref name="id"/>, else a full lookup.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Resolve(uint candidate, ulong hash, UInt128 id)
    {
        if (candidate == IdIndex.NotFound)
        {
            return -1;
        }

        return _rows[candidate].Id == id ? (int)candidate : Find(hash, id);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchIndex(ulong hash) => _index.Prefetch(hash);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FindCandidate(ulong hash) => _index.FindCandidate(hash);

    /// <summary>Starts loading both cache lines of a row, if <paramref name="candidate"/> names one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchRow(uint candidate)
    {
        if (Sse.IsSupported && candidate < (uint)_count)
        {
            // The candidate is a row number below Count, so the address arithmetic cannot overflow.
            byte* row = unchecked((byte*)(_rows + candidate));
            Sse.Prefetch0(row);
            Sse.Prefetch0(unchecked(row + CacheLine.Size));
        }
    }

    /// <summary>Appends a row; the caller guarantees the id is absent and has reserved room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Add(in Account account, ulong hash)
    {
        Debug.Assert(_count < _capacity, "Reserve was not called for this batch.");
        int row = _count;
        _rows[row] = account;
        _count = row + 1;
        _index.Insert(hash, (uint)row);
        return row;
    }

    /// <summary>Removes the newest row (undo of a failed chain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RemoveLast()
    {
        int row = _count - 1;
        _index.Remove(IdHash.Hash(_rows[row].Id), (uint)row, new Source(_rows));
        _count = row;
    }

    // ---- Bulk load, for LedgerStateMachine.ReadSnapshot only: on an empty table, never between batches. ----

    /// <summary>
    /// Makes the table hold <paramref name="count"/> rows whose contents the caller writes at once into the span
    /// returned, before any other call; <see cref="IndexLoadedRows"/> must follow. The table must be empty.
    /// </summary>
    public Span<Account> LoadRows(int count)
    {
        Debug.Assert(_count == 0 && _index.Count == 0, "Bulk load only fills an empty table.");
        Reserve(count);
        _count = count;
        return new Span<Account>(_rows, count);
    }

    /// <summary>
    /// Indexes every row written through <see cref="LoadRows"/>, in row order. Returns -1, or the first row whose id
    /// an earlier row already has (the table is then unusable and must be dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int IndexLoadedRows() => _index.InsertAllRows(_count, new Source(_rows));

    private readonly struct Source(Account* rows) : IIdSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public UInt128 IdAt(uint value) => rows[value].Id;
    }

    [StructLayout(LayoutKind.Sequential, Size = Size)]
    private struct CacheLine
    {
        public const int Size = 64;

        private readonly long _first;
    }
}
