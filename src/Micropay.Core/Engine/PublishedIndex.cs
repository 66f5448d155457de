using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>
/// An insert-only id index written by one thread (the engine's publisher) and read by any number of threads
/// without locks: the read side of <see cref="LedgerEngine"/>'s lookups.
/// </summary>
/// <remarks>
/// <para>
/// Invariants: a slot is 0 (empty) or <c>(fingerprint &lt;&lt; 32) | (row + 1)</c>, written once with a single
/// 8-byte store and never changed or removed; the row it names holds the id, and that row's id never changes
/// once the slot is written (the caller writes the row before inserting). Load stays at or below one half, so
/// every probe sequence ends at an empty slot.
/// </para>
/// <para>
/// Memory ordering: <see cref="Insert"/> writes the slot with a release store, after the row it names; readers
/// load the slot with an acquire load, so a reader that sees the slot also sees the row. Growth builds a complete
/// new slot array and publishes it with a release store; the old array stays valid (it is never written again),
/// so a reader holding it may miss only entries inserted after the switch.
/// </para>
/// <para>
/// Linearization point of an insert: the release store of its slot (in the array current at that moment).
/// </para>
/// </remarks>
internal sealed class PublishedIndex
{
    // Written only by the publisher thread (release); read by readers (acquire).
    private ulong[] _slots;

    // Publisher thread only.
    private int _count;

    public PublishedIndex(int capacity)
    {
        _slots = MemoryCommit.AllocatePinned<ulong>(SlotsFor(Math.Max(capacity, 1024)), zeroed: true);
    }

    private static int SlotsFor(int entries)
    {
        long slots = Math.Max(16, (long)BitOperations.RoundUpToPowerOf2((uint)entries) * 2);
        return (int)Math.Min(slots, 1L << 30);
    }

    /// <summary>The number of entries. Publisher thread only (or the thread that builds the index before it is shared).</summary>
    public int Count => _count;

    /// <summary>Adds an id that is not in the index yet. Publisher thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Insert(UInt128 id, int row)
    {
        Debug.Assert(row >= 0 && row < int.MaxValue);
        ulong[] slots = _slots;
        if ((long)(_count + 1) * 2 > slots.Length)
        {
            slots = Grow(slots);
        }

        Place(slots, Entry(IdHash.Hash(id), row), release: true);
        _count++;
    }

    /// <summary>Adds rows [<paramref name="start"/>, <paramref name="end"/>), none of whose ids is in the index yet. Publisher thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void InsertRows<TRows>(int start, int end, TRows rows)
        where TRows : struct, IRowIds
    {
        ulong[] slots = _slots;
        while ((long)(_count + (end - start)) * 2 > slots.Length)
        {
            slots = Grow(slots);
        }

        // The ids' home slots are scattered: hash a few rows ahead and prefetch their slots, so several cache
        // misses are in flight at once. Each id is hashed once: its hash waits in a small ring until its row's turn
        // (16 ahead, as the ledger's IdIndex bulk insert: 8 left misses unhidden when indexing 10M recovered rows).
        const int Ahead = 16;
        Span<ulong> pending = stackalloc ulong[Ahead];
        int mask = slots.Length - 1;
        int primed = Math.Min(Ahead, end - start);
        for (int i = 0; i < primed; i++)
        {
            pending[i] = IdHash.Hash(rows.IdAt(start + i));
            Prefetch(slots, pending[i], mask);
        }

        for (int row = start; row < end; row++)
        {
            int at = (row - start) & (Ahead - 1);
            ulong hash = pending[at];
            if (row + Ahead < end)
            {
                ulong next = IdHash.Hash(rows.IdAt(row + Ahead));
                pending[at] = next;
                Prefetch(slots, next, mask);
            }

            Place(slots, Entry(hash, row), release: true);
            _count++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ulong[] slots, ulong hash, int mask)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref slots[(uint)(hash >> 32) & (uint)mask]));
        }
    }

    /// <summary>The row published for <paramref name="id"/>, or -1. Any thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find<TRows>(UInt128 id, TRows rows)
        where TRows : struct, IRowIds
    {
        ulong hash = IdHash.Hash(id);
        ulong[] slots = Volatile.Read(ref _slots);
        int mask = slots.Length - 1;
        uint fingerprint = (uint)(hash >> 32);
        for (int i = (int)(fingerprint & (uint)mask); ; i = (i + 1) & mask)
        {
            ulong entry = Volatile.Read(ref slots[i]);
            if (entry == 0)
            {
                return -1;
            }

            if ((uint)(entry >> 32) == fingerprint)
            {
                int row = unchecked((int)(uint)entry) - 1;
                if (rows.IdAt(row) == id)
                {
                    return row;
                }
            }
        }
    }

    private static ulong Entry(ulong hash, int row) => ((hash >> 32) << 32) | unchecked((uint)(row + 1));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Place(ulong[] slots, ulong entry, bool release)
    {
        int mask = slots.Length - 1;
        // The home slot comes from the fingerprint (the hash's high half), so growth can re-place an entry
        // without its id; the low bits of the fingerprint are then implied by the position, the rest still filter.
        int i = (int)((uint)(entry >> 32) & (uint)mask);
        while (slots[i] != 0)
        {
            i = (i + 1) & mask;
        }

        if (release)
        {
            Volatile.Write(ref slots[i], entry);
        }
        else
        {
            slots[i] = entry;
        }
    }

    private ulong[] Grow(ulong[] old)
    {
        // The new array is filled completely before it is published, so readers see either array whole.
        ulong[] slots = MemoryCommit.AllocatePinned<ulong>(old.Length * 2, zeroed: true);
        foreach (ulong entry in old)
        {
            if (entry != 0)
            {
                Place(slots, entry, release: false);
            }
        }

        Volatile.Write(ref _slots, slots);
        return slots;
    }
}

/// <summary>Where a <see cref="PublishedIndex"/> reads the id of a row it names, to confirm a fingerprint match.</summary>
internal interface IRowIds
{
    /// <summary>The id stored in a published row.</summary>
    UInt128 IdAt(int row);
}
