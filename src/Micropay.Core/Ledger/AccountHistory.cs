using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// Per account, the transfer rows in which it appears, in row order: the index behind
/// <see cref="LedgerStateMachine.GetAccountTransfers(in AccountFilter, Span{Transfer})"/> and the engine's history reads.
/// Written by the ledger's single writer as it adds transfer rows; read by that writer, or (through the engine) by any
/// thread without locks.
/// </summary>
/// <remarks>
/// <para>
/// Derived state: never written to snapshots. <see cref="LedgerStateMachine.EnableAccountHistory"/> builds it from the
/// rows a ledger holds (after <c>ReadSnapshot</c> and replay, say) and the writer keeps it from then on.
/// </para>
/// <para>
/// Entry: <c>row | CreditBit</c>, the credit bit set when the account is the transfer's credit account (rows are below
/// 2^31, <see cref="TransferTable.MaxCapacity"/>), so a one-sided filter skips the other side without reading rows.
/// </para>
/// <para>
/// Invariants (at every store of a slot's <c>Count</c>): entries [0, Count) of the slot's block are exactly the rows
/// naming the account, ascending. Rows are appended in increasing order and removed only from the end (a rolled-back
/// chain), and row order is timestamp order (the ledger's timestamps strictly increase and rows are added in event
/// order), so each list is sorted by timestamp too: range bounds are binary searches. A list moves to a new block (twice
/// as long, cut from an arena of <c>int</c> chunks) only when its block is full, with its entries copied before the move
/// is published; an outgrown block is never reused, and chunks are never moved. The directory (<c>_slots</c>) only grows;
/// a grown directory holds a copy of every slot before it is published, and the old one is never written again.
/// </para>
/// <para>
/// Memory ordering: the writer stores an entry, then release-stores <c>Count</c>; a new block is release-stored (after
/// its copy, and after the chunk directory that holds its chunk) before any count that needs it; grown directories are
/// release-stored before use. A concurrent reader (the engine's) first acquire-loads the released transfer count
/// <c>R</c> (the engine's publisher release-stores it after the writer finished those rows: writer, then the batch
/// hand-off, then the publisher), then the directory, <c>Count</c>, the block and the chunk directory with acquire
/// loads, in that order. Entries naming rows below <c>R</c> form a prefix that never changes again (the batch that wrote
/// them is finished, and rollback only touches the batch being applied, whose rows are all at or above any released
/// count), and the reader sees them all because their count was stored before <c>R</c> was; the block it loads holds at
/// least <c>Count</c> valid entries, because moves happen only when a block is full. Entries past that prefix may be
/// changing (a rollback and a re-append), but any value read there names a row at or above <c>R</c>, so the reader,
/// which keeps only rows below <c>R</c>, discards them: it never sees a torn, partial or rolled-back history. Reading
/// <c>R</c> after <c>Count</c> would not do: a count read before a rollback could then cover an entry whose row number
/// was reused by another transfer and released since.
/// </para>
/// <para>Linearization point of a read: the acquire load of <c>R</c> (the history is that of the released transfers).</para>
/// </remarks>
internal sealed class AccountHistory
{
    /// <summary>Set in an entry when the account is the credit side.</summary>
    public const int CreditBit = 1 << 31;

    /// <summary>The row number in an entry.</summary>
    public const int RowMask = int.MaxValue;

    private const int FirstListCapacity = 4;

    // Arena chunks of 2^20 entries (4 MiB): a list's block never crosses one; a block larger than a chunk gets a chunk of
    // its own.
    private const int ChunkShift = 20;
    private const int ChunkSize = 1 << ChunkShift;

    private struct Slot
    {
        // (chunk << 32) | offset of the list's block. Written by the writer (release, after the copy and after the chunk
        // directory that holds the chunk); read by readers (acquire, after Count).
        public long Block;

        // Written by the writer (release, after the entry); read by readers (acquire).
        public int Count;

        // Writer only: the block's length (0: no block yet).
        public int Capacity;
    }

    // By account row. Written by the writer only (release, once filled); read by readers (acquire). No references: the
    // GC neither traces nor card-marks it (a first version held an int[] per account; the GC copying a million live
    // small arrays made the writer 6x slower).
    private Slot[] _slots;

    // The arena: chunks are never moved or written outside live blocks; the directory is replaced (release) when it
    // grows, after it is filled. Blocks a list outgrew are never reused, so a reader still holding one reads what it held.
    private int[][] _chunks = [];

