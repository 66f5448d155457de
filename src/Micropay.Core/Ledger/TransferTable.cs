using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// The transfers: 128-byte <see cref="Transfer"/> rows in arrival order, stored in fixed-size chunks (so growth
/// never copies what is stored), a parallel byte per row for the state of pending transfers, an
/// <see cref="IdIndex"/> from id to row, and the list of burnt ids (transfers that failed transiently).
/// </summary>
/// <remarks>
/// Index values: a row number, or the index's flag bit (<see cref="IdIndex.FlagBit"/>) | the position of a burnt id in
/// <c>_failedIds</c>. One probe therefore answers "exists", "burnt" and "new" together. Rows are only ever
/// removed from the end (undo of a failed linked chain); burnt ids are never removed.
/// </remarks>
internal sealed class TransferTable
{
    /// <summary>The most transfers a ledger holds: what its id index can hold (burnt ids share that index).</summary>
    public const int MaxCapacity = IdIndex.MaxEntries;


    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private Transfer[][] _chunks = [];
    private byte[][] _status = [];
    private int _count;
    private UInt128[] _failedIds = new UInt128[16];
    private int _failedCount;
    private readonly IdIndex _index;

    public TransferTable(int capacity)
    {
        _index = new IdIndex(capacity, minValueBits: 24, withFlagBit: true);

        // Capacity is reserved and committed now, so the hot path neither allocates nor faults pages in.
        int chunks = (int)(((long)capacity + ChunkSize - 1) >> ChunkShift);
        _chunks = new Transfer[chunks][];
        _status = new byte[chunks][];
        for (int i = 0; i < chunks; i++)
        {
            _chunks[i] = NewChunk();
            _status[i] = new byte[ChunkSize];
        }
    }

    private static Transfer[] NewChunk()
    {
        // Rows at or past Count are never read, so the chunk need not be zeroed; committing it is what matters.
        Transfer[] chunk = GC.AllocateUninitializedArray<Transfer>(ChunkSize);
        MemoryCommit.Touch(chunk);
        return chunk;
    }

    public int Count => _count;

    public int FailedCount => _failedCount;

    /// <summary>Bytes this table holds (rows, states, index, burnt ids), for the memory budget.</summary>
    public long MemoryBytes =>
        ((long)_chunks.Length * ChunkSize * (Transfer.Size + 1)) + _index.MemoryBytes + ((long)_failedIds.Length * 16);

