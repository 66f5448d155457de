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
/// Invariants (at every store of a slot's <c>Count</c>): entries [0, Count) of the slot's <c>Items</c> are exactly the
/// rows naming the account, ascending. Rows are appended in increasing order and removed only from the end (a rolled-back
/// chain), and row order is timestamp order (the ledger's timestamps strictly increase and rows are added in event
/// order), so each list is sorted by timestamp too: range bounds are binary searches. An <c>Items</c> array only grows;
/// a grown array holds a copy of the entries before it is published. The directory (<c>_slots</c>) only grows; a grown
/// directory holds a copy of every slot before it is published, and the old one is never written again.
/// </para>
/// <para>
/// Memory ordering: the writer stores an entry, then release-stores <c>Count</c>; grown arrays and directories are
/// release-stored before any count that needs them. A concurrent reader (the engine's) first acquire-loads the
/// released transfer count <c>R</c> (the engine's publisher release-stores it after the writer finished those rows:
/// writer, then the batch hand-off, then the publisher), then the directory, <c>Count</c> and <c>Items</c> with acquire
/// loads, in that order. Entries naming rows below <c>R</c> form a prefix that never changes again (the batch that
/// wrote them is finished, and rollback only touches the batch being applied, whose rows are all at or above any
/// released count), and the reader sees them all because their count was stored before <c>R</c> was. Entries at or
/// past that prefix may be changing (a rollback and a re-append), but any value read there names a row at or above
/// <c>R</c>, so the reader, which keeps only rows below <c>R</c>, discards them: it never sees a torn, partial or
/// rolled-back history. Reading <c>R</c> after <c>Count</c> would not do: a count read before a rollback could then
/// cover an entry whose row number was reused by another transfer and released since.
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

    private struct Slot
    {
        // Written by the writer (release, after the copy); read by readers (acquire, after Count).
        public int[]? Items;

        // Written by the writer (release, after the entry); read by readers (acquire).
        public int Count;
    }

    // By account row. Written by the writer only (release, once filled); read by readers (acquire).
    private Slot[] _slots;

    // Writer only: total entries, for the memory figure.
    private long _entries;

    public AccountHistory(int accountCapacity)
    {
        _slots = new Slot[Math.Max(accountCapacity, 16)];
    }

    /// <summary>Entries held (two per transfer).</summary>
    public long EntryCount => _entries;

    /// <summary>Bytes the index holds: the directory and every list array with its object header (64-bit runtime), for the memory budget. Writer only.</summary>
    public long MemoryBytes
    {
        get
        {
            const int ArrayOverhead = 24;
            long bytes = ArrayOverhead + ((long)_slots.Length * Unsafe.SizeOf<Slot>());
            foreach (Slot slot in _slots)
            {
                if (slot.Items is { } items)
                {
                    bytes += ArrayOverhead + ((long)items.Length * sizeof(int));
                }
            }

            return bytes;
        }
    }

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
        int[]? items = slot.Items;
        if (items is null || count == items.Length)
        {
            items = GrowList(ref slot, count);
        }

        items[count] = entry;
        Volatile.Write(ref slot.Count, count + 1);
        _entries++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int[] GrowList(ref Slot slot, int count)
    {
        // Doubling: amortised, the writer copies each entry about once, and a list wastes at most half its array.
        int[] items = new int[count == 0 ? FirstListCapacity : checked(count * 2)];
        if (count != 0)
        {
            Array.Copy(slot.Items!, items, count);
        }

        Volatile.Write(ref slot.Items, items);
        return items;
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

    /// <summary>Removes the newest entry of an account (a rolled-back transfer, which is the newest row). Writer only.</summary>
    public void RemoveLast(int accountRow, int transferRow)
    {
        ref Slot slot = ref _slots[accountRow];
        int count = slot.Count;
        Debug.Assert(count > 0 && (slot.Items![count - 1] & RowMask) == transferRow);
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
        int[]? items = Volatile.Read(ref slot.Items);
        if (items is null || count == 0)
        {
            return 0;
        }

        // Never past the array (the ordering above guarantees it; this keeps a broken guarantee from reading garbage).
        count = Math.Min(count, items.Length);

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
    private static int LowerBoundRow(int[] items, int count, int row)
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
    private static int LowerBoundTimestamp(int[] items, int lo, int hi, ulong timestamp, TransferTable transfers)
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