    // Writer only: chunks in use; the chunk small blocks are cut from (-1: none yet) and how much of it is used.
    private int _chunkCount;
    private int _bumpChunk = -1;
    private int _bumpUsed;
    private int _nextChunkLength = 4096;

    // Writer only: entries of the arena given to blocks (outgrown blocks included), for the memory figure.
    private long _arenaUsed;

    // Writer only: total entries, for the memory figure.
    private long _entries;

    public AccountHistory(int accountCapacity)
    {
        _slots = new Slot[Math.Max(accountCapacity, 16)];
    }

    /// <summary>Entries held (two per transfer).</summary>
    public long EntryCount => _entries;

    /// <summary>
    /// Bytes the index uses, for the memory budget: the directory and every block cut from the arena, the outgrown ones
    /// included (they are never reused); the unused tail of the newest chunk (at most 4 MiB) is not counted. Writer only.
    /// </summary>
    public long MemoryBytes => ((long)_slots.Length * Unsafe.SizeOf<Slot>()) + (_arenaUsed * sizeof(int));

    /// <summary>
    /// The entries of an account as last stored (both sides, including any not yet visible to a reader): an upper bound
    /// for what <see cref="Read"/> can return. Any thread.
    /// </summary>
    public int CountOf(int accountRow)
    {
        Slot[] slots = Volatile.Read(ref _slots);
        return (uint)accountRow < (uint)slots.Length ? Volatile.Read(ref slots[accountRow].Count) : 0;
    }

