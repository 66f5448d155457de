using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

// Ledger snapshot format, version 1. All integers little-endian; records in the 128-byte layouts of Account and
// Transfer (their byte tables), written by their codecs. A = account count, T = transfer count, B = burnt-id count.
//
// offset              size     field
//      0                 4     Magic            "MPLS" (0x4D 0x50 0x4C 0x53)
//      4                 4     Version          UInt32, 1
//      8                 8     LastTimestamp    UInt64, the ledger's LastTimestamp
//     16                 4     AccountCount     UInt32, A <= 2^28
//     20                 4     TransferCount    UInt32, T
//     24                 4     BurntIdCount     UInt32, B; T + B <= 2^29 (they share the transfer index)
//     28                 4     Reserved         UInt32, 0
//     32           128 * A     Accounts         in creation order (row order)
//     32 + 128A    128 * T     Transfers        in the order applied (row order)
//     32 + 128(A+T)  1 * T     Statuses         one PendingStatus byte per transfer, same order
//     32 + 128(A+T) + T  16*B  Burnt ids        UInt128 each, in the order they were burnt
//     32 + 128(A+T) + T + 16B  end: the snapshot is exactly this long
//
// Not stored, because it is derived: both id indexes (rebuilt from the rows and burnt ids), the expiry queue (rebuilt
// from the rows whose status is Pending and whose Timeout is not 0; the live ledger's heap also holds stale entries
// of posted or voided holds, which it skips when popped, so the rebuilt queue expires the same holds in the same
// order), and the per-batch scratch (undo log, look-ahead ring), which is empty between batches. Integrity against
// damage at rest is the store's job (FileLedgerStore keeps a checksum of each snapshot); this format checks structure.
//
// The bytes are the same whichever API carries them: one span, or (past the ~2 GiB a span holds, some 16M transfers)
// an IBufferWriter<byte> when writing and a ReadOnlySequence<byte> when reading. Both directions go front to back in
// pieces of at most PieceBytes (16K records), so the rows are encoded and decoded while they are in the cache, and a
// sequence only ever has to gather one piece that crosses a segment boundary.

/// <content>Snapshots: the whole state as bytes, and a ledger rebuilt from them.</content>
public sealed partial class LedgerStateMachine
{
    private const int SnapshotHeaderSize = 32;
    private const uint SnapshotVersion = 1;

    // The most bytes one snapshot piece holds: 16K records of 128 bytes (the transfer table's chunk).
    private const int PieceRecords = 16 * 1024;
    private const int PieceBytes = PieceRecords * 128;
    private const int PieceBurntIds = PieceBytes / 16;

    private static ReadOnlySpan<byte> SnapshotMagic => "MPLS"u8;

    /// <summary>The number of bytes <see cref="WriteSnapshot(Span{byte})"/> writes for the ledger's current state.</summary>
    /// <remarks>
    /// 32 bytes of header, 128 per account, 129 per transfer (record and status byte) and 16 per burnt id. A snapshot
    /// larger than the largest span (about 2 GiB, some 16M transfers) does not fit <see cref="WriteSnapshot(Span{byte})"/>;
    /// <see cref="WriteSnapshot(IBufferWriter{byte})"/> writes any size.
    /// </remarks>
    public long SnapshotSize =>
        SnapshotHeaderSize + ((long)_accounts.Count * Account.Size) + ((long)_transfers.Count * (Transfer.Size + 1)) +
        ((long)_transfers.FailedCount * 16);

    /// <summary>
    /// Writes the ledger's complete state (the format is in <c>LedgerStateMachine.Snapshot.cs</c> and docs/ARCHITECTURE.md):
    /// <see cref="ReadSnapshot(ReadOnlySpan{byte}, int, int)"/> rebuilds a ledger that gives the same results as this one for every future batch.
    /// Call it between batches; the ledger is not changed.
    /// </summary>
    /// <param name="destination">Receives the snapshot in its first <see cref="SnapshotSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="SnapshotSize"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void WriteSnapshot(Span<byte> destination)
    {
        long size = SnapshotSize;
        if (destination.Length < size)
        {
            throw new ArgumentException(
                $"The destination must hold at least {size} bytes (SnapshotSize); it holds {destination.Length}.", nameof(destination));
        }

        var sink = new SpanSink(destination);
        WriteSnapshotCore(ref sink);
    }

