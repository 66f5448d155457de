using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>
/// The accounts as of the last batch the engine released: a copy of the ledger's account rows that the engine's
/// publisher thread updates after each batch is durable, and that any thread reads without locks.
/// </summary>
/// <remarks>
/// <para>
/// Why a copy: the writer changes the ledger's own rows while it applies the next batch, which may not be durable
/// yet; readers must see only released state, never a torn row, and must never slow the writer.
/// </para>
/// <para>
/// Invariants: row <c>r</c> here is the ledger's row <c>r</c> as of a released event (after the publication
/// completes: as of the last released batch); a row's id never changes once published. Each row's 4-byte
/// <see cref="Account"/> Reserved field (always 0 in the ledger) holds the row's version here: odd exactly while the
/// publisher writes the row. <c>_sequence</c> is odd exactly while a batch is being published.
/// </para>
/// <para>
/// Memory ordering: the publisher makes <c>_sequence</c> odd (then a full fence); per row it makes the version odd
/// with an interlocked exchange (a full fence, so the row writes cannot move before it), writes the row around the
/// version, and release-stores the even version; finally it release-stores the even <c>_sequence</c>. A reader
/// acquire-loads the version, copies the row, issues a full fence (so the copy cannot move after the second load)
/// and loads the version again: equal and even means the copy is whole. New rows are written before their index
/// entries are published (release) and readers find rows only through the index (acquire).
/// </para>
/// <para>
/// Linearization point of a batch's publication: the release store that makes <c>_sequence</c> even. Reads that
/// check <c>_sequence</c> (<see cref="LookupConsistent"/>, <see cref="ReadAll"/>) see every row at that boundary;
/// <see cref="TryGet"/> sees the row as of the last completed row write.
/// </para>
/// </remarks>
internal sealed unsafe class AccountMirror
{
    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    // Account.Reserved, used as the row's version.
    private const int VersionOffset = 108;

    // Directory of pinned chunks: replaced (release) by the publisher when growing; chunks are never moved.
    private Account[][] _rows = [];

    // Publisher thread only.
    private int _capacity;

    // Odd while a batch is being published; written by the publisher, read by readers.
    private long _sequence;

    // Published rows; written by the publisher inside the odd-sequence window, read by readers.
    private int _count;

    private readonly PublishedIndex _index;

    public AccountMirror(int capacity)
    {
        _index = new PublishedIndex(capacity);
        EnsureCapacity(Math.Max(capacity, 1));
    }

    /// <summary>Starts publishing a batch: makes room for rows below <paramref name="newRowsEnd"/> and marks the batch as being written. Publisher only.</summary>
    public void BeginPublish(int newRowsEnd)
    {
        EnsureCapacity(newRowsEnd);
        Volatile.Write(ref _sequence, _sequence + 1);

        // The odd sequence must be visible before any row write that follows.
        Interlocked.MemoryBarrier();
    }

    /// <summary>
    /// Writes the batch's changed rows in the order the ledger changed them (a row may repeat; its last image is
    /// its content after the batch). Publisher only, between <see cref="BeginPublish"/> and <see cref="EndPublish"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void WriteRows(ReadOnlySpan<int> rows, ReadOnlySpan<Account> images)
    {
        // Rows are scattered over the table: prefetching a few rows ahead keeps several cache misses in flight
        // instead of taking them one at a time (the same memory-level parallelism the ledger's apply loop uses).
        const int Ahead = 8;
        Account[][] chunks = _rows;
        for (int i = 0; i < rows.Length; i++)
        {
            if (i + Ahead < rows.Length && Sse.IsSupported)
            {
                byte* ahead = (byte*)RowPointer(chunks, rows[i + Ahead]);
                Sse.Prefetch0(ahead);
                Sse.Prefetch0(ahead + 64);
            }

            Account* row = RowPointer(chunks, rows[i]);
            ref uint version = ref *(uint*)((byte*)row + VersionOffset);
            uint even = version;
            Interlocked.Exchange(ref version, unchecked(even + 1));
            Account image = images[i];
            *(uint*)((byte*)&image + VersionOffset) = unchecked(even + 1);
            *row = image;
            Volatile.Write(ref version, unchecked(even + 2));
        }
    }