    /// <summary>Records a new transfer row (the newest row of the ledger) under both its accounts. Writer only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int debitRow, int creditRow, int transferRow)
    {
        Debug.Assert(transferRow >= 0);
        Append(debitRow, transferRow);
        Append(creditRow, transferRow | CreditBit);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Append(int accountRow, int entry)
    {
        Slot[] slots = _slots;
        if ((uint)accountRow >= (uint)slots.Length)
        {
            slots = GrowDirectory(accountRow);
        }

        ref Slot slot = ref slots[accountRow];
        int count = slot.Count;
        if (count == slot.Capacity)
        {
            Move(ref slot, count);
        }

        long block = slot.Block;
        _chunks[ChunkOf(block)][OffsetOf(block) + count] = entry;
        Volatile.Write(ref slot.Count, count + 1);
        _entries++;
    }

    /// <summary>Gives a full list a block twice as long (the first: 4 entries), its entries copied, then publishes it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Move(ref Slot slot, int count)
    {
        // Doubling: amortised, the writer copies each entry about once. Moves happen only when the block is full, so the
        // new block holds at least as many valid entries as any count a reader may have loaded before the move.
        int capacity = count == 0 ? FirstListCapacity : checked(count * 2);
        long block = Allocate(capacity);
        if (count != 0)
        {
            long old = slot.Block;
            Array.Copy(_chunks[ChunkOf(old)], OffsetOf(old), _chunks[ChunkOf(block)], OffsetOf(block), count);
        }

        slot.Capacity = capacity;
        Volatile.Write(ref slot.Block, block);
    }

    /// <summary>A block of <paramref name="capacity"/> entries from the arena. Writer only.</summary>
    private long Allocate(int capacity)
    {
        if (capacity > ChunkSize)
        {
            // A list past a chunk's size gets a chunk of its own; bumping goes on in the current chunk.
            _arenaUsed += capacity;
            return (long)AddChunk(capacity) << 32;
        }

        if (_bumpChunk < 0 || capacity > _chunks[_bumpChunk].Length - _bumpUsed)
        {
            // A new chunk; the current one's tail stays unused. Chunks start small (a small ledger, or a test's, holds a
            // few KiB) and double up to ChunkSize.
            int length = Math.Min(ChunkSize, Math.Max(capacity, _nextChunkLength));
            _nextChunkLength = Math.Min(ChunkSize, length * 2);
            _bumpChunk = AddChunk(length);
            _bumpUsed = 0;
        }

        long block = ((long)_bumpChunk << 32) | (uint)_bumpUsed;
        _bumpUsed += capacity;
        _arenaUsed += capacity;
        return block;
    }

    /// <summary>Adds a chunk and returns its index. Writer only.</summary>
    private int AddChunk(int length)
    {
        int[][] chunks = _chunks;
        if (_chunkCount == chunks.Length)
        {
            // Filled before published: a reader that reaches a chunk through a block finds it.
            int[][] grown = new int[Math.Max(8, chunks.Length * 2)][];
            Array.Copy(chunks, grown, _chunkCount);
            chunks = grown;
        }

        chunks[_chunkCount] = GC.AllocateUninitializedArray<int>(length);
        Volatile.Write(ref _chunks, chunks);
        return _chunkCount++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Slot[] GrowDirectory(int accountRow)
    {
        Slot[] old = _slots;
        var slots = new Slot[Math.Max(checked(accountRow + 1), (int)Math.Min(Array.MaxLength, (long)old.Length * 2))];
        Array.Copy(old, slots, old.Length);
        Volatile.Write(ref _slots, slots);
        return slots;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ChunkOf(long block) => (int)(block >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OffsetOf(long block) => unchecked((int)(uint)block);

    /// <summary>Removes the newest entry of an account (a rolled-back transfer, which is the newest row). Writer only.</summary>
    public void RemoveLast(int accountRow, int transferRow)
    {
        ref Slot slot = ref _slots[accountRow];
        int count = slot.Count;
        Debug.Assert(count > 0 && (_chunks[ChunkOf(slot.Block)][OffsetOf(slot.Block) + count - 1] & RowMask) == transferRow);
        Volatile.Write(ref slot.Count, count - 1);
        _entries--;
    }

    /// <summary>
    /// Writes the transfers of <paramref name="accountRow"/> that <paramref name="filter"/> selects, among rows below
    /// <paramref name="visibleRows"/>, to <paramref name="results"/> (at most the filter's limit and the span's length).
    /// The writer, or any thread that acquire-loaded <paramref name="visibleRows"/> before calling (see the remarks).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Read(int accountRow, in AccountFilter filter, int visibleRows, TransferTable transfers, Span<Transfer> results)
    {
        Slot[] slots = Volatile.Read(ref _slots);
        if ((uint)accountRow >= (uint)slots.Length)
        {
            return 0;
        }

        ref Slot slot = ref slots[accountRow];
        int count = Volatile.Read(ref slot.Count);
        if (count == 0)
        {
            return 0;
        }

        long block = Volatile.Read(ref slot.Block);
        int[] chunk = Volatile.Read(ref _chunks)[ChunkOf(block)];

        // Never past the chunk (the ordering above guarantees the block holds count entries; this keeps a broken
        // guarantee from reading out of bounds).
        ReadOnlySpan<int> items = chunk.AsSpan(OffsetOf(block), Math.Min(count, chunk.Length - OffsetOf(block)));
        count = items.Length;

        // The stable prefix: entries whose rows are visible. Past it every value read names a row at or above visibleRows.
        int end = LowerBoundRow(items, count, visibleRows);

        int from = filter.TimestampMin == 0 ? 0 : LowerBoundTimestamp(items, 0, end, filter.TimestampMin, transfers);
        int to = filter.TimestampMax == 0 ? end : LowerBoundTimestamp(items, from, end, checked(filter.TimestampMax + 1), transfers);

        int sides = 0;
        if ((filter.Flags & AccountFilterFlags.Debits) != 0)
        {
            sides |= 1;
        }

        if ((filter.Flags & AccountFilterFlags.Credits) != 0)
        {
            sides |= 2;
        }

        int limit = (int)Math.Min(filter.Limit, (uint)results.Length);
        int written = 0;
        if ((filter.Flags & AccountFilterFlags.Reversed) == 0)
        {
            for (int i = from; i < to && written < limit; i++)
            {
                int entry = items[i];
                if ((sides & SideOf(entry)) != 0)
                {
                    results[written++] = transfers.ReadPublished(entry & RowMask);
                }
            }
        }
        else
        {
            for (int i = to - 1; i >= from && written < limit; i--)
            {
                int entry = items[i];
                if ((sides & SideOf(entry)) != 0)
                {
                    results[written++] = transfers.ReadPublished(entry & RowMask);
                }
            }
        }

        return written;
    }

    // 1 for a debit entry, 2 for a credit entry.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SideOf(int entry) => entry < 0 ? 2 : 1;

    /// <summary>The first index in [0, count) whose row is at or above <paramref name="row"/>.</summary>
    private static int LowerBoundRow(ReadOnlySpan<int> items, int count, int row)
    {
        int lo = 0;
        int hi = count;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if ((items[mid] & RowMask) < row)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>The first index in [lo, hi) whose transfer's timestamp is at or above <paramref name="timestamp"/>.</summary>
    private static int LowerBoundTimestamp(ReadOnlySpan<int> items, int lo, int hi, ulong timestamp, TransferTable transfers)
    {
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (transfers.ReadPublishedTimestamp(items[mid] & RowMask) < timestamp)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
