using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Micropay.Core.Ledger;

/// <summary>
/// An open-addressing hash index from 128-bit ids to 32-bit values (row numbers, optionally flagged), with 4-byte
/// slots and linear probing. The account table and the transfer table each have one; the transfer table flags
/// the values of burnt ids.
/// </summary>
/// <remarks>
/// <para>
/// Each slot is 4 bytes: <c>row + 1</c> in the low <c>max(24, log2(slots))</c> bits (0 marks an empty slot) and
/// a fingerprint of the id's hash in the rest: 8 bits up to 2^24 slots, fewer for larger tables (down to 2 bits
/// at the maximum). The home bucket comes from the hash's high bits, the fingerprint from its low 32, so they are
/// independent. A fingerprint match is confirmed against the id in the row (through an <see cref="IIdSource"/>):
/// a false match costs a row read, never a wrong answer.
/// </para>
/// <para>
/// Why 4 bytes: the apply loop is bound by how many cache misses it has in flight, and three of its seven misses
/// per transfer are index slots. At 1M entries a 4-byte index is 8 MB instead of 16 MB, so far more of it stays in
/// the last-level cache, which measurably raises the apply rate (benchmarks/README.md, "Figures behind the design's
/// reasons"). With a flag bit (<see cref="FlagBit"/>) the value field is one bit
/// wider and the fingerprint one bit narrower.
/// </para>
/// <para>
/// Invariants: the load factor stays at or below 1/2 (so a probe for a missing id ends after about 2.5 slots,
/// usually within one cache line; and so row numbers stay below half the slot count, which is what lets
/// <c>log2(slots)</c> bits hold them); no tombstones: removal shifts later entries of the cluster back, so every
/// entry is reachable from its home bucket without crossing an empty slot. Growing re-hashes every id and may move
/// the row/fingerprint boundary.
/// </para>
/// </remarks>
internal sealed unsafe class IdIndex
{
    public const uint NotFound = uint.MaxValue;

    /// <summary>The most entries an index holds: half of its largest slot array (2^30 slots).</summary>
    public const int MaxEntries = 1 << 29;

    private const int DefaultMinValueBits = 24;

    private readonly int _minValueBits;
    private readonly int _flagBits;
    private uint _flagBit;

    private uint[] _slots;
    private uint _valueMask;
    private uint* _base;
    private ulong _mask;
    private int _shift;
    private int _count;
    private int _growAt;

    public IdIndex(int capacity)
        : this(capacity, DefaultMinValueBits, withFlagBit: false)
    {
    }

    /// <summary>
    /// An index whose values may carry a flag (<see cref="FlagBit"/>, the top bit of the value field), as the
    /// transfer index marks burnt ids. A smaller <paramref name="minValueBits"/> (tests) makes the value/fingerprint
    /// boundary, and with it <see cref="FlagBit"/>, move on growth.
    /// </summary>
    internal IdIndex(int capacity, int minValueBits, bool withFlagBit)
    {
        _minValueBits = minValueBits;
        _flagBits = withFlagBit ? 1 : 0;
        long wanted = Math.Max(16L, (long)capacity * 2);
        int size = (int)Math.Min(BitOperations.RoundUpToPowerOf2((ulong)wanted), 1UL << 30);
        Allocate(size);
    }

    public int Count => _count;

    /// <summary>The flag bit of a value in the current layout (0 when the index has none); it moves when the index grows.</summary>
    public uint FlagBit => _flagBit;

    public long MemoryBytes => (long)_slots.Length * sizeof(uint);

