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
/// Rows live in a pinned byte array, aligned to 128 bytes, so that each account occupies exactly two cache
/// lines (an unaligned row would straddle three) and can be prefetched by address. Rows are appended and only
/// ever removed from the end (undo of a failed linked chain), so row numbers are stable.
/// </remarks>
internal sealed unsafe class AccountTable
{
    public const int MaxCapacity = 1 << 28;

    private const int Alignment = 128;

    private byte[] _bytes;
    private Account* _rows;
    private int _rowOffset;
    private int _capacity;
    private int _count;
    private readonly IdIndex _index;

    public AccountTable(int capacity)
    {
        _index = new IdIndex(capacity);
        Allocate(Math.Max(capacity, 64));
        MemoryCommit.Touch(_bytes);
    }

    public int Count => _count;

    /// <summary>Bytes this table holds (rows and index), for the memory budget.</summary>
    public long MemoryBytes => _bytes.LongLength + _index.MemoryBytes;

    public ref Account this[int row]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert((uint)row < (uint)_count);
            return ref _rows[row];
        }
    }

    public ReadOnlySpan<Account> AsSpan() =>
        MemoryMarshal.Cast<byte, Account>(_bytes.AsSpan(_rowOffset, _count * Account.Size));

    [MemberNotNull(nameof(_bytes))]
    private void Allocate(int capacity)
    {
        byte[] bytes = GC.AllocateUninitializedArray<byte>(checked((capacity * Account.Size) + Alignment), pinned: true);
        byte* start = (byte*)Unsafe.AsPointer(ref bytes[0]);
        int offset = (int)((Alignment - ((nuint)start % Alignment)) % Alignment);
        Account* rows = (Account*)(start + offset);
        if (_bytes is not null)
        {
            Buffer.MemoryCopy(_rows, rows, (long)capacity * Account.Size, (long)_count * Account.Size);
        }

        _bytes = bytes;
        _rowOffset = offset;
        _rows = rows;
        _capacity = capacity;
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
            byte* row = (byte*)(_rows + candidate);
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 64);
        }
    }

    /// <summary>Appends a row; the caller guarantees the id is absent.</summary>
    public int Add(in Account account, ulong hash)
    {
        if (_count == _capacity)
        {
            if (_capacity == MaxCapacity)
            {
                ThrowHelper.ThrowInvalidOperationException_TableFull("account", MaxCapacity);
            }

            Allocate((int)Math.Min((long)_capacity * 2, MaxCapacity));
        }

        _index.EnsureRoomForOne(new Source(_rows));
        int row = _count;
        _rows[row] = account;
        _count = row + 1;
        _index.Insert(hash, (uint)row);
        return row;
    }

    /// <summary>Removes the newest row (undo of a failed chain).</summary>
    public void RemoveLast()
    {
        int row = _count - 1;
        _index.Remove(IdHash.Hash(_rows[row].Id), (uint)row, new Source(_rows));
        _count = row;
    }

    private readonly struct Source(Account* rows) : IIdSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public UInt128 IdAt(uint value) => rows[value].Id;
    }
}