    /// <summary>Ends a batch's publication: new accounts (rows [newRowsStart, newRowsEnd), already written) become findable. Publisher only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EndPublish(int newRowsStart, int newRowsEnd)
    {
        // Prefetched bulk insert: a recovered ledger publishes all its accounts at once.
        _index.InsertRows(newRowsStart, newRowsEnd, new RowIds(this));

        if (newRowsEnd > _count)
        {
            Volatile.Write(ref _count, newRowsEnd);
        }

        Volatile.Write(ref _sequence, _sequence + 1);
    }

    /// <summary>The row of a published account (the ledger's row for it), or -1. Any thread.</summary>
    public int FindRow(UInt128 id) => _index.Find(id, new RowIds(this));

    /// <summary>Reads one account; retries only while that row is being written. Any thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGet(UInt128 id, out Account account)
    {
        int row = _index.Find(id, new RowIds(this));
        if (row < 0)
        {
            account = default;
            return false;
        }

        Account* source = RowPointer(Volatile.Read(ref _rows), row);
        ref uint version = ref *(uint*)((byte*)source + VersionOffset);
        SpinWait spin = default;
        while (true)
        {
            uint before = Volatile.Read(ref version);
            if ((before & 1) == 0)
            {
                account = *source;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref version) == before)
                {
                    ClearVersion(ref account);
                    return true;
                }
            }

            spin.SpinOnce();
        }
    }

    /// <summary>
    /// Looks up accounts all as of one batch boundary, writing those found in the order asked. Retries while a
    /// batch is being published. Any thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int LookupConsistent(ReadOnlySpan<UInt128> ids, Span<Account> results)
    {
        SpinWait spin = default;
        while (true)
        {
            long before = Volatile.Read(ref _sequence);
            if ((before & 1) == 0)
            {
                int found = 0;
                Account[][] chunks = Volatile.Read(ref _rows);
                foreach (UInt128 id in ids)
                {
                    int row = _index.Find(id, new RowIds(this));
                    if (row >= 0)
                    {
                        results[found] = *RowPointer(chunks, row);
                        ClearVersion(ref results[found]);
                        found++;
                    }
                }

                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _sequence) == before)
                {
                    return found;
                }
            }

            spin.SpinOnce();
        }
    }

    /// <summary>Every published account as of one batch boundary, in creation order; retries while a batch is being published. Any thread.</summary>
    public Account[] ReadAll()
    {
        SpinWait spin = default;
        Account[] result = [];
        while (true)
        {
            long before = Volatile.Read(ref _sequence);
            if ((before & 1) == 0)
            {
                int count = Volatile.Read(ref _count);
                if (result.Length != count)
                {
                    result = new Account[count];
                }

                Account[][] chunks = Volatile.Read(ref _rows);
                for (int row = 0; row < count; row += ChunkSize)
                {
                    int n = Math.Min(ChunkSize, count - row);
                    chunks[row >> ChunkShift].AsSpan(0, n).CopyTo(result.AsSpan(row));
                }

                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _sequence) == before)
                {
                    for (int i = 0; i < result.Length; i++)
                    {
                        ClearVersion(ref result[i]);
                    }

                    return result;
                }
            }

            spin.SpinOnce();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Account* RowPointer(Account[][] chunks, int row) =>
        (Account*)Unsafe.AsPointer(ref chunks[row >> ChunkShift][row & ChunkMask]);

    private static void ClearVersion(ref Account account) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref Unsafe.As<Account, byte>(ref account), VersionOffset), 0U);

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        int chunks = (rows + ChunkSize - 1) >> ChunkShift;
        chunks = Math.Max(chunks, _rows.Length * 2);
        Account[][] directory = new Account[chunks][];
        Array.Copy(_rows, directory, _rows.Length);
        for (int i = _rows.Length; i < chunks; i++)
        {
            // Pinned, so row pointers stay valid; committed (and on huge pages where the kernel agrees) now,
            // because the publisher's writes are scattered and first-touch faults would cost more than the writes.
            directory[i] = MemoryCommit.AllocatePinned<Account>(ChunkSize, zeroed: true);
        }

        // Filled before published: a reader that reaches a row through the index finds its chunk.
        Volatile.Write(ref _rows, directory);
        _capacity = chunks << ChunkShift;
    }

    private readonly struct RowIds(AccountMirror mirror) : IRowIds
    {
        // The id is never written again once the row is published, so no version check is needed.
        public UInt128 IdAt(int row) => RowPointer(Volatile.Read(ref mirror._rows), row)->Id;
    }
}