    [MemberNotNull(nameof(_slots))]
    private void Allocate(int size)
    {
        _slots = MemoryCommit.AllocatePinned<uint>(size, zeroed: true);
        _base = (uint*)Unsafe.AsPointer(ref _slots[0]);
        _mask = (ulong)size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        _growAt = size / 2;

        // Row numbers stay below half the slot count (load <= 1/2), so log2(size) value bits always suffice; the
        // rest of the 32 bits is the fingerprint: 8 bits up to 16M entries, fewer (down to 3) beyond.
        // With a flag, one more bit: payloads stay below half the slot count, so payload + 1 never carries into it.
        int valueBits = Math.Max(_minValueBits, BitOperations.Log2((uint)size) + _flagBits);
        _valueMask = (1u << valueBits) - 1;
        _flagBit = _flagBits == 0 ? 0 : 1u << (valueBits - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Bucket(ulong hash) => hash >> _shift;

    // Probe positions are always below the slot count, so stepping and indexing need no overflow checks
    // (which would otherwise cost a multiply-with-check per probe under CheckForOverflowUnderflow).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Next(ulong pos) => unchecked(pos + 1) & _mask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint SlotAt(ulong pos) => unchecked(_base[pos]);

    // The value half of a slot; the cast deliberately drops the fingerprint half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint ValueOf(uint slot) => (slot & _valueMask) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Fingerprint(ulong hash) => unchecked((uint)hash) & ~_valueMask;

    /// <summary>Asks the processor to start loading the cache line of <paramref name="hash"/>'s home bucket.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(ulong hash)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(unchecked(_base + Bucket(hash)));
        }
    }

    /// <summary>
    /// The value of the first entry in the probe sequence whose fingerprint matches, without reading any id:
    /// almost always the entry for the id. <see cref="NotFound"/> means the id is certainly absent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FindCandidate(ulong hash)
    {
        uint fingerprint = Fingerprint(hash);
        ulong pos = Bucket(hash);
        while (true)
        {
            uint slot = SlotAt(pos);
            if (slot == 0)
            {
                return NotFound;
            }

            if ((slot & ~_valueMask) == fingerprint)
            {
                return ValueOf(slot);
            }

            pos = Next(pos);
        }
    }

    /// <summary>The value stored for <paramref name="id"/>, or <see cref="NotFound"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Find<TSource>(ulong hash, UInt128 id, in TSource source)
        where TSource : struct, IIdSource => Find(hash, id, source, out _);

    /// <summary>
    /// Like <see cref="Find{TSource}(ulong, UInt128, in TSource)"/>, and when the id is absent also gives the slot where it would be inserted
    /// (the empty slot that ended the probe), for <see cref="InsertAt"/> to use if nothing changes the index first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Find<TSource>(ulong hash, UInt128 id, in TSource source, out ulong insertSlot)
        where TSource : struct, IIdSource
    {
        uint fingerprint = Fingerprint(hash);
        ulong pos = Bucket(hash);
        while (true)
        {
            uint slot = SlotAt(pos);
            if (slot == 0)
            {
                insertSlot = pos;
                return NotFound;
            }

            if ((slot & ~_valueMask) == fingerprint)
            {
                uint value = ValueOf(slot);
                if (source.IdAt(value) == id)
                {
                    insertSlot = 0;
                    return value;
                }
            }

            pos = Next(pos);
        }
    }

    /// <summary>Adds an entry at the slot a <see cref="Find{TSource}(ulong, UInt128, in TSource, out ulong)"/> for the same id just gave.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void InsertAt(ulong insertSlot, ulong hash, uint value)
    {
        Debug.Assert(value + 1 <= _valueMask, "Row numbers stay below half the slot count.");
        Debug.Assert(_count < _growAt);
        Debug.Assert(SlotAt(insertSlot) == 0);
        unchecked
        {
            _base[insertSlot] = Fingerprint(hash) | (value + 1);
        }

        _count++;
    }

    /// <summary>Adds an entry. The caller guarantees the id is absent and has reserved room (<see cref="Reserve"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Insert(ulong hash, uint value)
    {
        Debug.Assert(value + 1 <= _valueMask, "Row numbers stay below half the slot count.");
        Debug.Assert(_count < _growAt);
        ulong pos = Bucket(hash);
        while (SlotAt(pos) != 0)
        {
            pos = Next(pos);
        }

        InsertAt(pos, hash, value);
    }

