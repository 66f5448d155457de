using System.Numerics;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <content>Creating transfers: the batch driver with its look-ahead pipeline, and the checks of each mode.</content>
public sealed partial class Ledger
{
    private const TransferFlags KnownTransferFlags =
        TransferFlags.Linked | TransferFlags.Pending | TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer |
        TransferFlags.BalancingDebit | TransferFlags.BalancingCredit | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit;

    private const TransferFlags ModeFlags = TransferFlags.Pending | TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer;
    private const TransferFlags PostOrVoidFlags = TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer;
    private const TransferFlags BalancingFlags = TransferFlags.BalancingDebit | TransferFlags.BalancingCredit;
    private const TransferFlags ClosingFlags = TransferFlags.ClosingDebit | TransferFlags.ClosingCredit;

    // The look-ahead pipeline. Event i's ids are hashed and their index slots prefetched (stage A) two stages
    // before it is applied; one stage before, its account rows are located from the prefetched slots and
    // prefetched in turn (stage B). By the time the event is applied (stage C) its cache misses have overlapped
    // with those of ~2 * Stage other events instead of being paid one after another. Ring slots are indexed
    // by event number & RingMask; the ring must hold the 3 * Stage events in flight.
    private const int Stage = 16;
    private const int RingSize = 64;
    private const int RingMask = RingSize - 1;
    private readonly ulong[] _hashTransfer = new ulong[RingSize];
    private readonly ulong[] _hashDebit = new ulong[RingSize];
    private readonly ulong[] _hashCredit = new ulong[RingSize];
    private readonly uint[] _candidateDebit = new uint[RingSize];
    private readonly uint[] _candidateCredit = new uint[RingSize];

