using System.Numerics;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <content>Creating transfers: the batch driver with its look-ahead pipeline, and the checks of each mode.</content>
public sealed partial class LedgerStateMachine
{
    private const TransferFlags KnownTransferFlags =
        TransferFlags.Linked | TransferFlags.Pending | TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer |
        TransferFlags.BalancingDebit | TransferFlags.BalancingCredit | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit;

    private const TransferFlags ModeFlags = TransferFlags.Pending | TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer;
    private const TransferFlags PostOrVoidFlags = TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer;
    private const TransferFlags BalancingFlags = TransferFlags.BalancingDebit | TransferFlags.BalancingCredit;
    private const TransferFlags ClosingFlags = TransferFlags.ClosingDebit | TransferFlags.ClosingCredit;

    // The look-ahead pipeline. While event i is applied (stage C), event i + LocateDistance has its account
    // rows located from already-prefetched index slots and prefetched in turn (stage B), and event
    // i + HashDistance has its three ids hashed and their index slots prefetched (stage A). Each event's cache
    // misses thus overlap with those of the events around it instead of being paid one after another. The
    // distances were measured, not guessed (benchmarks/README.md, "Figures behind the design's reasons"): one
    // event at a time keeps the prefetches spread out (bursts of a whole stage overrun the processor's miss
    // buffers), and these distances give each miss a few hundred nanoseconds to land. The ring holds the
    // per-event scratch of the HashDistance + 1 events in flight, indexed by event number & RingMask.
    private const int HashDistance = 8;
    private const int LocateDistance = 4;
    private const int RingSize = 16;
    private const int RingMask = RingSize - 1;

    // Compile-time checks (a negative value does not convert to a uint constant): the ring must hold every event from
    // the one being applied to the one being hashed, and an event is hashed before it is located.
    private const uint RingHoldsTheLookahead = RingSize - HashDistance - 1;
    private const uint HashedBeforeLocated = HashDistance - LocateDistance - 1;
    private readonly Lookahead[] _ring = new Lookahead[RingSize];

