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
// damage at rest is the store's job (FileLedgerStore keeps a SHA-256 of each snapshot); this format checks structure.

/// <content>Snapshots: the whole state as bytes, and a ledger rebuilt from them.</content>
public sealed partial class Ledger
{
    private const int SnapshotHeaderSize = 32;
    private const uint SnapshotVersion = 1;

    private static ReadOnlySpan<byte> SnapshotMagic => "MPLS"u8;

    /// <summary>The number of bytes <see cref="WriteSnapshot"/> writes for the ledger's current state.</summary>
    /// <remarks>
    /// 32 bytes of header, 128 per account, 129 per transfer (record and status byte) and 16 per burnt id. A snapshot
    /// larger than the largest span (about 2 GiB, some 16M transfers) cannot be written by <see cref="WriteSnapshot"/>.
    /// </remarks>
    public long SnapshotSize =>
        SnapshotHeaderSize + ((long)_accounts.Count * Account.Size) + ((long)_transfers.Count * (Transfer.Size + 1)) +
        ((long)_transfers.FailedCount * 16);

    /// <summary>
    /// Writes the ledger's complete state (the format is in <c>Ledger.Snapshot.cs</c> and docs/ARCHITECTURE.md):
    /// <see cref="ReadSnapshot"/> rebuilds a ledger that gives the same results as this one for every future batch.
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

