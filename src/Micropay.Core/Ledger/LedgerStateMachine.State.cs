using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <content>The ledger's state, the batch clock, pending-transfer expiry and linked-chain rollback.</content>
public sealed partial class LedgerStateMachine
{
    private const ulong NanosecondsPerSecond = 1_000_000_000UL;

    // Only the writer thread touches any of these (the ledger is single-threaded by contract).
    private readonly AccountTable _accounts;
    private readonly TransferTable _transfers;
    private readonly ExpiryQueue _expiries = new();
    private readonly UndoLog _undo = new();
    private ulong _lastTimestamp;

    /// <summary>
    /// When set (by the engine, on the writer thread), every account row the ledger changes is logged with its new
    /// content, so the engine can publish exactly the changed rows after each batch. Null for a plain ledger.
    /// </summary>
    internal AccountImageLog? AccountChanges { get; set; }

    // Where AccountChanges stood when the open linked chain began; a rollback truncates it back to there.
    private int _chainImageMark;

    /// <summary>Managed bytes held by the ledger's tables, for the memory budget (see the benchmarks).</summary>
    internal long MemoryBytes => _accounts.MemoryBytes + _transfers.MemoryBytes;

    /// <summary>A transfer row, readable from any thread once the engine has published it (see <see cref="TransferTable.ReadPublished"/>).</summary>
    internal Transfer ReadPublishedTransfer(int row) => _transfers.ReadPublished(row);

    /// <summary>
    /// The earliest time a hold may expire (false when no hold has a timeout): the engine applies an empty batch when
    /// it is idle past this time, so due holds are released without waiting for traffic. May name a hold that was
    /// already posted or voided; the empty batch then just drops that entry.
    /// </summary>
    /// Extensions' deadlines (a channel's expiry or the end of its settle delay) count too.
    internal bool TryPeekNextExpiry(out ulong expiresAt)
    {
        bool hold = _expiries.TryPeek(out expiresAt);
        if (TryPeekExtensionDeadline(out ulong deadline) && (!hold || deadline < expiresAt))
        {
            expiresAt = deadline;
            return true;
        }

        return hold;
    }

    /// <summary>The hold expiry queue's entries, stale ones (posted or voided holds not yet due) included (4.10).</summary>
    internal int ExpiryQueueCount => _expiries.Count;

    /// <summary>Transfer ids burnt by transient failures.</summary>
    internal int BurntIdCount => _transfers.FailedCount;

    /// <summary>
    /// Assigns a batch of <paramref name="count"/> events its first timestamp, advances the clock past the batch,
    /// expires the holds due by then and fires the extensions' due deadlines.
    /// </summary>
    /// <remarks>
    /// A deadline that moves money (a channel's refund) stamps its transfers with the timestamps just before the
    /// batch's first event, which moves that first event later; holds and deadlines due by the later time then fire
    /// too, so no event of the batch ever sees a hold or a channel past its time.
    /// </remarks>
    private ulong BeginBatch(ulong timestamp, int count)
    {
        if (_lastTimestamp == ulong.MaxValue)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException_TimestampOverflow(nameof(timestamp));
        }

        ulong start = Math.Max(timestamp, _lastTimestamp + 1);
        ulong span = count == 0 ? 0UL : (ulong)(count - 1);
        if (start > ulong.MaxValue - span)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException_TimestampOverflow(nameof(timestamp));
        }

        ExpireDue(start);
        ulong next;
        while ((next = FireExtensionDeadlines(start, start)) != start)
        {
            start = next;
            ExpireDue(start);
        }

        // Only deadlines' transfers can have moved the start since the check above (never within 2^63 ns of the end of
        // time in practice); the batch then fails after they applied, which the engine treats as any apply failure.
        if (start > ulong.MaxValue - span)
        {
            ThrowHelper.ThrowArgumentOutOfRangeException_TimestampOverflow(nameof(timestamp));
        }

        _lastTimestamp = start + span;
        return start;
    }

    /// <summary>The time a pending transfer expires, or 0 when it never does. Creation rejected every overflow.</summary>
    private static ulong ExpiresAt(in Transfer pending) =>
        pending.Timeout == 0 ? 0UL : pending.Timestamp + ((ulong)pending.Timeout * NanosecondsPerSecond);

    /// <summary>Releases every hold that expires at or before <paramref name="now"/>, earliest first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExpireDue(ulong now)
    {
        while (_expiries.TryPopDue(now, out ulong expiresAt, out int row))
        {
            // Stale entries (the hold was posted or voided, or its chain rolled back) are skipped.
            if (row >= _transfers.Count || _transfers.GetStatus(row) != PendingStatus.Pending)
            {
                continue;
            }

            ref Transfer pending = ref _transfers[row];
            if (ExpiresAt(pending) != expiresAt)
            {
                continue;
            }

            ref Account debit = ref _accounts[_accounts.Find(pending.DebitAccountId)];
            ref Account credit = ref _accounts[_accounts.Find(pending.CreditAccountId)];
            debit.DebitsPending = UInt128Math.Subtract(debit.DebitsPending, pending.Amount);
            credit.CreditsPending = UInt128Math.Subtract(credit.CreditsPending, pending.Amount);
            Reopen(ref debit, ref credit, pending.Flags);
            _transfers.SetStatus(row, PendingStatus.Expired);
            if (AccountChanges is { } log)
            {
                log.Add(_accounts.Find(pending.DebitAccountId), debit);
                log.Add(_accounts.Find(pending.CreditAccountId), credit);
            }
        }
    }

    /// <summary>Reopens the accounts a closing pending transfer closed, when that transfer is voided or expires.</summary>
    private static void Reopen(ref Account debit, ref Account credit, TransferFlags flags)
    {
        if ((flags & TransferFlags.ClosingDebit) != 0)
        {
            debit.Flags &= ~AccountFlags.Closed;
        }

        if ((flags & TransferFlags.ClosingCredit) != 0)
        {
            credit.Flags &= ~AccountFlags.Closed;
        }
    }

    /// <summary>Starts a linked chain: from here on, changes are recorded so that a failure can undo them.</summary>
    private void BeginChain()
    {
        _undo.Clear();
        _chainImageMark = AccountChanges?.Count ?? 0;
    }

    /// <summary>Undoes everything the open chain changed, newest first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RollbackChain()
    {
        for (int i = _undo.Count - 1; i >= 0; i--)
        {
            ref readonly UndoLog.Entry entry = ref _undo[i];
            switch (entry.Kind)
            {
                case UndoLog.UndoKind.AccountChanged:
                    _accounts[entry.Row] = entry.Account;
                    break;
                case UndoLog.UndoKind.AccountAdded:
                    System.Diagnostics.Debug.Assert(entry.Row == _accounts.Count - 1);
                    _accounts.RemoveLast();
                    break;
                case UndoLog.UndoKind.TransferAdded:
                    System.Diagnostics.Debug.Assert(entry.Row == _transfers.Count - 1);
                    if (_history is { } history)
                    {
                        // The newest row is the newest entry of both its accounts (posts and voids store the pending
                        // transfer's accounts, which are the rows the history recorded).
                        ref Transfer removed = ref _transfers[entry.Row];
                        history.RemoveLast(_accounts.Find(removed.DebitAccountId), entry.Row);
                        history.RemoveLast(_accounts.Find(removed.CreditAccountId), entry.Row);
                    }

                    _transfers.RemoveLast();
                    break;
                case UndoLog.UndoKind.StatusChanged:
                    _transfers.SetStatus(entry.Row, entry.Status);
                    break;
            }
        }

        _undo.Clear();
        AccountChanges?.Truncate(_chainImageMark);
    }
}