    /// <summary>Applies a batch of transfers, writing one result per transfer.</summary>
    /// <param name="timestamp">The batch timestamp (see the class remarks).</param>
    /// <param name="transfers">The transfers; timestamps must be zero.</param>
    /// <param name="results">Receives one result per transfer; at least as long as <paramref name="transfers"/>.</param>
    /// <returns>The number of transfers that were not applied (results other than <see cref="CreateTransferResult.Ok"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The batch's timestamps would overflow the clock.</exception>
    /// <exception cref="LedgerFullException">The batch does not fit in the ledger's tables; nothing was applied.</exception>
    // The apply path is compiled fully optimised at its first call rather than tiered up: a ledger's first
    // batches are as fast as its later ones, and no tiering transition (instrumented code, on-stack replacement)
    // ever runs, or allocates, in the middle of a batch.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int CreateTransfers(ulong timestamp, ReadOnlySpan<Transfer> transfers, Span<CreateTransferResult> results)
    {
        if (results.Length < transfers.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        _transfers.Reserve(transfers.Length);
        var kind = new TransferKind(this);
        return ApplyBatch<Transfer, CreateTransferResult, TransferKind>(ref kind, timestamp, transfers, results);
    }

    /// <summary>Creating transfers in the shared batch driver: the look-ahead pipeline, and burnt ids after transient failures.</summary>
    private readonly struct TransferKind(LedgerStateMachine ledger) : IEventKind<Transfer, CreateTransferResult>
    {
        public static CreateTransferResult Ok => CreateTransferResult.Ok;

        public static CreateTransferResult LinkedEventFailed => CreateTransferResult.LinkedEventFailed;

        public static CreateTransferResult LinkedEventChainOpen => CreateTransferResult.LinkedEventChainOpen;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsLinked(in Transfer e) => (e.Flags & TransferFlags.Linked) != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsOk(CreateTransferResult result) => result == CreateTransferResult.Ok;

        public void BeforeBatch(ReadOnlySpan<Transfer> events)
        {
            for (int i = 0; i < Math.Min(events.Length, HashDistance); i++)
            {
                ledger.HashAhead(events, i);
            }

            for (int i = 0; i < Math.Min(events.Length, LocateDistance); i++)
            {
                ledger.LocateAhead(i);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void BeforeEvent(ReadOnlySpan<Transfer> events, int i)
        {
            if (i + HashDistance < events.Length)
            {
                ledger.HashAhead(events, i + HashDistance);
            }

            if (i + LocateDistance < events.Length)
            {
                ledger.LocateAhead(i + LocateDistance);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public CreateTransferResult Apply(ReadOnlySpan<Transfer> events, int i, ulong timestamp, bool inChain) =>
            ledger.CreateTransferCore(events[i], timestamp, i & RingMask, inChain);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AfterFailure(ReadOnlySpan<Transfer> events, int i, CreateTransferResult result)
        {
            if (IsTransient(result))
            {
                ledger._transfers.Burn(events[i].Id, ledger._ring[i & RingMask].HashTransfer);
            }
        }
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

    /// <summary>Stage A: hash event <paramref name="i"/>'s ids and prefetch their index slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void HashAhead(ReadOnlySpan<Transfer> transfers, int i)
    {
        ref readonly Transfer t = ref transfers[i];
        ref Lookahead slot = ref _ring[i & RingMask];
        slot.HashTransfer = IdHash.Hash(t.Id);
        slot.HashDebit = IdHash.Hash(t.DebitAccountId);
        slot.HashCredit = IdHash.Hash(t.CreditAccountId);
        _transfers.PrefetchIndex(slot.HashTransfer);
        _accounts.PrefetchIndex(slot.HashDebit);
        _accounts.PrefetchIndex(slot.HashCredit);
    }

    /// <summary>Stage B: read event <paramref name="i"/>'s prefetched index slots and prefetch the account rows they name.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LocateAhead(int i)
    {
        ref Lookahead slot = ref _ring[i & RingMask];
        slot.CandidateDebit = _accounts.FindCandidate(slot.HashDebit);
        slot.CandidateCredit = _accounts.FindCandidate(slot.HashCredit);
        _accounts.PrefetchRow(slot.CandidateDebit);
        _accounts.PrefetchRow(slot.CandidateCredit);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        // One compare on the hot path: the reserved range holds UInt128.MaxValue, told apart inside.
        if (UInt128Math.IsReservedId(t.Id))
        {
            if (UInt128Math.IsMax(t.Id))
            {
                return CreateTransferResult.IdMustNotBeIntMax;
            }

            if (!_systemPosting)
            {
                return CreateTransferResult.IdReserved;
            }
        }

        ulong hash = _ring[slot].HashTransfer;
        uint entry = _transfers.FindEntry(hash, t.Id, out ulong insertSlot);
        if (entry != IdIndex.NotFound)
        {
            return _transfers.IsBurnt(entry)
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

        return CreateDebitCreditTransfer(t, timestamp, slot, hash, insertSlot, inChain);
    }

    // The checks of a single-phase or pending transfer that need no account. Kept apart from the prologue and
    // from the balance arithmetic so that each method stays within the JIT's inlining budget: past it, the
    // small helpers below stop being inlined and each becomes a call passing 128-bit values through memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private CreateTransferResult CreateDebitCreditTransfer(in Transfer t, ulong timestamp, int slot, ulong hash, ulong insertSlot, bool inChain)
    {
        if (UInt128Math.IsZero(t.DebitAccountId))
        {
            return CreateTransferResult.DebitAccountIdMustNotBeZero;
        }

        if (UInt128Math.IsReservedId(t.DebitAccountId))
        {
            if (UInt128Math.IsMax(t.DebitAccountId))
            {
                return CreateTransferResult.DebitAccountIdMustNotBeIntMax;
            }

            if (!_systemPosting)
            {
                return CreateTransferResult.DebitAccountIdReserved;
            }
        }

        if (UInt128Math.IsZero(t.CreditAccountId))
        {
            return CreateTransferResult.CreditAccountIdMustNotBeZero;
        }

        if (UInt128Math.IsReservedId(t.CreditAccountId))
        {
            if (UInt128Math.IsMax(t.CreditAccountId))
            {
                return CreateTransferResult.CreditAccountIdMustNotBeIntMax;
            }

            if (!_systemPosting)
            {
                return CreateTransferResult.CreditAccountIdReserved;
            }
        }

        if (t.DebitAccountId == t.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (!UInt128Math.IsZero(t.PendingId))
        {
            return CreateTransferResult.PendingIdMustBeZero;
        }

        if ((t.Flags & TransferFlags.Pending) == 0)
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

        ref Lookahead ahead = ref _ring[slot];
        int debitRow = _accounts.Resolve(ahead.CandidateDebit, ahead.HashDebit, t.DebitAccountId);
        if (debitRow < 0)
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        int creditRow = _accounts.Resolve(ahead.CandidateCredit, ahead.HashCredit, t.CreditAccountId);
        if (creditRow < 0)
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        return ApplyDebitCredit(t, timestamp, debitRow, creditRow, hash, insertSlot, inChain);
    }

    // The account checks, the balance arithmetic and the apply of a single-phase or pending transfer. Balances
    // are worked on as 64-bit words in place (word offsets from the byte table in Account.cs) so the JIT keeps
    // them in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe CreateTransferResult ApplyDebitCredit(in Transfer t, ulong timestamp, int debitRow, int creditRow, ulong hash, ulong insertSlot, bool inChain)
    {
        Account* dr = _accounts.RowPointer(debitRow);
        Account* cr = _accounts.RowPointer(creditRow);
        if (dr->LedgerId != cr->LedgerId)
        {
            return CreateTransferResult.AccountsMustHaveTheSameLedger;
        }

        if (t.LedgerId != dr->LedgerId)
        {
            return CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts;
        }

        AccountFlags drFlags = dr->Flags;
        AccountFlags crFlags = cr->Flags;
        if ((drFlags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.DebitAccountAlreadyClosed;
        }

        if ((crFlags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.CreditAccountAlreadyClosed;
        }

        TransferFlags flags = t.Flags;
        ulong* d = (ulong*)dr;
        ulong* c = (ulong*)cr;

        // Every account keeps DebitsPending + DebitsPosted and CreditsPending + CreditsPosted representable
        // (the OverflowsDebits / OverflowsCredits checks below), so these two sums cannot overflow.
        UInt128Math.AddProven(d[Account.DebitsPendingWord], d[Account.DebitsPendingWord + 1], d[Account.DebitsPostedWord], d[Account.DebitsPostedWord + 1], out ulong drDebitsLo, out ulong drDebitsHi);
        UInt128Math.AddProven(c[Account.CreditsPendingWord], c[Account.CreditsPendingWord + 1], c[Account.CreditsPostedWord], c[Account.CreditsPostedWord + 1], out ulong crCreditsLo, out ulong crCreditsHi);

        UInt128 amount = t.Amount;
        if ((flags & BalancingFlags) != 0)
        {
            amount = CapBalancingAmount(flags, amount, dr, cr);
        }

        ulong amountLo = UInt128Math.Lo(amount);
        ulong amountHi = UInt128Math.Hi(amount);

        // The balance this transfer adds to: pending for a hold, posted otherwise.
        bool pending = (flags & TransferFlags.Pending) != 0;

        // The two words of the balance each side adds to. Word offsets are small constants inside the row, so the
        // pointer arithmetic cannot overflow (and unchecked keeps it a plain add instead of a checked multiply).
        ulong* drBalance = unchecked(d + (pending ? Account.DebitsPendingWord : Account.DebitsPostedWord));
        ulong* crBalance = unchecked(c + (pending ? Account.CreditsPendingWord : Account.CreditsPostedWord));
        if (!UInt128Math.TryAdd(drBalance[0], drBalance[1], amountLo, amountHi, out ulong drLo, out ulong drHi))
        {
            return pending ? CreateTransferResult.OverflowsDebitsPending : CreateTransferResult.OverflowsDebitsPosted;
        }

        if (!UInt128Math.TryAdd(crBalance[0], crBalance[1], amountLo, amountHi, out ulong crLo, out ulong crHi))
        {
            return pending ? CreateTransferResult.OverflowsCreditsPending : CreateTransferResult.OverflowsCreditsPosted;
        }

        // A pending transfer's posted balances are checked only here, once a sum has overflowed (posted <= sum, so
        // they cannot overflow otherwise): the uncommon case pays for the order of checks, the common one does not.
        if (!UInt128Math.TryAdd(drDebitsLo, drDebitsHi, amountLo, amountHi, out ulong drDebitsAfterLo, out ulong drDebitsAfterHi))
        {
            return SumOverflow(d, c, amountLo, amountHi, CreateTransferResult.OverflowsDebits);
        }

        if (!UInt128Math.TryAdd(crCreditsLo, crCreditsHi, amountLo, amountHi, out ulong crCreditsAfterLo, out ulong crCreditsAfterHi))
        {
            return SumOverflow(d, c, amountLo, amountHi, CreateTransferResult.OverflowsCredits);
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

        if ((drFlags & AccountFlags.DebitsMustNotExceedCredits) != 0 &&
            UInt128Math.LessThan(d[Account.CreditsPostedWord], d[Account.CreditsPostedWord + 1], drDebitsAfterLo, drDebitsAfterHi))
        {
            return CreateTransferResult.ExceedsCredits;
        }

        if ((crFlags & AccountFlags.CreditsMustNotExceedDebits) != 0 &&
            UInt128Math.LessThan(c[Account.DebitsPostedWord], c[Account.DebitsPostedWord + 1], crCreditsAfterLo, crCreditsAfterHi))
        {
            return CreateTransferResult.ExceedsDebits;
        }

        if (inChain)
        {
            _undo.AccountChanged(debitRow, *dr);
            _undo.AccountChanged(creditRow, *cr);
        }

        drBalance[0] = drLo;
        drBalance[1] = drHi;
        crBalance[0] = crLo;
        crBalance[1] = crHi;
        if ((flags & ClosingFlags) != 0)
        {
            Close(dr, cr, flags);
        }

        if (AccountChanges is { } log)
        {
            log.Add(debitRow, *dr);
            log.Add(creditRow, *cr);
        }

        // Written in place: the record goes straight from the caller's batch into the table.
        ref Transfer stored = ref _transfers.Add(hash, insertSlot, pending ? PendingStatus.Pending : PendingStatus.None, out int row);
        stored = t;
        stored.Amount = amount;
        stored.Timestamp = timestamp;
        _history?.Add(debitRow, creditRow, row);
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

    /// <summary>
    /// The result of a transfer whose <c>pending + posted + amount</c> overflows on one side (<paramref name="sum"/>
    /// names that side), in TigerBeetle's documented order: <see cref="CreateTransferResult.OverflowsDebitsPosted"/>,
    /// then <see cref="CreateTransferResult.OverflowsCreditsPosted"/>, come before either sum, for a pending transfer
    /// as for a single-phase one.
    /// </summary>
    /// <remarks>
    /// A single-phase transfer has already passed both posted checks, so this returns <paramref name="sum"/> for it. A
    /// pending transfer has passed both pending checks; whichever posted balance overflows is reported first. When
    /// only the credit sum overflows, the debit posted balance cannot (it is at most the debit sum, which did not).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe CreateTransferResult SumOverflow(ulong* d, ulong* c, ulong amountLo, ulong amountHi, CreateTransferResult sum)
    {
        if (!UInt128Math.TryAdd(d[Account.DebitsPostedWord], d[Account.DebitsPostedWord + 1], amountLo, amountHi, out _, out _))
        {
            return CreateTransferResult.OverflowsDebitsPosted;
        }

        if (!UInt128Math.TryAdd(c[Account.CreditsPostedWord], c[Account.CreditsPostedWord + 1], amountLo, amountHi, out _, out _))
        {
            return CreateTransferResult.OverflowsCreditsPosted;
        }

        return sum;
    }

    /// <summary>Caps a balancing transfer's amount at what the debit (and/or credit) account's balance allows.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe UInt128 CapBalancingAmount(TransferFlags flags, UInt128 amount, Account* dr, Account* cr)
    {
        if ((flags & TransferFlags.BalancingDebit) != 0)
        {
            UInt128 drDebits = UInt128Math.Add(dr->DebitsPending, dr->DebitsPosted);
            amount = UInt128Math.Min(amount, UInt128Math.SaturatingSubtract(dr->CreditsPosted, drDebits));
        }

        if ((flags & TransferFlags.BalancingCredit) != 0)
        {
            UInt128 crCredits = UInt128Math.Add(cr->CreditsPending, cr->CreditsPosted);
            amount = UInt128Math.Min(amount, UInt128Math.SaturatingSubtract(cr->DebitsPosted, crCredits));
        }

        return amount;
    }

    /// <summary>Closes the accounts a pending closing transfer names (it is undone by voiding or expiry).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void Close(Account* dr, Account* cr, TransferFlags flags)
    {
        if ((flags & TransferFlags.ClosingDebit) != 0)
        {
            dr->Flags |= AccountFlags.Closed;
        }

        if ((flags & TransferFlags.ClosingCredit) != 0)
        {
            cr->Flags |= AccountFlags.Closed;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        // A post of UInt128.MaxValue and a void of 0 stand for the pending amount. Any amount above it exceeds it (a
        // void's too, as TigerBeetle orders the checks); a void of less than all of it has a different amount.
        bool post = (t.Flags & TransferFlags.PostPendingTransfer) != 0;
        UInt128 amount = t.Amount == (post ? UInt128.MaxValue : UInt128.Zero) ? p.Amount : t.Amount;
        if (UInt128Math.LessThan(p.Amount, amount))
        {
            return CreateTransferResult.ExceedsPendingTransferAmount;
        }

        if (!post && amount != p.Amount)
        {
            return CreateTransferResult.PendingTransferHasDifferentAmount;
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
        if (AccountChanges is { } log)
        {
            log.Add(debitRow, dr);
            log.Add(creditRow, cr);
        }

        // Read the pending transfer's fields before adding: the add may move nothing, but keeps this obviously safe.
        // The accounts, ledger and code are always the pending transfer's; each user data field is the post's or
        // void's own unless it is zero, then the pending transfer's (TigerBeetle's rule, so a post inherits them).
        UInt128 debitAccountId = p.DebitAccountId;
        UInt128 creditAccountId = p.CreditAccountId;
        uint ledgerId = p.LedgerId;
        ushort code = p.Code;
        UInt128 userData128 = t.UserData128 == UInt128.Zero ? p.UserData128 : t.UserData128;
        ulong userData64 = t.UserData64 == 0 ? p.UserData64 : t.UserData64;
        uint userData32 = t.UserData32 == 0 ? p.UserData32 : t.UserData32;
        ref Transfer stored = ref _transfers.Add(hash, insertSlot, PendingStatus.None, out int row);
        stored = t;
        stored.DebitAccountId = debitAccountId;
        stored.CreditAccountId = creditAccountId;
        stored.LedgerId = ledgerId;
        stored.Code = code;
        stored.UserData128 = userData128;
        stored.UserData64 = userData64;
        stored.UserData32 = userData32;
        stored.Amount = amount;
        stored.Timestamp = timestamp;
        _history?.Add(debitRow, creditRow, row);
        if (inChain)
        {
            _undo.TransferAdded(row);
        }

        return CreateTransferResult.Ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        return (e.Flags & PostOrVoidFlags) != 0 ? PostOrVoidExists(t, e) : DebitCreditExists(t, e);
    }

    /// <summary>The rest of the retry comparison for a single-phase or pending transfer: every field must match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static CreateTransferResult DebitCreditExists(in Transfer t, in Transfer e)
    {
        if (t.DebitAccountId != e.DebitAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentDebitAccountId;
        }

        if (t.CreditAccountId != e.CreditAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentCreditAccountId;
        }

        // A balancing transfer stored the amount it moved: a retry asking for at least that much is the same request.
        if ((e.Flags & BalancingFlags) != 0 ? UInt128Math.LessThan(t.Amount, e.Amount) : t.Amount != e.Amount)
        {
            return CreateTransferResult.ExistsWithDifferentAmount;
        }

        return UserDataLedgerCodeExist(t.UserData128, t.UserData64, t.UserData32, t.LedgerId, t.Code, e);
    }

    /// <summary>
    /// The rest of the retry comparison for a post or void, which was stored with what it left zero filled in from
    /// the pending transfer <c>p</c>: a zero account id, ledger or code in the retry matches anything, any amount of at
    /// least <c>p</c>'s matches a full post, a void of 0 matches any void, and a zero user data field matches only if
    /// the stored one is <c>p</c>'s (TigerBeetle's comparison for a post or void).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private CreateTransferResult PostOrVoidExists(in Transfer t, in Transfer e)
    {
        if (t.DebitAccountId != UInt128.Zero && t.DebitAccountId != e.DebitAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentDebitAccountId;
        }

        if (t.CreditAccountId != UInt128.Zero && t.CreditAccountId != e.CreditAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentCreditAccountId;
        }

        // Posts and voids are never removed while the pending transfer they name stays (a chain rolls both back).
        ref Transfer p = ref _transfers[_transfers.Find(e.PendingId)];
        // As TigerBeetle's reference states it: a full post is matched by any amount at least the pending amount
        // (UInt128.MaxValue included), a partial post only by the amount it posted; a void stored the pending amount.
        bool differentAmount = (e.Flags & TransferFlags.PostPendingTransfer) != 0
            ? (e.Amount == p.Amount ? UInt128Math.LessThan(t.Amount, p.Amount) : t.Amount != e.Amount)
            : t.Amount != UInt128.Zero && t.Amount != e.Amount;
        if (differentAmount)
        {
            return CreateTransferResult.ExistsWithDifferentAmount;
        }

        return UserDataLedgerCodeExist(
            t.UserData128 == UInt128.Zero ? p.UserData128 : t.UserData128,
            t.UserData64 == 0 ? p.UserData64 : t.UserData64,
            t.UserData32 == 0 ? p.UserData32 : t.UserData32,
            t.LedgerId == 0 ? e.LedgerId : t.LedgerId,
            t.Code == 0 ? e.Code : t.Code,
            e);
    }

    /// <summary>The last fields of the retry comparison, in the documented order, as the retry means them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static CreateTransferResult UserDataLedgerCodeExist(UInt128 userData128, ulong userData64, uint userData32, uint ledgerId, ushort code, in Transfer e)
    {
        if (userData128 != e.UserData128)
        {
            return CreateTransferResult.ExistsWithDifferentUserData128;
        }

        if (userData64 != e.UserData64)
        {
            return CreateTransferResult.ExistsWithDifferentUserData64;
        }

        if (userData32 != e.UserData32)
        {
            return CreateTransferResult.ExistsWithDifferentUserData32;
        }

        if (ledgerId != e.LedgerId)
        {
            return CreateTransferResult.ExistsWithDifferentLedger;
        }

        return code != e.Code ? CreateTransferResult.ExistsWithDifferentCode : CreateTransferResult.Exists;
    }


    /// <summary>One event's scratch in the look-ahead ring: its id hashes and its accounts' candidate rows.</summary>
    private struct Lookahead
    {
        public ulong HashTransfer;
        public ulong HashDebit;
        public ulong HashCredit;
        public uint CandidateDebit;
        public uint CandidateCredit;
    }
}