        // From here every section fits, and every offset is below destination.Length, an int.
        int accounts = _accounts.Count;
        int transfers = _transfers.Count;
        ReadOnlySpan<UInt128> burnt = _transfers.FailedIds;
        Span<byte> header = destination[..SnapshotHeaderSize];
        SnapshotMagic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], SnapshotVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _lastTimestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)accounts);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)transfers);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)burnt.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], 0);

        int offset = SnapshotHeaderSize;
        Account.EncodeAll(_accounts.AsSpan(), destination.Slice(offset, accounts * Account.Size));
        offset += accounts * Account.Size;

        int statusOffset = offset + (transfers * Transfer.Size);
        for (int chunk = 0; chunk < _transfers.UsedChunkCount; chunk++)
        {
            Span<Transfer> rows = _transfers.ChunkRows(chunk);
            Transfer.EncodeAll(rows, destination.Slice(offset, rows.Length * Transfer.Size));
            offset += rows.Length * Transfer.Size;

            // PendingStatus is a byte enum stored as bytes: the section is the status arrays, chunk after chunk.
            Span<byte> statuses = _transfers.ChunkStatuses(chunk);
            statuses.CopyTo(destination.Slice(statusOffset, statuses.Length));
            statusOffset += statuses.Length;
        }

        offset = statusOffset;
        foreach (UInt128 id in burnt)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(destination.Slice(offset, 16), id);
            offset += 16;
        }
    }

    /// <summary>
    /// Rebuilds a ledger from a snapshot <see cref="WriteSnapshot"/> wrote. The snapshot is validated as a whole
    /// (magic, version, counts against its length, record ids, duplicates, timestamps, status bytes) before the ledger
    /// is returned; nothing of an invalid snapshot is ever visible.
    /// </summary>
    /// <param name="snapshot">The snapshot's bytes, exactly (trailing bytes are an error).</param>
    /// <param name="accountCapacity">
    /// Accounts to reserve room for, as in <see cref="Ledger(int, int)"/>; the ledger gets at least what the snapshot holds.
    /// </param>
    /// <param name="transferCapacity">
    /// Transfers to reserve room for, as in <see cref="Ledger(int, int)"/>; the ledger gets at least what the snapshot
    /// holds (its transfers and burnt ids).
    /// </param>
    /// <returns>A ledger in the state the snapshot describes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A capacity is negative or larger than the ledger supports.</exception>
    /// <exception cref="LedgerSnapshotException">
    /// <paramref name="snapshot"/> is not a valid snapshot; the exception names the problem and its byte offset.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Ledger ReadSnapshot(ReadOnlySpan<byte> snapshot, int accountCapacity = 0, int transferCapacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(accountCapacity);
        ArgumentOutOfRangeException.ThrowIfNegative(transferCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(accountCapacity, AccountTable.MaxCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(transferCapacity, TransferTable.MaxCapacity);

        SnapshotLayout layout = ReadSnapshotHeader(snapshot);
        var ledger = new Ledger(
            Math.Max(accountCapacity, layout.Accounts),
            Math.Max(transferCapacity, layout.Transfers + layout.Burnt));
        ledger._lastTimestamp = layout.LastTimestamp;
        ledger.LoadAccounts(snapshot, layout);
        ledger.LoadTransfers(snapshot, layout);
        ledger.LoadBurntIds(snapshot, layout);
        return ledger;
    }

    /// <summary>
    /// Where a snapshot's transfer records lie (row order), when its header is sound: lets the engine index the
    /// transfer ids on another thread while <see cref="ReadSnapshot"/> runs. Only a hint: the caller must still use
    /// the result only if <see cref="ReadSnapshot"/> of the same bytes succeeds (it validates the records).
    /// </summary>
    internal static bool TryLocateSnapshotTransfers(ReadOnlySpan<byte> snapshot, out int offset, out int count)
    {
        try
        {
            SnapshotLayout layout = ReadSnapshotHeader(snapshot);
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
    private static SnapshotLayout ReadSnapshotHeader(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.Length >= SnapshotMagic.Length && !snapshot[..SnapshotMagic.Length].SequenceEqual(SnapshotMagic))
        {
            ThrowHelper.ThrowLedgerSnapshotException(0, "the magic is not \"MPLS\" (this is not a ledger snapshot)");
        }

        if (snapshot.Length < SnapshotHeaderSize)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                snapshot.Length, $"truncated: the header needs {SnapshotHeaderSize} bytes and the snapshot has {snapshot.Length}");
        }

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
        if (snapshot.Length < layout.End)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                snapshot.Length,
                $"truncated: the header's counts ({accounts} accounts, {transfers} transfers, {burnt} burnt ids) need {layout.End} bytes and the snapshot has {snapshot.Length}");
        }

        if (snapshot.Length > layout.End)
        {
            ThrowHelper.ThrowLedgerSnapshotException(
                layout.End, $"{snapshot.Length - layout.End} trailing bytes after the end the header's counts give ({layout.End} bytes)");
        }

        return layout;
    }

    /// <summary>Decodes, checks and indexes the accounts.</summary>
    private void LoadAccounts(ReadOnlySpan<byte> snapshot, in SnapshotLayout layout)
    {
        Span<Account> rows = _accounts.LoadRows(layout.Accounts);
        Account.DecodeAll(snapshot.Slice(layout.AccountsOffset, layout.Accounts * Account.Size), rows);
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
    private void LoadTransfers(ReadOnlySpan<byte> snapshot, in SnapshotLayout layout)
    {
        _transfers.LoadRows(layout.Transfers, layout.Burnt);
        int offset = layout.TransfersOffset;
        int statusOffset = layout.StatusesOffset;
        int first = 0;
        ulong previous = 0;
        for (int chunk = 0; chunk < _transfers.UsedChunkCount; chunk++)
        {
            // Chunk by chunk, so the checks below read rows that the decoding has just brought into the cache.
            Span<Transfer> rows = _transfers.ChunkRows(chunk);
            Span<byte> statuses = _transfers.ChunkStatuses(chunk);
            Transfer.DecodeAll(snapshot.Slice(offset, rows.Length * Transfer.Size), rows);
            snapshot.Slice(statusOffset, statuses.Length).CopyTo(statuses);
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
    private void LoadBurntIds(ReadOnlySpan<byte> snapshot, in SnapshotLayout layout)
    {
        int offset = layout.BurntOffset;
        for (int i = 0; i < layout.Burnt; i++)
        {
            UInt128 id = BinaryPrimitives.ReadUInt128LittleEndian(snapshot.Slice(offset, 16));
            if (id == UInt128.Zero || id == UInt128.MaxValue)
            {
                ThrowHelper.ThrowLedgerSnapshotException(offset, $"burnt id {i} is the reserved id {id}");
            }

            if (!_transfers.TryBurnLoaded(id))
            {
                ThrowHelper.ThrowLedgerSnapshotException(offset, $"burnt id {i} ({id}) is already a transfer or an earlier burnt id");
            }

            offset += 16;
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

    /// <summary>The header's values and where each section starts. Every offset fits an int: the span holds them all.</summary>
    private readonly record struct SnapshotLayout(ulong LastTimestamp, int Accounts, int Transfers, int Burnt)
    {
        public int AccountsOffset => SnapshotHeaderSize;

        public int TransfersOffset => AccountsOffset + (Accounts * Account.Size);

        public int StatusesOffset => TransfersOffset + (Transfers * Transfer.Size);

        public int BurntOffset => StatusesOffset + Transfers;

        /// <summary>The snapshot's length; computed in 64 bits, since the counts are not yet checked against the span.</summary>
        public long End =>
            SnapshotHeaderSize + ((long)Accounts * Account.Size) + ((long)Transfers * (Transfer.Size + 1)) + ((long)Burnt * 16);
    }
}