    /// <summary>Applies a batch of transfers, writing one result per transfer.</summary>
    /// <param name="timestamp">The batch timestamp (see the class remarks).</param>
    /// <param name="transfers">The transfers; timestamps must be zero.</param>
    /// <param name="results">Receives one result per transfer; at least as long as <paramref name="transfers"/>.</param>
    /// <returns>The number of transfers that were not applied (results other than <see cref="CreateTransferResult.Ok"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The batch's timestamps would overflow the clock.</exception>
    /// <exception cref="LedgerFullException">The batch does not fit in the ledger's tables; nothing was applied.</exception>
    public int CreateTransfers(ulong timestamp, ReadOnlySpan<Transfer> transfers, Span<CreateTransferResult> results)
    {
        if (results.Length < transfers.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        _transfers.Reserve(transfers.Length);
        ulong start = BeginBatch(timestamp, transfers.Length);
        int n = transfers.Length;
        int chainStart = -1;
        bool chainBroken = false;
        int failed = 0;

        HashAhead(transfers, 0, Math.Min(n, Stage));
        HashAhead(transfers, Stage, Math.Min(n, 2 * Stage));
        LocateAhead(0, Math.Min(n, Stage));
        for (int stage = 0; stage < n; stage += Stage)
        {
            HashAhead(transfers, stage + (2 * Stage), Math.Min(n, stage + (3 * Stage)));
            LocateAhead(stage + Stage, Math.Min(n, stage + (2 * Stage)));
            int stageEnd = Math.Min(n, stage + Stage);
            for (int i = stage; i < stageEnd; i++)
            {
                ref readonly Transfer transfer = ref transfers[i];
                bool linked = (transfer.Flags & TransferFlags.Linked) != 0;
                if (linked && chainStart < 0)
                {
                    chainStart = i;
                    chainBroken = false;
                    _undo.Clear();
                }

                CreateTransferResult result;
                if (chainStart >= 0 && chainBroken)
                {
                    result = CreateTransferResult.LinkedEventFailed;
                }
                else if (linked && i == n - 1)
                {
                    result = CreateTransferResult.LinkedEventChainOpen;
                    RollbackChain();
                    failed += MarkChainFailed(results, chainStart, i);
                }
                else
                {
                    result = CreateTransferCore(transfer, start + (ulong)i, i & RingMask, inChain: chainStart >= 0);
                    if (result != CreateTransferResult.Ok)
                    {
                        if (chainStart >= 0)
                        {
                            RollbackChain();
                            failed += MarkChainFailed(results, chainStart, i);
                            chainBroken = true;
                        }

                        if (IsTransient(result))
                        {
                            _transfers.Burn(transfer.Id, _hashTransfer[i & RingMask]);
                        }
                    }
                }

                results[i] = result;
                if (result != CreateTransferResult.Ok)
                {
                    failed++;
                }

                if (!linked)
                {
                    chainStart = -1;
                }
            }
        }

        TransferTable.Publish();
        return failed;
    }

    /// <summary>Whether a result depends on the ledger's state rather than on the transfer alone; such an id is burnt.</summary>
    internal static bool IsTransient(CreateTransferResult result) => result switch
    {
        CreateTransferResult.DebitAccountNotFound or
        CreateTransferResult.CreditAccountNotFound or
        CreateTransferResult.PendingTransferNotFound or
        CreateTransferResult.DebitAccountAlreadyClosed or
        CreateTransferResult.CreditAccountAlreadyClosed or
        CreateTransferResult.ExceedsCredits or
        CreateTransferResult.ExceedsDebits => true,
        >= CreateTransferResult.OverflowsDebitsPending and <= CreateTransferResult.OverflowsTimeout => true,
        _ => false,
    };

    private static int MarkChainFailed(Span<CreateTransferResult> results, int from, int to)
    {
        // Every earlier event of a chain succeeded (the first failure stops the chain), so each one turns into a failure.
        for (int k = from; k < to; k++)
        {
            results[k] = CreateTransferResult.LinkedEventFailed;
        }

        return to - from;
    }

    /// <summary>Stage A: hash the ids of events [from, to) and prefetch their index slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void HashAhead(ReadOnlySpan<Transfer> transfers, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            ref readonly Transfer t = ref transfers[i];
            int slot = i & RingMask;
            ulong hashTransfer = IdHash.Hash(t.Id);
            ulong hashDebit = IdHash.Hash(t.DebitAccountId);
            ulong hashCredit = IdHash.Hash(t.CreditAccountId);
            _hashTransfer[slot] = hashTransfer;
            _hashDebit[slot] = hashDebit;
            _hashCredit[slot] = hashCredit;
            _transfers.PrefetchIndex(hashTransfer);
            _accounts.PrefetchIndex(hashDebit);
            _accounts.PrefetchIndex(hashCredit);
        }
    }

    /// <summary>Stage B: read the prefetched index slots of events [from, to) and prefetch the account rows they name.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LocateAhead(int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            int slot = i & RingMask;
            uint debit = _accounts.FindCandidate(_hashDebit[slot]);
            uint credit = _accounts.FindCandidate(_hashCredit[slot]);
            _candidateDebit[slot] = debit;
            _candidateCredit[slot] = credit;
            _accounts.PrefetchRow(debit);
            _accounts.PrefetchRow(credit);
        }
    }

    private CreateTransferResult CreateTransferCore(in Transfer t, ulong timestamp, int slot, bool inChain)
    {
        if (t.Timestamp != 0)
        {
            return CreateTransferResult.TimestampMustBeZero;
        }

        if ((t.Flags & ~KnownTransferFlags) != 0)
        {
            return CreateTransferResult.ReservedFlag;
        }

        if (UInt128Math.IsZero(t.Id))
        {
            return CreateTransferResult.IdMustNotBeZero;
        }

        if (UInt128Math.IsMax(t.Id))
        {
            return CreateTransferResult.IdMustNotBeIntMax;
        }

        ulong hash = _hashTransfer[slot];
        uint entry = _transfers.FindEntry(hash, t.Id, out ulong insertSlot);
        if (entry != IdIndex.NotFound)
        {
            return (entry & TransferTable.FailedBit) != 0
                ? CreateTransferResult.IdAlreadyFailed
                : TransferExists(t, _transfers[(int)entry]);
        }

        if (BitOperations.PopCount((uint)(t.Flags & ModeFlags)) > 1 ||
            ((t.Flags & PostOrVoidFlags) != 0 && (t.Flags & (BalancingFlags | ClosingFlags)) != 0))
        {
            return CreateTransferResult.FlagsAreMutuallyExclusive;
        }

        if ((t.Flags & PostOrVoidFlags) != 0)
        {
            return PostOrVoidPendingTransfer(t, timestamp, hash, insertSlot, inChain);
        }

        if (UInt128Math.IsZero(t.DebitAccountId))
        {
            return CreateTransferResult.DebitAccountIdMustNotBeZero;
        }

        if (UInt128Math.IsMax(t.DebitAccountId))
        {
            return CreateTransferResult.DebitAccountIdMustNotBeIntMax;
        }

        if (UInt128Math.IsZero(t.CreditAccountId))
        {
            return CreateTransferResult.CreditAccountIdMustNotBeZero;
        }

        if (UInt128Math.IsMax(t.CreditAccountId))
        {
            return CreateTransferResult.CreditAccountIdMustNotBeIntMax;
        }

        if (t.DebitAccountId == t.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (t.PendingId != UInt128.Zero)
        {
            return CreateTransferResult.PendingIdMustBeZero;
        }

        bool pending = (t.Flags & TransferFlags.Pending) != 0;
        if (!pending)
        {
            if (t.Timeout != 0)
            {
                return CreateTransferResult.TimeoutReservedForPendingTransfer;
            }

            if ((t.Flags & ClosingFlags) != 0)
            {
                return CreateTransferResult.ClosingTransferMustBePending;
            }
        }

        if (t.LedgerId == 0)
        {
            return CreateTransferResult.LedgerMustNotBeZero;
        }

        if (t.Code == 0)
        {
            return CreateTransferResult.CodeMustNotBeZero;
        }

        int debitRow = _accounts.Resolve(_candidateDebit[slot], _hashDebit[slot], t.DebitAccountId);
        if (debitRow < 0)
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        int creditRow = _accounts.Resolve(_candidateCredit[slot], _hashCredit[slot], t.CreditAccountId);
        if (creditRow < 0)
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        ref Account dr = ref _accounts[debitRow];
        ref Account cr = ref _accounts[creditRow];
        if (dr.LedgerId != cr.LedgerId)
        {
            return CreateTransferResult.AccountsMustHaveTheSameLedger;
        }

        if (t.LedgerId != dr.LedgerId)
        {
            return CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts;
        }

        if ((dr.Flags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.DebitAccountAlreadyClosed;
        }

        if ((cr.Flags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.CreditAccountAlreadyClosed;
        }

        // Every account keeps DebitsPending + DebitsPosted and CreditsPending + CreditsPosted representable
        // (the OverflowsDebits / OverflowsCredits checks below), so these sums cannot overflow.
        UInt128 drDebits = UInt128Math.Add(dr.DebitsPending, dr.DebitsPosted);
        UInt128 crCredits = UInt128Math.Add(cr.CreditsPending, cr.CreditsPosted);
        UInt128 amount = t.Amount;
        if ((t.Flags & TransferFlags.BalancingDebit) != 0)
        {
            amount = UInt128Math.Min(amount, UInt128Math.SaturatingSubtract(dr.CreditsPosted, drDebits));
        }

        if ((t.Flags & TransferFlags.BalancingCredit) != 0)
        {
            amount = UInt128Math.Min(amount, UInt128Math.SaturatingSubtract(cr.DebitsPosted, crCredits));
        }

        // The balance this transfer adds to: pending for a hold, posted otherwise.
        UInt128 drBalance;
        UInt128 crBalance;
        if (pending)
        {
            if (!UInt128Math.TryAdd(dr.DebitsPending, amount, out drBalance))
            {
                return CreateTransferResult.OverflowsDebitsPending;
            }

            if (!UInt128Math.TryAdd(cr.CreditsPending, amount, out crBalance))
            {
                return CreateTransferResult.OverflowsCreditsPending;
            }
        }
        else
        {
            if (!UInt128Math.TryAdd(dr.DebitsPosted, amount, out drBalance))
            {
                return CreateTransferResult.OverflowsDebitsPosted;
            }

            if (!UInt128Math.TryAdd(cr.CreditsPosted, amount, out crBalance))
            {
                return CreateTransferResult.OverflowsCreditsPosted;
            }
        }

        if (!UInt128Math.TryAdd(drDebits, amount, out UInt128 drDebitsAfter))
        {
            return CreateTransferResult.OverflowsDebits;
        }

        if (!UInt128Math.TryAdd(crCredits, amount, out UInt128 crCreditsAfter))
        {
            return CreateTransferResult.OverflowsCredits;
        }

        ulong expiresAt = 0;
        if (pending && t.Timeout != 0)
        {
            ulong timeout = (ulong)t.Timeout * NanosecondsPerSecond;
            if (timestamp > ulong.MaxValue - timeout)
            {
                return CreateTransferResult.OverflowsTimeout;
            }

            expiresAt = timestamp + timeout;
        }

        if ((dr.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && UInt128Math.LessThan(dr.CreditsPosted, drDebitsAfter))
        {
            return CreateTransferResult.ExceedsCredits;
        }

        if ((cr.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0 && UInt128Math.LessThan(cr.DebitsPosted, crCreditsAfter))
        {
            return CreateTransferResult.ExceedsDebits;
        }

        if (inChain)
        {
            _undo.AccountChanged(debitRow, dr);
            _undo.AccountChanged(creditRow, cr);
        }

        if (pending)
        {
            dr.DebitsPending = drBalance;
            cr.CreditsPending = crBalance;
            if ((t.Flags & TransferFlags.ClosingDebit) != 0)
            {
                dr.Flags |= AccountFlags.Closed;
            }

            if ((t.Flags & TransferFlags.ClosingCredit) != 0)
            {
                cr.Flags |= AccountFlags.Closed;
            }
        }
        else
        {
            dr.DebitsPosted = drBalance;
            cr.CreditsPosted = crBalance;
        }

        // Written in place: the record goes straight from the caller's batch into the table.
        ref Transfer stored = ref _transfers.Add(hash, insertSlot, pending ? PendingStatus.Pending : PendingStatus.None, out int row);
        TransferTable.WriteRow(ref stored, t, amount, timestamp);
        if (inChain)
        {
            _undo.TransferAdded(row);
        }

        if (expiresAt != 0)
        {
            _expiries.Push(expiresAt, row);
        }

        return CreateTransferResult.Ok;
    }

    private CreateTransferResult PostOrVoidPendingTransfer(in Transfer t, ulong timestamp, ulong hash, ulong insertSlot, bool inChain)
    {
        if (UInt128Math.IsZero(t.PendingId))
        {
            return CreateTransferResult.PendingIdMustNotBeZero;
        }

        if (UInt128Math.IsMax(t.PendingId))
        {
            return CreateTransferResult.PendingIdMustNotBeIntMax;
        }

        if (t.PendingId == t.Id)
        {
            return CreateTransferResult.PendingIdMustBeDifferent;
        }

        if (t.Timeout != 0)
        {
            return CreateTransferResult.TimeoutReservedForPendingTransfer;
        }

        int pendingRow = _transfers.Find(t.PendingId);
        if (pendingRow < 0)
        {
            return CreateTransferResult.PendingTransferNotFound;
        }

        ref Transfer p = ref _transfers[pendingRow];
        if ((p.Flags & TransferFlags.Pending) == 0)
        {
            return CreateTransferResult.PendingTransferNotPending;
        }

        if (t.DebitAccountId != UInt128.Zero && t.DebitAccountId != p.DebitAccountId)
        {
            return CreateTransferResult.PendingTransferHasDifferentDebitAccountId;
        }

        if (t.CreditAccountId != UInt128.Zero && t.CreditAccountId != p.CreditAccountId)
        {
            return CreateTransferResult.PendingTransferHasDifferentCreditAccountId;
        }

        if (t.LedgerId != 0 && t.LedgerId != p.LedgerId)
        {
            return CreateTransferResult.PendingTransferHasDifferentLedger;
        }

        if (t.Code != 0 && t.Code != p.Code)
        {
            return CreateTransferResult.PendingTransferHasDifferentCode;
        }

        bool post = (t.Flags & TransferFlags.PostPendingTransfer) != 0;
        UInt128 amount;
        if (post)
        {
            amount = t.Amount == UInt128.MaxValue ? p.Amount : t.Amount;
            if (UInt128Math.LessThan(p.Amount, amount))
            {
                return CreateTransferResult.ExceedsPendingTransferAmount;
            }
        }
        else
        {
            if (t.Amount != UInt128.Zero && t.Amount != p.Amount)
            {
                return CreateTransferResult.PendingTransferHasDifferentAmount;
            }

            amount = p.Amount;
        }

        switch (_transfers.GetStatus(pendingRow))
        {
            case PendingStatus.Posted:
                return CreateTransferResult.PendingTransferAlreadyPosted;
            case PendingStatus.Voided:
                return CreateTransferResult.PendingTransferAlreadyVoided;
            case PendingStatus.Expired:
                return CreateTransferResult.PendingTransferExpired;
        }

        int debitRow = _accounts.Find(p.DebitAccountId);
        int creditRow = _accounts.Find(p.CreditAccountId);
        ref Account dr = ref _accounts[debitRow];
        ref Account cr = ref _accounts[creditRow];
        if (post)
        {
            // A closing transfer closed its own account; posting it must still be possible.
            if ((dr.Flags & AccountFlags.Closed) != 0 && (p.Flags & TransferFlags.ClosingDebit) == 0)
            {
                return CreateTransferResult.DebitAccountAlreadyClosed;
            }

            if ((cr.Flags & AccountFlags.Closed) != 0 && (p.Flags & TransferFlags.ClosingCredit) == 0)
            {
                return CreateTransferResult.CreditAccountAlreadyClosed;
            }
        }

        if (inChain)
        {
            _undo.AccountChanged(debitRow, dr);
            _undo.AccountChanged(creditRow, cr);
            _undo.StatusChanged(pendingRow, PendingStatus.Pending);
        }

        // The hold's amount is part of the pending balances, and pending + posted was kept representable when
        // the hold was made, so moving (part of) it to posted cannot overflow nor break a balance flag.
        dr.DebitsPending = UInt128Math.Subtract(dr.DebitsPending, p.Amount);
        cr.CreditsPending = UInt128Math.Subtract(cr.CreditsPending, p.Amount);
        if (post)
        {
            dr.DebitsPosted = UInt128Math.Add(dr.DebitsPosted, amount);
            cr.CreditsPosted = UInt128Math.Add(cr.CreditsPosted, amount);
        }
        else
        {
            Reopen(ref dr, ref cr, p.Flags);
        }

        _transfers.SetStatus(pendingRow, post ? PendingStatus.Posted : PendingStatus.Voided);

        // Read the pending transfer's fields before adding: the add may move nothing, but keeps this obviously safe.
        UInt128 debitAccountId = p.DebitAccountId;
        UInt128 creditAccountId = p.CreditAccountId;
        uint ledgerId = p.LedgerId;
        ushort code = p.Code;
        ref Transfer stored = ref _transfers.Add(hash, insertSlot, PendingStatus.None, out int row);
        stored = t;
        stored.DebitAccountId = debitAccountId;
        stored.CreditAccountId = creditAccountId;
        stored.LedgerId = ledgerId;
        stored.Code = code;
        stored.Amount = amount;
        stored.Timestamp = timestamp;
        if (inChain)
        {
            _undo.TransferAdded(row);
        }

        return CreateTransferResult.Ok;
    }

    private CreateTransferResult TransferExists(in Transfer t, in Transfer e)
    {
        if (t.Flags != e.Flags)
        {
            return CreateTransferResult.ExistsWithDifferentFlags;
        }

        if (t.PendingId != e.PendingId)
        {
            return CreateTransferResult.ExistsWithDifferentPendingId;
        }

        if (t.Timeout != e.Timeout)
        {
            return CreateTransferResult.ExistsWithDifferentTimeout;
        }

        bool postOrVoid = (e.Flags & PostOrVoidFlags) != 0;
        if (postOrVoid ? t.DebitAccountId != UInt128.Zero && t.DebitAccountId != e.DebitAccountId : t.DebitAccountId != e.DebitAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentDebitAccountId;
        }

        if (postOrVoid ? t.CreditAccountId != UInt128.Zero && t.CreditAccountId != e.CreditAccountId : t.CreditAccountId != e.CreditAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentCreditAccountId;
        }

        bool differentAmount;
        if ((e.Flags & BalancingFlags) != 0)
        {
            differentAmount = UInt128Math.LessThan(t.Amount, e.Amount);
        }
        else if ((e.Flags & TransferFlags.PostPendingTransfer) != 0)
        {
            differentAmount = t.Amount == UInt128.MaxValue
                ? e.Amount != _transfers[_transfers.Find(e.PendingId)].Amount
                : t.Amount != e.Amount;
        }
        else if ((e.Flags & TransferFlags.VoidPendingTransfer) != 0)
        {
            differentAmount = t.Amount != UInt128.Zero && t.Amount != e.Amount;
        }
        else
        {
            differentAmount = t.Amount != e.Amount;
        }

        if (differentAmount)
        {
            return CreateTransferResult.ExistsWithDifferentAmount;
        }

        if (t.UserData128 != e.UserData128)
        {
            return CreateTransferResult.ExistsWithDifferentUserData128;
        }

        if (t.UserData64 != e.UserData64)
        {
            return CreateTransferResult.ExistsWithDifferentUserData64;
        }

        if (t.UserData32 != e.UserData32)
        {
            return CreateTransferResult.ExistsWithDifferentUserData32;
        }

        if (postOrVoid ? t.LedgerId != 0 && t.LedgerId != e.LedgerId : t.LedgerId != e.LedgerId)
        {
            return CreateTransferResult.ExistsWithDifferentLedger;
        }

        return (postOrVoid ? t.Code != 0 && t.Code != e.Code : t.Code != e.Code)
            ? CreateTransferResult.ExistsWithDifferentCode
            : CreateTransferResult.Exists;
    }

}
