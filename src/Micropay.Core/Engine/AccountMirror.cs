using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>
/// The accounts as of the last batch the engine released: a copy of the ledger's account rows that the engine's
/// publisher thread updates after each batch is durable, and that any thread reads without locks.
/// </summary>
/// <remarks>
/// <para>
/// Why a copy: the ledger's own tables are changed by the writer while it applies the next batch, which may not
/// be durable yet; readers must see only released state, never a torn row, and must never slow the writer.
/// </para>
/// <para>
/// Invariants: row <c>r</c> here is the ledger's row <c>r</c> as of the last published batch; a row's id never
/// changes once published; <c>_versions[r]</c> is odd exactly while the publisher writes row <c>r</c>;
/// <c>_sequence</c> is odd exactly while a batch is being published (covering every row write of that batch).
/// </para>
/// <para>
/// Memory ordering: the publisher makes the versions (and <c>_sequence</c>) odd, then a full fence, then writes
/// the rows, then release-stores the even versions (and <c>_sequence</c>). A reader acquire-loads a version, copies
/// the row, issues a full fence (so the copy cannot move after the second load) and loads the version again:
/// equal and even means the copy is whole. New rows are written before their index entries are published.
/// </para>
/// <para>
/// Linearization point of a batch's publication: the release store that makes <c>_sequence</c> even. Reads that
/// check <c>_sequence</c> (<see cref="LookupConsistent"/>) see every row at that same batch boundary.
/// </para>
/// </remarks>
internal sealed class AccountMirror
{
    private const int ChunkShift = 12;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    // Directories: replaced (release) by the publisher when growing; chunks are never moved.
    private Account[][] _rows = [];
    private long[][] _versions = [];

    // Publisher thread only (the rows and versions arrays' contents follow the protocol above).
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

    /// <summary>Bytes held, for the memory report.</summary>
    public long MemoryBytes => ((long)_capacity * (Account.Size + sizeof(long))) + _index.MemoryBytes;

    /// <summary>Starts publishing a batch: marks every row in <paramref name="rows"/> (and the batch) as being written. Publisher only.</summary>
    public void BeginPublish(ReadOnlySpan<int> rows, int newRowsEnd)
    {
        EnsureCapacity(newRowsEnd);
        long[][] versions = _versions;
        Volatile.Write(ref _sequence, _sequence + 1);
        foreach (int row in rows)
        {
            ref long version = ref versions[row >> ChunkShift][row & ChunkMask];
            if ((version & 1) == 0)
            {
                version++;
            }
        }

        // The odd marks (and the odd sequence) must be visible before any row write that follows.
        Interlocked.MemoryBarrier();
    }

    /// <summary>Writes one row's new content; the row was passed to <see cref="BeginPublish"/>. Publisher only.</summary>
    public void Write(int row, in Account account) => _rows[row >> ChunkShift][row & ChunkMask] = account;

    /// <summary>Ends a batch's publication: the rows become readable again, new accounts findable. Publisher only.</summary>
    public void EndPublish(ReadOnlySpan<int> rows, int newRowsStart, int newRowsEnd)
    {
        long[][] versions = _versions;
        foreach (int row in rows)
        {
            ref long version = ref versions[row >> ChunkShift][row & ChunkMask];
            if ((version & 1) != 0)
            {
                Volatile.Write(ref version, version + 1);
            }
        }

        // New rows were written above (they are in rows); only now may readers find them.
        Account[][] accountRows = _rows;
        for (int row = newRowsStart; row < newRowsEnd; row++)
        {
            _index.Insert(accountRows[row >> ChunkShift][row & ChunkMask].Id, row);
        }

        if (newRowsEnd > _count)
        {
            Volatile.Write(ref _count, newRowsEnd);
        }

        Volatile.Write(ref _sequence, _sequence + 1);
    }

    /// <summary>Reads one account; retries only while that row is being written. Any thread.</summary>
    public bool TryGet(UInt128 id, out Account account)
    {
        int row = _index.Find(id, new RowIds(this));
        if (row < 0)
        {
            account = default;
            return false;
        }

        Account[] chunk = Volatile.Read(ref _rows)[row >> ChunkShift];
        ref long version = ref Volatile.Read(ref _versions)[row >> ChunkShift][row & ChunkMask];
        SpinWait spin = default;
        while (true)
        {
            long before = Volatile.Read(ref version);
            if ((before & 1) == 0)
            {
                account = chunk[row & ChunkMask];
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref version) == before)
                {
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
    public int LookupConsistent(ReadOnlySpan<UInt128> ids, Span<Account> results)
    {
        SpinWait spin = default;
        while (true)
        {
            long before = Volatile.Read(ref _sequence);
            if ((before & 1) == 0)
            {
                int found = 0;
                Account[][] rows = Volatile.Read(ref _rows);
                foreach (UInt128 id in ids)
                {
                    int row = _index.Find(id, new RowIds(this));
                    if (row >= 0)
                    {
                        results[found++] = rows[row >> ChunkShift][row & ChunkMask];
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

                Account[][] rows = Volatile.Read(ref _rows);
                for (int row = 0; row < count; row += ChunkSize)
                {
                    int n = Math.Min(ChunkSize, count - row);
                    rows[row >> ChunkShift].AsSpan(0, n).CopyTo(result.AsSpan(row));
                }

                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _sequence) == before)
                {
                    return result;
                }
            }

            spin.SpinOnce();
        }
    }

    /// <summary>The number of published accounts. Any thread.</summary>
    public int Count => Volatile.Read(ref _count);

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
        {
            return;
        }

        int chunks = (rows + ChunkSize - 1) >> ChunkShift;
        chunks = Math.Max(chunks, _rows.Length * 2);
        Account[][] accountRows = new Account[chunks][];
        long[][] versions = new long[chunks][];
        Array.Copy(_rows, accountRows, _rows.Length);
        Array.Copy(_versions, versions, _versions.Length);
        for (int i = _rows.Length; i < chunks; i++)
        {
            accountRows[i] = new Account[ChunkSize];
            versions[i] = new long[ChunkSize];
        }

        // Filled before published: a reader that reaches a row through the index finds its chunk.
        Volatile.Write(ref _versions, versions);
        Volatile.Write(ref _rows, accountRows);
        _capacity = chunks << ChunkShift;
    }

    private readonly struct RowIds(AccountMirror mirror) : IRowIds
    {
        public UInt128 IdAt(int row) => Volatile.Read(ref mirror._rows)[row >> ChunkShift][row & ChunkMask].Id;
    }
}