    /// <summary>
    /// Writes the ledger's complete state, byte for byte what <see cref="WriteSnapshot(Span{byte})"/> writes, through a
    /// buffer writer: for a state of any size (past about 2 GiB it fits no span), or to hand it over in pieces to a
    /// writer of your own. Call it between batches; the ledger is not changed.
    /// </summary>
    /// <remarks>
    /// The snapshot goes front to back in <see cref="SnapshotSize"/> bytes, in pieces of at most 2 MiB: each asked for
    /// with <see cref="IBufferWriter{T}.GetSpan"/> and its exact length as the size hint, then committed with
    /// <see cref="IBufferWriter{T}.Advance"/>. A writer backed by segments can therefore keep every piece in one segment.
    /// If the writer throws, the exception propagates and the bytes already committed are an incomplete snapshot.
    /// </remarks>
    /// <param name="destination">Receives the snapshot.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The writer returned a span shorter than the size hint (it breaks the <see cref="IBufferWriter{T}"/> contract).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void WriteSnapshot(IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var sink = new WriterSink(destination);
        WriteSnapshotCore(ref sink);
    }

    /// <summary>Writes the snapshot front to back, in pieces of at most <see cref="PieceBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteSnapshotCore<TSink>(ref TSink sink)
        where TSink : ISnapshotSink, allows ref struct
    {
        int accounts = _accounts.Count;
        int transfers = _transfers.Count;
        ReadOnlySpan<UInt128> burnt = _transfers.FailedIds;
        Span<byte> header = sink.GetSpan(SnapshotHeaderSize);
        SnapshotMagic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], SnapshotVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _lastTimestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)accounts);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)transfers);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)burnt.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], 0);
        sink.Advance(SnapshotHeaderSize);

        ReadOnlySpan<Account> rows = _accounts.AsSpan();
        for (int first = 0; first < rows.Length; first += PieceRecords)
        {
            ReadOnlySpan<Account> piece = rows.Slice(first, Math.Min(PieceRecords, rows.Length - first));
            int bytes = piece.Length * Account.Size;
            Account.EncodeAll(piece, sink.GetSpan(bytes));
            sink.Advance(bytes);
        }

        // A transfer chunk is one piece (PieceRecords rows); the status section follows all the rows, so it takes a
        // second pass over the chunks.
        for (int chunk = 0; chunk < _transfers.UsedChunkCount; chunk++)
        {
            Span<Transfer> piece = _transfers.ChunkRows(chunk);
            int bytes = piece.Length * Transfer.Size;
            Transfer.EncodeAll(piece, sink.GetSpan(bytes));
            sink.Advance(bytes);
        }

        for (int chunk = 0; chunk < _transfers.UsedChunkCount; chunk++)
        {
            // PendingStatus is a byte enum stored as bytes: the section is the status arrays, chunk after chunk.
            Span<byte> statuses = _transfers.ChunkStatuses(chunk);
            statuses.CopyTo(sink.GetSpan(statuses.Length));
            sink.Advance(statuses.Length);
        }

        for (int first = 0; first < burnt.Length; first += PieceBurntIds)
        {
            ReadOnlySpan<UInt128> piece = burnt.Slice(first, Math.Min(PieceBurntIds, burnt.Length - first));
            Span<byte> bytes = sink.GetSpan(piece.Length * 16);
            for (int i = 0; i < piece.Length; i++)
            {
                BinaryPrimitives.WriteUInt128LittleEndian(bytes.Slice(i * 16, 16), piece[i]);
            }

            sink.Advance(piece.Length * 16);
        }
    }

    /// <summary>
    /// Rebuilds a ledger from a snapshot <see cref="WriteSnapshot(Span{byte})"/> wrote. The snapshot is validated as a whole
    /// (magic, version, counts against its length, record ids, duplicates, timestamps, status bytes) before the ledger
    /// is returned; nothing of an invalid snapshot is ever visible.
    /// </summary>
    /// <param name="snapshot">The snapshot's bytes, exactly (trailing bytes are an error).</param>
    /// <param name="accountCapacity">
    /// Accounts to reserve room for, as in <see cref="LedgerStateMachine(int, int)"/>; the ledger gets at least what the snapshot holds.
    /// </param>
    /// <param name="transferCapacity">
    /// Transfers to reserve room for, as in <see cref="LedgerStateMachine(int, int)"/>; the ledger gets at least what the snapshot
    /// holds (its transfers and burnt ids).
    /// </param>
    /// <returns>A ledger in the state the snapshot describes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A capacity is negative or larger than the ledger supports.</exception>
    /// <exception cref="LedgerSnapshotException">
    /// <paramref name="snapshot"/> is not a valid snapshot; the exception names the problem and its byte offset.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static LedgerStateMachine ReadSnapshot(ReadOnlySpan<byte> snapshot, int accountCapacity, int transferCapacity)
    {
        var source = new SpanSource(snapshot);
        return ReadSnapshotCore(ref source, accountCapacity, transferCapacity);
    }

    /// <summary>
    /// Rebuilds a ledger from a snapshot, with room for exactly what it holds: see
    /// <see cref="ReadSnapshot(ReadOnlySpan{byte}, int, int)"/>.
    /// </summary>
    /// <param name="snapshot">The snapshot's bytes, exactly (trailing bytes are an error).</param>
    /// <returns>A ledger in the state the snapshot describes.</returns>
    /// <exception cref="LedgerSnapshotException">
    /// <paramref name="snapshot"/> is not a valid snapshot; the exception names the problem and its byte offset.
    /// </exception>
    public static LedgerStateMachine ReadSnapshot(ReadOnlySpan<byte> snapshot) => ReadSnapshot(snapshot, 0, 0);

    /// <summary>
    /// Rebuilds a ledger from a snapshot held in a sequence of buffers: the same as
    /// <see cref="ReadSnapshot(ReadOnlySpan{byte}, int, int)"/>, for snapshots of any size (past about 2 GiB they fit no
    /// span) or ones read in segments. The segments may split the records anywhere; the errors name the same byte offsets.
    /// </summary>
    /// <param name="snapshot">The snapshot's bytes, exactly (trailing bytes are an error).</param>
    /// <param name="accountCapacity">Accounts to reserve room for, as in <see cref="LedgerStateMachine(int, int)"/>.</param>
    /// <param name="transferCapacity">Transfers to reserve room for, as in <see cref="LedgerStateMachine(int, int)"/>.</param>
    /// <returns>A ledger in the state the snapshot describes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A capacity is negative or larger than the ledger supports.</exception>
    /// <exception cref="LedgerSnapshotException">
    /// <paramref name="snapshot"/> is not a valid snapshot; the exception names the problem and its byte offset.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static LedgerStateMachine ReadSnapshot(ReadOnlySequence<byte> snapshot, int accountCapacity, int transferCapacity)
    {
        if (snapshot.IsSingleSegment)
        {
            return ReadSnapshot(snapshot.FirstSpan, accountCapacity, transferCapacity);
        }

        var source = new SequenceSource(snapshot, GC.AllocateUninitializedArray<byte>(PieceBytes));
        return ReadSnapshotCore(ref source, accountCapacity, transferCapacity);
    }

    /// <summary>
    /// Rebuilds a ledger from a snapshot held in a sequence of buffers, with room for exactly what it holds: see
    /// <see cref="ReadSnapshot(ReadOnlySequence{byte}, int, int)"/>.
    /// </summary>
    /// <param name="snapshot">The snapshot's bytes, exactly (trailing bytes are an error).</param>
    /// <returns>A ledger in the state the snapshot describes.</returns>
    /// <exception cref="LedgerSnapshotException">
    /// <paramref name="snapshot"/> is not a valid snapshot; the exception names the problem and its byte offset.
    /// </exception>
    public static LedgerStateMachine ReadSnapshot(ReadOnlySequence<byte> snapshot) => ReadSnapshot(snapshot, 0, 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LedgerStateMachine ReadSnapshotCore<TSource>(ref TSource source, int accountCapacity, int transferCapacity)
        where TSource : ISnapshotSource, allows ref struct
    {
        ArgumentOutOfRangeException.ThrowIfNegative(accountCapacity);
        ArgumentOutOfRangeException.ThrowIfNegative(transferCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(accountCapacity, AccountTable.MaxCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(transferCapacity, TransferTable.MaxCapacity);

        SnapshotLayout layout = ReadSnapshotHeader(ref source);
        var ledger = new LedgerStateMachine(
            Math.Max(accountCapacity, layout.Accounts),
            Math.Max(transferCapacity, layout.Transfers + layout.Burnt));
        ledger._lastTimestamp = layout.LastTimestamp;
        ledger.LoadAccounts(ref source, layout);
        ledger.LoadTransfers(ref source, layout);
        ledger.LoadBurntIds(ref source, layout);
        return ledger;
    }

    /// <summary>
    /// Where a snapshot's transfer records lie (row order), when its header is sound: lets the engine index the
    /// transfer ids on another thread while <see cref="ReadSnapshot(ReadOnlySpan{byte}, int, int)"/> runs. Only a hint: the caller must still use
    /// the result only if <see cref="ReadSnapshot(ReadOnlySpan{byte}, int, int)"/> of the same bytes succeeds (it validates the records).
    /// </summary>
    internal static bool TryLocateSnapshotTransfers(ReadOnlySequence<byte> snapshot, out long offset, out int count)
    {
        try
        {
            var source = new SequenceSource(snapshot, new byte[SnapshotHeaderSize]);
            SnapshotLayout layout = ReadSnapshotHeader(ref source);
            offset = layout.TransfersOffset;
            count = layout.Transfers;
            return true;
        }
        catch (LedgerSnapshotException)
        {
            offset = 0;
            count = 0;
            return false;
        }
    }

    /// <summary>Checks the header and that the counts account for the snapshot's length exactly.</summary>
    private static SnapshotLayout ReadSnapshotHeader<TSource>(ref TSource source)
        where TSource : ISnapshotSource, allows ref struct
    {
        long length = source.Length;
        if (length >= SnapshotMagic.Length && !source.Read(0, SnapshotMagic.Length).SequenceEqual(SnapshotMagic))
        {
            ThrowHelper.ThrowLedgerSnapshotException(0, "the magic is not \"MPLS\" (this is not a ledger snapshot)");
        }

        if (length < SnapshotHeaderSize)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                length, $"truncated: the header needs {SnapshotHeaderSize} bytes and the snapshot has {length}");
        }

        // Read once: a sequence's span is only valid until the next read.
        ReadOnlySpan<byte> snapshot = source.Read(0, SnapshotHeaderSize);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[4..]);
        if (version != SnapshotVersion)
        {
            ThrowHelper.ThrowLedgerSnapshotException(4, $"version {version} is not supported (this library reads version {SnapshotVersion})");
        }

        ulong lastTimestamp = BinaryPrimitives.ReadUInt64LittleEndian(snapshot[8..]);
        uint accounts = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[16..]);
        uint transfers = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[20..]);
        uint burnt = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[24..]);
        uint reserved = BinaryPrimitives.ReadUInt32LittleEndian(snapshot[28..]);
        if (accounts > AccountTable.MaxCapacity)
        {
            ThrowHelper.ThrowLedgerSnapshotException(16, $"the account count {accounts} is larger than a ledger holds ({AccountTable.MaxCapacity})");
        }

        if ((ulong)transfers + burnt > TransferTable.MaxCapacity)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                20, $"the transfer count {transfers} and burnt-id count {burnt} together are larger than a ledger holds ({TransferTable.MaxCapacity})");
        }

        if (reserved != 0)
        {
            ThrowHelper.ThrowLedgerSnapshotException(28, $"the reserved header field is {reserved}, not 0");
        }

        var layout = new SnapshotLayout(lastTimestamp, (int)accounts, (int)transfers, (int)burnt);
        if (length < layout.End)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                length,
                $"truncated: the header's counts ({accounts} accounts, {transfers} transfers, {burnt} burnt ids) need {layout.End} bytes and the snapshot has {length}");
        }

        if (length > layout.End)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                layout.End, $"{length - layout.End} trailing bytes after the end the header's counts give ({layout.End} bytes)");
        }

        return layout;
    }

    /// <summary>Decodes, checks and indexes the accounts.</summary>
    private void LoadAccounts<TSource>(ref TSource source, in SnapshotLayout layout)
        where TSource : ISnapshotSource, allows ref struct
    {
        Span<Account> rows = _accounts.LoadRows(layout.Accounts);
        for (int first = 0; first < rows.Length; first += PieceRecords)
        {
            int count = Math.Min(PieceRecords, rows.Length - first);
            Account.DecodeAll(source.Read(layout.AccountsOffset + ((long)first * Account.Size), count * Account.Size), rows.Slice(first, count));
        }

        ulong previous = 0;
        for (int row = 0; row < rows.Length; row++)
        {
            ref readonly Account account = ref rows[row];
            CheckRecord(account.Id, account.Timestamp, ref previous, layout, layout.AccountsOffset + ((long)row * Account.Size), "account");
        }

        int duplicate = _accounts.IndexLoadedRows();
        if (duplicate >= 0)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                layout.AccountsOffset + ((long)duplicate * Account.Size),
                $"account {duplicate} has the id {rows[duplicate].Id}, which an earlier account already has");
        }
    }

    /// <summary>Decodes and checks the transfers and their statuses, rebuilds the expiry queue, and indexes them.</summary>
    private void LoadTransfers<TSource>(ref TSource source, in SnapshotLayout layout)
        where TSource : ISnapshotSource, allows ref struct
    {
        _transfers.LoadRows(layout.Transfers, layout.Burnt);
        long offset = layout.TransfersOffset;
        long statusOffset = layout.StatusesOffset;
        int first = 0;
        ulong previous = 0;
        for (int chunk = 0; chunk < _transfers.UsedChunkCount; chunk++)
        {
            // Chunk by chunk, so the checks below read rows that the decoding has just brought into the cache.
            Span<Transfer> rows = _transfers.ChunkRows(chunk);
            Span<byte> statuses = _transfers.ChunkStatuses(chunk);
            // Each read is used up before the next (a sequence's span is only valid until then).
            Transfer.DecodeAll(source.Read(offset, rows.Length * Transfer.Size), rows);
            source.Read(statusOffset, statuses.Length).CopyTo(statuses);
            for (int i = 0; i < rows.Length; i++)
            {
                ref readonly Transfer transfer = ref rows[i];
                long at = offset + ((long)i * Transfer.Size);
                CheckRecord(transfer.Id, transfer.Timestamp, ref previous, layout, at, "transfer");
                PendingStatus status = (PendingStatus)statuses[i];
                if (status != PendingStatus.None || (transfer.Flags & TransferFlags.Pending) != 0)
                {
                    CheckPendingStatus(transfer, status, first + i, at, statusOffset + i);
                }
            }

            offset += rows.Length * Transfer.Size;
            statusOffset += statuses.Length;
            first += rows.Length;
        }

        int duplicate = _transfers.IndexLoadedRows();
        if (duplicate >= 0)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                layout.TransfersOffset + ((long)duplicate * Transfer.Size),
                $"transfer {duplicate} has the id {_transfers[duplicate].Id}, which an earlier transfer already has");
        }
    }

    /// <summary>
    /// Checks a transfer that is pending or has a status: the status must match the transfer's mode, and an open
    /// hold must name existing accounts and have a representable expiry, which goes on the expiry queue.
    /// </summary>
    private void CheckPendingStatus(in Transfer transfer, PendingStatus status, int row, long recordOffset, long statusOffset)
    {
        if (status > PendingStatus.Expired)
        {
            ThrowHelper.ThrowLedgerSnapshotException(statusOffset, $"the status byte of transfer {row} is {(byte)status}, which is no PendingStatus");
        }

        bool pending = (transfer.Flags & TransferFlags.Pending) != 0;
        if (pending == (status == PendingStatus.None))
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                statusOffset,
                pending
                    ? $"transfer {row} is pending but its status is None"
                    : $"transfer {row} is not pending but its status is {status}");
        }

        if (status != PendingStatus.Pending)
        {
            return;
        }

        // Posting, voiding or expiring an open hold updates both its accounts, so they must exist.
        if (_accounts.Find(transfer.DebitAccountId) < 0 || _accounts.Find(transfer.CreditAccountId) < 0)
        {
            ThrowHelper.ThrowLedgerSnapshotException(recordOffset, $"open hold {row} names an account the snapshot does not hold");
        }

        if (transfer.Timeout != 0)
        {
            ulong timeout = (ulong)transfer.Timeout * NanosecondsPerSecond;
            if (transfer.Timestamp > ulong.MaxValue - timeout)
            {
                ThrowHelper.ThrowLedgerSnapshotException(recordOffset, $"open hold {row}'s expiry overflows the clock");
            }

            _expiries.Push(transfer.Timestamp + timeout, row);
        }
    }

    /// <summary>Burns the snapshot's burnt ids again, in their order, refusing reserved ids and duplicates.</summary>
    private void LoadBurntIds<TSource>(ref TSource source, in SnapshotLayout layout)
        where TSource : ISnapshotSource, allows ref struct
    {
        for (int first = 0; first < layout.Burnt; first += PieceBurntIds)
        {
            int count = Math.Min(PieceBurntIds, layout.Burnt - first);
            long pieceOffset = layout.BurntOffset + ((long)first * 16);
            ReadOnlySpan<byte> piece = source.Read(pieceOffset, count * 16);
            for (int k = 0; k < count; k++)
            {
                int i = first + k;
                long offset = pieceOffset + ((long)k * 16);
                UInt128 id = BinaryPrimitives.ReadUInt128LittleEndian(piece.Slice(k * 16, 16));
                if (id == UInt128.Zero || id == UInt128.MaxValue)
                {
                    ThrowHelper.ThrowLedgerSnapshotException(offset, $"burnt id {i} is the reserved id {id}");
                }

                if (!_transfers.TryBurnLoaded(id))
                {
                    ThrowHelper.ThrowLedgerSnapshotException(offset, $"burnt id {i} ({id}) is already a transfer or an earlier burnt id");
                }
            }
        }
    }

    /// <summary>
    /// The checks every record must pass: a usable id, and a timestamp after the previous record's (rows are stored
    /// in the order the ledger assigned their strictly increasing timestamps) and no later than the ledger's clock.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckRecord(UInt128 id, ulong timestamp, ref ulong previous, in SnapshotLayout layout, long offset, string kind)
    {
        if (id == UInt128.Zero || id == UInt128.MaxValue || timestamp <= previous || timestamp > layout.LastTimestamp)
        {
            ThrowBadRecord(id, timestamp, previous, layout.LastTimestamp, offset, kind);
        }

        previous = timestamp;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadRecord(UInt128 id, ulong timestamp, ulong previous, ulong lastTimestamp, long offset, string kind)
    {
        string reason = id == UInt128.Zero || id == UInt128.MaxValue
            ? $"the {kind} has the reserved id {id}"
            : timestamp <= previous
                ? $"the {kind}'s timestamp {timestamp} is not after the previous {kind}'s ({previous})"
                : $"the {kind}'s timestamp {timestamp} is after the ledger's last timestamp ({lastTimestamp})";
        ThrowHelper.ThrowLedgerSnapshotException(offset, reason);
    }

    /// <summary>The header's values and where each section starts (64-bit offsets: a snapshot may pass 2 GiB).</summary>
    private readonly record struct SnapshotLayout(ulong LastTimestamp, int Accounts, int Transfers, int Burnt)
    {
        public long AccountsOffset => SnapshotHeaderSize;

        public long TransfersOffset => AccountsOffset + ((long)Accounts * Account.Size);

        public long StatusesOffset => TransfersOffset + ((long)Transfers * Transfer.Size);

        public long BurntOffset => StatusesOffset + Transfers;

        /// <summary>The snapshot's length; computed in 64 bits, since the counts are not yet checked against the span.</summary>
        public long End =>
            SnapshotHeaderSize + ((long)Accounts * Account.Size) + ((long)Transfers * (Transfer.Size + 1)) + ((long)Burnt * 16);
    }

    // ---- Where snapshot bytes go and come from: a span, or a buffer writer / sequence for states of any size. ----

    /// <summary>Receives the snapshot front to back: <see cref="GetSpan"/> gives room for exactly a piece, <see cref="Advance"/> commits it.</summary>
    private interface ISnapshotSink
    {
        Span<byte> GetSpan(int length);

        void Advance(int length);
    }

    /// <summary>Gives the bytes [offset, offset + length) of the snapshot, which the caller has checked lie within <see cref="Length"/>.</summary>
    private interface ISnapshotSource
    {
        long Length { get; }

        /// <summary>The bytes; valid only until the next call (a sequence gathers a piece that crosses segments into one buffer).</summary>
        ReadOnlySpan<byte> Read(long offset, int length);
    }

    private ref struct SpanSink(Span<byte> destination) : ISnapshotSink
    {
        private readonly Span<byte> _destination = destination;
        private int _position;

        public readonly Span<byte> GetSpan(int length) => _destination.Slice(_position, length);

        public void Advance(int length) => _position += length;
    }

    private readonly struct WriterSink(IBufferWriter<byte> writer) : ISnapshotSink
    {
        public Span<byte> GetSpan(int length)
        {
            Span<byte> span = writer.GetSpan(length);
            if (span.Length < length)
            {
                throw new InvalidOperationException(
                    $"The snapshot's IBufferWriter returned {span.Length} bytes where {length} were asked for; GetSpan must return at least sizeHint bytes.");
            }

            return span[..length];
        }

        public void Advance(int length) => writer.Advance(length);
    }

    private readonly ref struct SpanSource(ReadOnlySpan<byte> snapshot) : ISnapshotSource
    {
        private readonly ReadOnlySpan<byte> _snapshot = snapshot;

        public long Length => _snapshot.Length;

        // The offset is within the span, so within an int.
        public ReadOnlySpan<byte> Read(long offset, int length) => _snapshot.Slice((int)offset, length);
    }

    private readonly struct SequenceSource(ReadOnlySequence<byte> snapshot, byte[] scratch) : ISnapshotSource
    {
        public long Length => snapshot.Length;

        public ReadOnlySpan<byte> Read(long offset, int length)
        {
            ReadOnlySequence<byte> piece = snapshot.Slice(offset, length);
            if (piece.IsSingleSegment)
            {
                return piece.FirstSpan;
            }

            // Pieces are at most PieceBytes, the scratch buffer's size.
            Span<byte> gathered = scratch.AsSpan(0, length);
            piece.CopyTo(gathered);
            return gathered;
        }
    }
}