    public ref Transfer this[int row]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert((uint)row < (uint)_count);
            return ref _chunks[row >> ChunkShift][row & ChunkMask];
        }
    }

    /// <summary>
    /// Reads a row from a thread other than the writer's. Safe only for rows the writer never changes or removes
    /// again (the engine's published rows, which are durable): growth replaces the chunk directory (published with
    /// a release write in <see cref="Reserve"/>) but never moves a chunk, and rows are written once.
    /// </summary>
    public Transfer ReadPublished(int row)
    {
        Transfer[][] chunks = Volatile.Read(ref _chunks);
        return chunks[row >> ChunkShift][row & ChunkMask];
    }

    /// <summary>The timestamp of a row, read as <see cref="ReadPublished"/> reads rows (the history's binary searches).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadPublishedTimestamp(int row)
    {
        Transfer[][] chunks = Volatile.Read(ref _chunks);
        return chunks[row >> ChunkShift][row & ChunkMask].Timestamp;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PendingStatus GetStatus(int row) => (PendingStatus)_status[row >> ChunkShift][row & ChunkMask];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetStatus(int row, PendingStatus status) => _status[row >> ChunkShift][row & ChunkMask] = (byte)status;

    /// <summary>The row of a transfer, or -1 when there is none (including when the id is burnt).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Find(UInt128 id)
    {
        uint value = FindEntry(IdHash.Hash(id), id);
        return value == IdIndex.NotFound || IsBurnt(value) ? -1 : (int)value;
    }

    /// <summary>The raw index value for an id: a row, the flag bit | burnt position, or <see cref="IdIndex.NotFound"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FindEntry(ulong hash, UInt128 id) => _index.Find(hash, id, new Source(this));

    /// <summary>As <see cref="FindEntry(ulong, UInt128)"/>; for an absent id also the index slot <see cref="Add"/> may use if called next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FindEntry(ulong hash, UInt128 id, out ulong insertSlot) => _index.Find(hash, id, new Source(this), out insertSlot);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchIndex(ulong hash) => _index.Prefetch(hash);

    /// <summary>Whether an index value from <see cref="FindEntry(ulong, UInt128)"/> names a burnt id rather than a row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsBurnt(uint entry) => (entry & _index.FlagBit) != 0;

    /// <summary>
    /// Makes room for <paramref name="additional"/> more rows or burnt ids (each event adds at most one of either),
    /// so that nothing grows midway through a batch.
    /// </summary>
    /// <exception cref="LedgerFullException">The table would pass <see cref="MaxCapacity"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reserve(int additional)
    {
        _index.Reserve(additional, new Source(this), "transfer");
        int chunksNeeded = (int)(((long)_count + additional + ChunkSize - 1) >> ChunkShift);
        if (chunksNeeded > _chunks.Length)
        {
            // The new directories are filled before they are published: the engine's readers load _chunks from
            // other threads (ReadPublished) and must find every chunk they can reach through it.
            int old = _chunks.Length;
            Transfer[][] chunks = new Transfer[chunksNeeded][];
            byte[][] status = new byte[chunksNeeded][];
            Array.Copy(_chunks, chunks, old);
            Array.Copy(_status, status, old);
            for (int i = old; i < chunksNeeded; i++)
            {
                chunks[i] = NewChunk();
                status[i] = new byte[ChunkSize];
            }

            _status = status;
            Volatile.Write(ref _chunks, chunks);
        }
    }

    /// <summary>
    /// Appends a row for an absent id and returns it for the caller to fill in at once (before any other call on
    /// this table). The row's status starts as <paramref name="status"/>. Room was reserved for the batch.
    /// <paramref name="insertSlot"/> comes from the <see cref="FindEntry(ulong, UInt128, out ulong)"/> that found the
    /// id absent; no other change to this table may come between the two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref Transfer Add(ulong hash, ulong insertSlot, PendingStatus status, out int row)
    {
        row = _count;
        Debug.Assert(row < (long)_chunks.Length << ChunkShift, "Reserve was not called for this batch.");
        _status[row >> ChunkShift][row & ChunkMask] = (byte)status;
        _count = row + 1;
        _index.InsertAt(insertSlot, hash, (uint)row);
        return ref _chunks[row >> ChunkShift][row & ChunkMask];
    }

    /// <summary>Removes the newest row (undo of a failed chain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RemoveLast()
    {
        int row = _count - 1;
        _index.Remove(IdHash.Hash(this[row].Id), (uint)row, new Source(this));
        _count = row;
    }

    /// <summary>
    /// Burns an id: later transfers with it fail with <see cref="CreateTransferResult.IdAlreadyFailed"/>. The event
    /// that failed added no row, so the room reserved for it in the index is free for this entry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Burn(UInt128 id, ulong hash)
    {
        if (_failedCount == _failedIds.Length)
        {
            Array.Resize(ref _failedIds, _failedIds.Length * 2);
        }

        _failedIds[_failedCount] = id;
        _index.Insert(hash, _index.FlagBit | (uint)_failedCount);
        _failedCount++;
    }

    // ---- Snapshots (LedgerStateMachine.Snapshot.cs). Reads between batches; bulk load only on an empty table. ----

    /// <summary>The number of chunks holding the <see cref="Count"/> rows.</summary>
    public int UsedChunkCount => (int)(((long)_count + ChunkSize - 1) >> ChunkShift);

    /// <summary>The stored rows of chunk <paramref name="chunk"/> (all of it but the last used chunk's tail).</summary>
    public Span<Transfer> ChunkRows(int chunk) => _chunks[chunk].AsSpan(0, RowsInChunk(chunk));

    /// <summary>The status bytes (<see cref="PendingStatus"/> values) of <see cref="ChunkRows"/>.</summary>
    public Span<byte> ChunkStatuses(int chunk) => _status[chunk].AsSpan(0, RowsInChunk(chunk));

    /// <summary>The burnt ids, in the order they were burnt.</summary>
    public ReadOnlySpan<UInt128> FailedIds => _failedIds.AsSpan(0, _failedCount);

    private int RowsInChunk(int chunk) => Math.Min(ChunkSize, _count - (chunk << ChunkShift));

    /// <summary>
    /// Makes the table hold <paramref name="count"/> rows and room for <paramref name="burnt"/> burnt ids; the caller
    /// then fills every row and status through <see cref="ChunkRows"/> and <see cref="ChunkStatuses"/> before any other
    /// call, and <see cref="IndexLoadedRows"/> must follow. The table must be empty.
    /// </summary>
    public void LoadRows(int count, int burnt)
    {
        Debug.Assert(_count == 0 && _failedCount == 0 && _index.Count == 0, "Bulk load only fills an empty table.");
        Reserve(checked(count + burnt));
        if (_failedIds.Length < burnt)
        {
            _failedIds = new UInt128[burnt];
        }

        _count = count;
    }

    /// <summary>
    /// Indexes every row written after <see cref="LoadRows"/>, in row order. Returns -1, or the first row whose id an
    /// earlier row already has (the table is then unusable and must be dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int IndexLoadedRows() => _index.InsertAllRows(_count, new Source(this));

    /// <summary>
    /// Burns a restored id (room was made by <see cref="LoadRows"/>). Returns false, changing nothing, when the id is
    /// already a row or a burnt id.
    /// </summary>
    public bool TryBurnLoaded(UInt128 id)
    {
        ulong hash = IdHash.Hash(id);
        if (FindEntry(hash, id) != IdIndex.NotFound)
        {
            return false;
        }

        Burn(id, hash);
        return true;
    }

    private readonly struct Source(TransferTable table) : IIdSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public UInt128 IdAt(uint value) =>
            (value & table._index.FlagBit) != 0
                ? table._failedIds[value & ~table._index.FlagBit]
                : table._chunks[value >> ChunkShift][value & ChunkMask].Id;
    }
}