    /// <summary>
    /// Makes room for <paramref name="additional"/> more entries, growing (and re-hashing every id through
    /// <paramref name="source"/>) as needed, so that the inserts that follow never grow the index midway.
    /// </summary>
    /// <exception cref="LedgerFullException">The index would pass <see cref="MaxEntries"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reserve<TSource>(int additional, in TSource source, string table)
        where TSource : struct, IIdSource
    {
        long needed = (long)_count + additional;
        if (needed <= _growAt)
        {
            return;
        }

        if (needed > MaxEntries)
        {
            ThrowHelper.ThrowLedgerFullException(table, MaxEntries, needed);
        }

        int size = _slots.Length;
        while (size / 2 < needed)
        {
            size *= 2;
        }

        Grow(size, source);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow<TSource>(int size, in TSource source)
        where TSource : struct, IIdSource
    {
        uint[] old = _slots;
        uint oldValueMask = _valueMask;
        uint oldFlagBit = _flagBit;
        Allocate(size);
        int count = _count;
        _count = 0;
        foreach (uint slot in old)
        {
            if (slot != 0)
            {
                // Decoded with the old layout and re-encoded with the new: growing may move the value/fingerprint
                // boundary and the flag bit with it.
                uint oldValue = (slot & oldValueMask) - 1;
                uint value = (oldValue & oldFlagBit) != 0 ? (oldValue & ~oldFlagBit) | _flagBit : oldValue;
                Insert(IdHash.Hash(source.IdAt(value)), value);
            }
        }

        Debug.Assert(_count == count);
    }

    /// <summary>
    /// Removes the entry holding <paramref name="value"/> for an id with <paramref name="hash"/>, shifting later
    /// entries of its cluster back (their ids are re-hashed through <paramref name="source"/>). Used only to undo
    /// inserts of a failed linked chain, so it is off the hot path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Remove<TSource>(ulong hash, uint value, in TSource source)
        where TSource : struct, IIdSource
    {
        uint wanted = Fingerprint(hash) | (value + 1);
        ulong hole = Bucket(hash);
        while (_base[hole] != wanted)
        {
            Debug.Assert(_base[hole] != 0, "Removing an entry that is not in the index.");
            hole = Next(hole);
        }

        ulong pos = hole;
        while (true)
        {
            pos = Next(pos);
            uint slot = SlotAt(pos);
            if (slot == 0)
            {
                break;
            }

            ulong home = Bucket(IdHash.Hash(source.IdAt(ValueOf(slot))));

            // The entry at pos may fill the hole unless its home lies cyclically in (hole, pos].
            bool homeBetween = hole <= pos
                ? home > hole && home <= pos
                : home > hole || home <= pos;
            if (!homeBetween)
            {
                _base[hole] = slot;
                hole = pos;
            }
        }

        _base[hole] = 0;
        _count--;
    }

    /// <summary>
    /// Bulk load (snapshot restore): inserts the values 0 .. <paramref name="count"/> - 1, whose ids
    /// <paramref name="source"/> gives, into an index that holds nothing else yet and has room for them. Returns -1,
    /// or the first value whose id an earlier one already has (the index then holds the values before it).
    /// </summary>
    /// <remarks>
    /// With ten million rows nearly every insert misses the cache; hashing and prefetching the home slot
    /// <c>LoadDistance</c> rows ahead lets those misses overlap instead of being paid one after another (as the
    /// ledger's look-ahead pipeline does for transfers). The rows themselves are read in order, which the hardware
    /// prefetcher follows.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int InsertAllRows<TSource>(int count, in TSource source)
        where TSource : struct, IIdSource
    {
        const int LoadDistance = 16;
        const int LoadMask = LoadDistance - 1;
        Debug.Assert(_count == 0 && count <= _growAt, "Bulk load fills an empty index that has room.");
        Span<ulong> hashes = stackalloc ulong[LoadDistance];
        for (int i = 0; i < Math.Min(count, LoadDistance); i++)
        {
            hashes[i] = IdHash.Hash(source.IdAt((uint)i));
            Prefetch(hashes[i]);
        }

        for (int i = 0; i < count; i++)
        {
            ulong hash = hashes[i & LoadMask];
            int ahead = i + LoadDistance;
            if (ahead < count)
            {
                ulong next = IdHash.Hash(source.IdAt((uint)ahead));
                hashes[ahead & LoadMask] = next;
                Prefetch(next);
            }

            UInt128 id = source.IdAt((uint)i);
            if (Find(hash, id, source, out ulong insertSlot) != NotFound)
            {
                return i;
            }

            InsertAt(insertSlot, hash, (uint)i);
        }

        return -1;
    }
}
