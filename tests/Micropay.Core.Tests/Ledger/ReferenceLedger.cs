using System.Globalization;
using System.Numerics;
using System.Text;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// A deliberately simple model of <see cref="LedgerStateMachine"/>, written from its XML docs for clarity rather than speed,
/// so the model-based and property tests can compare the two event by event.
/// </summary>
/// <remarks>
/// <para>
/// The model shares no code and no structure with the ledger: plain dictionaries instead of tables and id
/// indexes, a linear scan of the holds instead of an expiry heap, and linked chains implemented by deep-copying
/// the whole state when a chain starts and putting the copy back when it fails (instead of an undo log).
/// Every check is written out in the order <see cref="CreateAccountResult"/> and <see cref="CreateTransferResult"/>
/// document, and every sum that could overflow is computed with <see cref="BigInteger"/> so the model cannot
/// share an overflow bug with the ledger.
/// </para>
/// <para>
/// Points the docs leave open, where the model follows the implementation:
/// any result other than <c>Ok</c> (including <c>Exists</c>) breaks a linked chain; stored accounts and
/// transfers keep the flags they were submitted with (including <c>Linked</c>); a hold whose expiry time falls
/// inside a batch stays pending until the start of the next batch (expiry only runs at batch start).
/// </para>
/// </remarks>
internal sealed class ReferenceLedger
{
    private const ulong NanosecondsPerSecond = 1_000_000_000;

    // The documented reserved range (ReservedIds): every id whose top 32 bits are all ones. Written out here, not taken
    // from ReservedIds, so the model states the rule itself.
    private static readonly UInt128 FirstReservedId = UInt128.MaxValue - ((UInt128.One << 96) - 1);

    private const AccountFlags KnownAccountFlags =
        AccountFlags.Linked | AccountFlags.DebitsMustNotExceedCredits | AccountFlags.CreditsMustNotExceedDebits | AccountFlags.Closed;

    private const TransferFlags KnownTransferFlags =
        TransferFlags.Linked | TransferFlags.Pending | TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer |
        TransferFlags.BalancingDebit | TransferFlags.BalancingCredit | TransferFlags.ClosingDebit | TransferFlags.ClosingCredit;

    private State _state = new();

    /// <summary>The newest timestamp assigned; 0 before the first batch.</summary>
    public ulong LastTimestamp => _state.LastTimestamp;

    public int AccountCount => _state.AccountOrder.Count;

    public int TransferCount => _state.TransferOrder.Count;

    /// <summary>Transfer ids burnt by a transient failure.</summary>
    public int BurntIdCount => _state.Burnt.Count;

    /// <summary>All accounts, in creation order.</summary>
    public IEnumerable<Account> Accounts => _state.AccountOrder.Select(id => _state.Accounts[id]);

    /// <summary>All stored transfers, in the order they were applied.</summary>
    public IEnumerable<Transfer> Transfers => _state.TransferOrder.Select(id => _state.Transfers[id]);

    public bool IsBurnt(UInt128 id) => _state.Burnt.Contains(id);

    public bool TryGetAccount(UInt128 id, out Account account) => _state.Accounts.TryGetValue(id, out account);

    public bool TryGetTransfer(UInt128 id, out Transfer transfer) => _state.Transfers.TryGetValue(id, out transfer);

    public bool TryGetPendingStatus(UInt128 id, out PendingStatus status)
    {
        if (!_state.Transfers.ContainsKey(id))
        {
            status = PendingStatus.None;
            return false;
        }

        status = _state.Statuses[id];
        return true;
    }

    public int CreateAccounts(ulong timestamp, ReadOnlySpan<Account> accounts, Span<CreateAccountResult> results)
    {
        if (results.Length < accounts.Length)
        {
            throw new ArgumentException("The results span is shorter than the batch.", nameof(results));
        }

        ulong start = BeginBatch(timestamp, accounts.Length);
        int chainStart = -1;
        bool chainFailed = false;
        State? snapshot = null;
        for (int i = 0; i < accounts.Length; i++)
        {
            bool linked = (accounts[i].Flags & AccountFlags.Linked) != 0;
            if (linked && chainStart < 0)
            {
                chainStart = i;
                chainFailed = false;
                snapshot = _state.DeepCopy();
            }

            bool inChain = chainStart >= 0;
            CreateAccountResult result;
            if (inChain && chainFailed)
            {
                // The first check listed: another event of the chain already failed.
                result = CreateAccountResult.LinkedEventFailed;
            }
            else if (linked && i == accounts.Length - 1)
            {
                // The batch ends with the chain still open: the chain fails and this event says why.
                result = CreateAccountResult.LinkedEventChainOpen;
                _state = snapshot!;
                results[chainStart..i].Fill(CreateAccountResult.LinkedEventFailed);
                chainFailed = true;
            }
            else
            {
                result = CreateAccount(accounts[i], start + (ulong)i);
                if (inChain && result != CreateAccountResult.Ok)
                {
                    _state = snapshot!;
                    results[chainStart..i].Fill(CreateAccountResult.LinkedEventFailed);
                    chainFailed = true;
                }
            }

            results[i] = result;
            if (!linked)
            {
                chainStart = -1;
            }
        }

        return CountFailures(results[..accounts.Length], CreateAccountResult.Ok);
    }

    public int CreateTransfers(ulong timestamp, ReadOnlySpan<Transfer> transfers, Span<CreateTransferResult> results)
    {
        if (results.Length < transfers.Length)
        {
            throw new ArgumentException("The results span is shorter than the batch.", nameof(results));
        }

        ulong start = BeginBatch(timestamp, transfers.Length);
        int chainStart = -1;
        bool chainFailed = false;
        State? snapshot = null;
        for (int i = 0; i < transfers.Length; i++)
        {
            Transfer t = transfers[i];
            bool linked = (t.Flags & TransferFlags.Linked) != 0;
            if (linked && chainStart < 0)
            {
                chainStart = i;
                chainFailed = false;
                snapshot = _state.DeepCopy();
            }

            bool inChain = chainStart >= 0;
            CreateTransferResult result;
            if (inChain && chainFailed)
            {
                // The first check listed: another event of the chain already failed.
                result = CreateTransferResult.LinkedEventFailed;
            }
            else if (linked && i == transfers.Length - 1)
            {
                // The batch ends with the chain still open: the chain fails and this event says why.
                result = CreateTransferResult.LinkedEventChainOpen;
                _state = snapshot!;
                results[chainStart..i].Fill(CreateTransferResult.LinkedEventFailed);
                chainFailed = true;
            }
            else
            {
                result = CreateTransfer(t, start + (ulong)i);
                if (inChain && result != CreateTransferResult.Ok)
                {
                    _state = snapshot!;
                    results[chainStart..i].Fill(CreateTransferResult.LinkedEventFailed);
                    chainFailed = true;
                }

                // Burn after the rollback: the restored state predates the chain, and the burnt id must outlive
                // it (the failing event keeps its own, transient, result).
                if (IsTransient(result))
                {
                    _state.Burnt.Add(t.Id);
                }
            }

            results[i] = result;
            if (!linked)
            {
                chainStart = -1;
            }
        }

        return CountFailures(results[..transfers.Length], CreateTransferResult.Ok);
    }

    /// <summary>The results the docs call transient: they depend on the ledger's state, so the id is burnt.</summary>
    public static bool IsTransient(CreateTransferResult result) => result is
        CreateTransferResult.DebitAccountNotFound or
        CreateTransferResult.CreditAccountNotFound or
        CreateTransferResult.PendingTransferNotFound or
        CreateTransferResult.DebitAccountAlreadyClosed or
        CreateTransferResult.CreditAccountAlreadyClosed or
        CreateTransferResult.OverflowsDebitsPending or
        CreateTransferResult.OverflowsCreditsPending or
        CreateTransferResult.OverflowsDebitsPosted or
        CreateTransferResult.OverflowsCreditsPosted or
        CreateTransferResult.OverflowsDebits or
        CreateTransferResult.OverflowsCredits or
        CreateTransferResult.OverflowsTimeout or
        CreateTransferResult.ExceedsCredits or
        CreateTransferResult.ExceedsDebits;

    /// <summary>
    /// Compares the ledger with this model: counts, the clock, every account field by field in creation order, and
    /// for every id in <paramref name="probeTransferIds"/> (and every transfer the model holds) the stored transfer
    /// and its pending status. The ledger cannot enumerate its transfers, so callers pass every id they submitted.
    /// </summary>
    /// <returns>A description of the first difference, or null when the two agree.</returns>
    public string? FindDifference(LedgerStateMachine ledger, IEnumerable<UInt128> probeTransferIds)
    {
        if (ledger.LastTimestamp != LastTimestamp)
        {
            return $"LastTimestamp: ledger {ledger.LastTimestamp}, model {LastTimestamp}";
        }

        if (ledger.AccountCount != AccountCount)
        {
            return $"AccountCount: ledger {ledger.AccountCount}, model {AccountCount}";
        }

        if (ledger.TransferCount != TransferCount)
        {
            return $"TransferCount: ledger {ledger.TransferCount}, model {TransferCount}";
        }

        if (ledger.BurntIdCount != BurntIdCount)
        {
            return $"BurntIdCount: ledger {ledger.BurntIdCount}, model {BurntIdCount}";
        }

        ReadOnlySpan<Account> accounts = ledger.Accounts;
        int index = 0;
        foreach (Account expected in Accounts)
        {
            if (accounts[index] != expected)
            {
                return $"account #{index}:\n  ledger {accounts[index]}\n  model  {expected}";
            }

            if (!ledger.TryGetAccount(expected.Id, out Account found) || found != expected)
            {
                return $"TryGetAccount({expected.Id}): ledger {found}, model {expected}";
            }

            index++;
        }

        foreach (UInt128 id in _state.TransferOrder.Concat(probeTransferIds))
        {
            string? difference = CompareTransfer(ledger, id);
            if (difference is not null)
            {
                return difference;
            }
        }

        return null;
    }

    /// <summary>Renders the whole model state, for failure messages.</summary>
    public string Dump()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"LastTimestamp = {LastTimestamp}\n");
        foreach (Account account in Accounts)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {account}\n");
        }

        foreach (Transfer transfer in Transfers)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {transfer} status {_state.Statuses[transfer.Id]}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"  burnt: {string.Join(", ", _state.Burnt)}\n");
        return text.ToString();
    }

    private string? CompareTransfer(LedgerStateMachine ledger, UInt128 id)
    {
        bool inLedger = ledger.TryGetTransfer(id, out Transfer actual);
        bool inModel = TryGetTransfer(id, out Transfer expected);
        if (inLedger != inModel || actual != expected)
        {
            return $"transfer {id}:\n  ledger {(inLedger ? Describe(actual) : "absent")}\n  model  {(inModel ? Describe(expected) : "absent")}";
        }

        bool statusInLedger = ledger.TryGetPendingStatus(id, out PendingStatus actualStatus);
        bool statusInModel = TryGetPendingStatus(id, out PendingStatus expectedStatus);
        if (statusInLedger != statusInModel || actualStatus != expectedStatus)
        {
            return $"pending status of {id}: ledger {statusInLedger}/{actualStatus}, model {statusInModel}/{expectedStatus}";
        }

        return null;
    }

    /// <summary>The transfer with its user data, which <see cref="Transfer.ToString"/> leaves out.</summary>
    private static string Describe(Transfer t) => $"{t} UserData = {t.UserData128}/{t.UserData64}/{t.UserData32}";

    private static int CountFailures<TResult>(ReadOnlySpan<TResult> results, TResult ok)
        where TResult : struct, Enum
    {
        int failed = 0;
        foreach (TResult result in results)
        {
            if (!EqualityComparer<TResult>.Default.Equals(result, ok))
            {
                failed++;
            }
        }

        return failed;
    }

    // ---- The clock and hold expiry (LedgerStateMachine class remarks). ----

    private ulong BeginBatch(ulong timestamp, int count)
    {
        // start = max(timestamp, LastTimestamp + 1); event i gets start + i; an empty batch still takes start.
        BigInteger start = BigInteger.Max(timestamp, (BigInteger)_state.LastTimestamp + 1);
        BigInteger last = count == 0 ? start : start + count - 1;
        if (last > ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(timestamp), "The batch's timestamps would overflow the clock.");
        }

        ExpireHolds((ulong)start);
        _state.LastTimestamp = (ulong)last;
        return (ulong)start;
    }

    private void ExpireHolds(ulong start)
    {
        // Scan the holds that can expire; the order does not matter because releasing amounts and reopening
        // accounts commute. Holds no longer pending (posted, voided, expired) leave the list.
        foreach (UInt128 id in _state.Holds)
        {
            Transfer hold = _state.Transfers[id];
            BigInteger expiresAt = (BigInteger)hold.Timestamp + ((BigInteger)hold.Timeout * NanosecondsPerSecond);
            if (_state.Statuses[id] == PendingStatus.Pending && expiresAt <= start)
            {
                Account debit = _state.Accounts[hold.DebitAccountId];
                Account credit = _state.Accounts[hold.CreditAccountId];
                debit.DebitsPending -= hold.Amount;
                credit.CreditsPending -= hold.Amount;
                Reopen(ref debit, ref credit, hold.Flags);
                _state.Accounts[debit.Id] = debit;
                _state.Accounts[credit.Id] = credit;
                _state.Statuses[id] = PendingStatus.Expired;
            }
        }

        _state.Holds.RemoveAll(id => _state.Statuses[id] != PendingStatus.Pending);
    }

    private static void Reopen(ref Account debit, ref Account credit, TransferFlags holdFlags)
    {
        if ((holdFlags & TransferFlags.ClosingDebit) != 0)
        {
            debit.Flags &= ~AccountFlags.Closed;
        }

        if ((holdFlags & TransferFlags.ClosingCredit) != 0)
        {
            credit.Flags &= ~AccountFlags.Closed;
        }
    }

    // ---- Accounts (CreateAccountResult remarks). ----

    private CreateAccountResult CreateAccount(Account a, ulong timestamp)
    {
        if (a.Timestamp != 0)
        {
            return CreateAccountResult.TimestampMustBeZero;
        }

        if (a.Reserved != 0)
        {
            return CreateAccountResult.ReservedField;
        }

        if ((a.Flags & ~KnownAccountFlags) != 0)
        {
            return CreateAccountResult.ReservedFlag;
        }

        if (a.Id == 0)
        {
            return CreateAccountResult.IdMustNotBeZero;
        }

        if (a.Id == UInt128.MaxValue)
        {
            return CreateAccountResult.IdMustNotBeIntMax;
        }

        if (a.Id >= FirstReservedId)
        {
            return CreateAccountResult.IdReserved;
        }

        if (_state.Accounts.TryGetValue(a.Id, out Account existing))
        {
            if (a.Flags != existing.Flags)
            {
                return CreateAccountResult.ExistsWithDifferentFlags;
            }

            if (a.UserData128 != existing.UserData128)
            {
                return CreateAccountResult.ExistsWithDifferentUserData128;
            }

            if (a.UserData64 != existing.UserData64)
            {
                return CreateAccountResult.ExistsWithDifferentUserData64;
            }

            if (a.UserData32 != existing.UserData32)
            {
                return CreateAccountResult.ExistsWithDifferentUserData32;
            }

            if (a.LedgerId != existing.LedgerId)
            {
                return CreateAccountResult.ExistsWithDifferentLedger;
            }

            if (a.Code != existing.Code)
            {
                return CreateAccountResult.ExistsWithDifferentCode;
            }

            return CreateAccountResult.Exists;
        }

        if ((a.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && (a.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0)
        {
            return CreateAccountResult.FlagsAreMutuallyExclusive;
        }

        if (a.DebitsPending != 0)
        {
            return CreateAccountResult.DebitsPendingMustBeZero;
        }

        if (a.DebitsPosted != 0)
        {
            return CreateAccountResult.DebitsPostedMustBeZero;
        }

        if (a.CreditsPending != 0)
        {
            return CreateAccountResult.CreditsPendingMustBeZero;
        }

        if (a.CreditsPosted != 0)
        {
            return CreateAccountResult.CreditsPostedMustBeZero;
        }

        if (a.LedgerId == 0)
        {
            return CreateAccountResult.LedgerMustNotBeZero;
        }

        if (a.Code == 0)
        {
            return CreateAccountResult.CodeMustNotBeZero;
        }

        a.Timestamp = timestamp;
        _state.Accounts.Add(a.Id, a);
        _state.AccountOrder.Add(a.Id);
        return CreateAccountResult.Ok;
    }

    // ---- Transfers (CreateTransferResult remarks; Transfer and TransferFlags docs). ----

    private CreateTransferResult CreateTransfer(Transfer t, ulong timestamp)
    {
        if (t.Timestamp != 0)
        {
            return CreateTransferResult.TimestampMustBeZero;
        }

        if ((t.Flags & ~KnownTransferFlags) != 0)
        {
            return CreateTransferResult.ReservedFlag;
        }

        if (t.Id == 0)
        {
            return CreateTransferResult.IdMustNotBeZero;
        }

        if (t.Id == UInt128.MaxValue)
        {
            return CreateTransferResult.IdMustNotBeIntMax;
        }

        if (t.Id >= FirstReservedId)
        {
            return CreateTransferResult.IdReserved;
        }

        if (_state.Transfers.TryGetValue(t.Id, out Transfer existing))
        {
            return CompareWithExisting(t, existing);
        }

        if (_state.Burnt.Contains(t.Id))
        {
            return CreateTransferResult.IdAlreadyFailed;
        }

        bool pending = (t.Flags & TransferFlags.Pending) != 0;
        bool post = (t.Flags & TransferFlags.PostPendingTransfer) != 0;
        bool @void = (t.Flags & TransferFlags.VoidPendingTransfer) != 0;
        bool balancing = (t.Flags & (TransferFlags.BalancingDebit | TransferFlags.BalancingCredit)) != 0;
        bool closing = (t.Flags & (TransferFlags.ClosingDebit | TransferFlags.ClosingCredit)) != 0;
        int modes = (pending ? 1 : 0) + (post ? 1 : 0) + (@void ? 1 : 0);
        if (modes > 1 || ((post || @void) && (balancing || closing)))
        {
            return CreateTransferResult.FlagsAreMutuallyExclusive;
        }

        return post || @void ? PostOrVoid(t, post, timestamp) : SinglePhaseOrPending(t, pending, timestamp);
    }

    private CreateTransferResult CompareWithExisting(Transfer t, Transfer e)
    {
        bool postOrVoid = (e.Flags & (TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer)) != 0;
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

        // A post or void may leave the account ids, ledger and code zero: zero matches what was filled in.
        if (!(postOrVoid && t.DebitAccountId == 0) && t.DebitAccountId != e.DebitAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentDebitAccountId;
        }

        if (!(postOrVoid && t.CreditAccountId == 0) && t.CreditAccountId != e.CreditAccountId)
        {
            return CreateTransferResult.ExistsWithDifferentCreditAccountId;
        }

        if (!AmountMatches(t, e))
        {
            return CreateTransferResult.ExistsWithDifferentAmount;
        }

        // A post or void that left a user data field zero was stored with the pending transfer's value, so a zero in
        // the retry stands for that value: it matches only if the stored field is the pending transfer's.
        Transfer? p = postOrVoid ? _state.Transfers[e.PendingId] : null;
        if ((postOrVoid && t.UserData128 == 0 ? p!.Value.UserData128 : t.UserData128) != e.UserData128)
        {
            return CreateTransferResult.ExistsWithDifferentUserData128;
        }

        if ((postOrVoid && t.UserData64 == 0 ? p!.Value.UserData64 : t.UserData64) != e.UserData64)
        {
            return CreateTransferResult.ExistsWithDifferentUserData64;
        }

        if ((postOrVoid && t.UserData32 == 0 ? p!.Value.UserData32 : t.UserData32) != e.UserData32)
        {
            return CreateTransferResult.ExistsWithDifferentUserData32;
        }

        if (!(postOrVoid && t.LedgerId == 0) && t.LedgerId != e.LedgerId)
        {
            return CreateTransferResult.ExistsWithDifferentLedger;
        }

        if (!(postOrVoid && t.Code == 0) && t.Code != e.Code)
        {
            return CreateTransferResult.ExistsWithDifferentCode;
        }

        return CreateTransferResult.Exists;
    }

    private bool AmountMatches(Transfer t, Transfer e)
    {
        if ((e.Flags & (TransferFlags.BalancingDebit | TransferFlags.BalancingCredit)) != 0)
        {
            // "A balancing retry matches when it asks for at least the amount that moved."
            return t.Amount >= e.Amount;
        }

        if ((e.Flags & TransferFlags.PostPendingTransfer) != 0)
        {
            // "A retry of a full post matches with any amount of at least the pending amount (UInt128.MaxValue
            // included), one of a partial post only with the amount posted."
            UInt128 pendingAmount = _state.Transfers[e.PendingId].Amount;
            return e.Amount == pendingAmount ? t.Amount >= pendingAmount : t.Amount == e.Amount;
        }

        if ((e.Flags & TransferFlags.VoidPendingTransfer) != 0)
        {
            // "A void of 0 matches any void"; the stored void holds the pending amount.
            return t.Amount == 0 || t.Amount == e.Amount;
        }

        return t.Amount == e.Amount;
    }

    private CreateTransferResult PostOrVoid(Transfer t, bool post, ulong timestamp)
    {
        if (t.PendingId == 0)
        {
            return CreateTransferResult.PendingIdMustNotBeZero;
        }

        if (t.PendingId == UInt128.MaxValue)
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

        if (!_state.Transfers.TryGetValue(t.PendingId, out Transfer p))
        {
            return CreateTransferResult.PendingTransferNotFound;
        }

        if ((p.Flags & TransferFlags.Pending) == 0)
        {
            return CreateTransferResult.PendingTransferNotPending;
        }

        if (t.DebitAccountId != 0 && t.DebitAccountId != p.DebitAccountId)
        {
            return CreateTransferResult.PendingTransferHasDifferentDebitAccountId;
        }

        if (t.CreditAccountId != 0 && t.CreditAccountId != p.CreditAccountId)
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

        // "A post of UInt128.MaxValue posts the whole pending amount"; a void of 0 releases it. More than the pending
        // amount exceeds it, for a void too (exceeds is listed first); a void of less has a different amount.
        UInt128 amount = post
            ? (t.Amount == UInt128.MaxValue ? p.Amount : t.Amount)
            : (t.Amount == 0 ? p.Amount : t.Amount);
        if (amount > p.Amount)
        {
            return CreateTransferResult.ExceedsPendingTransferAmount;
        }

        if (!post && amount < p.Amount)
        {
            return CreateTransferResult.PendingTransferHasDifferentAmount;
        }

        PendingStatus status = _state.Statuses[p.Id];
        if (status == PendingStatus.Posted)
        {
            return CreateTransferResult.PendingTransferAlreadyPosted;
        }

        if (status == PendingStatus.Voided)
        {
            return CreateTransferResult.PendingTransferAlreadyVoided;
        }

        if (status == PendingStatus.Expired)
        {
            return CreateTransferResult.PendingTransferExpired;
        }

        Account debit = _state.Accounts[p.DebitAccountId];
        Account credit = _state.Accounts[p.CreditAccountId];
        if (post)
        {
            // A closing hold closed its own account(s); posting it must still be possible.
            bool closedByHold = (p.Flags & TransferFlags.ClosingDebit) != 0;
            if ((debit.Flags & AccountFlags.Closed) != 0 && !closedByHold)
            {
                return CreateTransferResult.DebitAccountAlreadyClosed;
            }

            closedByHold = (p.Flags & TransferFlags.ClosingCredit) != 0;
            if ((credit.Flags & AccountFlags.Closed) != 0 && !closedByHold)
            {
                return CreateTransferResult.CreditAccountAlreadyClosed;
            }
        }

        // Release the whole hold; a post then books the amount posted (a partial post releases the remainder).
        // Checked arithmetic: if the model's own invariants were broken this throws instead of wrapping.
        debit.DebitsPending -= p.Amount;
        credit.CreditsPending -= p.Amount;
        if (post)
        {
            debit.DebitsPosted += amount;
            credit.CreditsPosted += amount;
        }
        else
        {
            Reopen(ref debit, ref credit, p.Flags);
        }

        _state.Accounts[debit.Id] = debit;
        _state.Accounts[credit.Id] = credit;
        _state.Statuses[p.Id] = post ? PendingStatus.Posted : PendingStatus.Voided;

        // Stored with what it left zero filled in: accounts, ledger and code always, each user data field if zero.
        Transfer stored = t;
        stored.DebitAccountId = p.DebitAccountId;
        stored.CreditAccountId = p.CreditAccountId;
        stored.LedgerId = p.LedgerId;
        stored.Code = p.Code;
        stored.UserData128 = t.UserData128 == 0 ? p.UserData128 : t.UserData128;
        stored.UserData64 = t.UserData64 == 0 ? p.UserData64 : t.UserData64;
        stored.UserData32 = t.UserData32 == 0 ? p.UserData32 : t.UserData32;
        stored.Amount = amount;
        stored.Timestamp = timestamp;
        Store(stored, PendingStatus.None);
        return CreateTransferResult.Ok;
    }

    private CreateTransferResult SinglePhaseOrPending(Transfer t, bool pending, ulong timestamp)
    {
        if (t.DebitAccountId == 0)
        {
            return CreateTransferResult.DebitAccountIdMustNotBeZero;
        }

        if (t.DebitAccountId == UInt128.MaxValue)
        {
            return CreateTransferResult.DebitAccountIdMustNotBeIntMax;
        }

        if (t.DebitAccountId >= FirstReservedId)
        {
            return CreateTransferResult.DebitAccountIdReserved;
        }

        if (t.CreditAccountId == 0)
        {
            return CreateTransferResult.CreditAccountIdMustNotBeZero;
        }

        if (t.CreditAccountId == UInt128.MaxValue)
        {
            return CreateTransferResult.CreditAccountIdMustNotBeIntMax;
        }

        if (t.CreditAccountId >= FirstReservedId)
        {
            return CreateTransferResult.CreditAccountIdReserved;
        }

        if (t.DebitAccountId == t.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (t.PendingId != 0)
        {
            return CreateTransferResult.PendingIdMustBeZero;
        }

        if (!pending)
        {
            if (t.Timeout != 0)
            {
                return CreateTransferResult.TimeoutReservedForPendingTransfer;
            }

            if ((t.Flags & (TransferFlags.ClosingDebit | TransferFlags.ClosingCredit)) != 0)
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

        if (!_state.Accounts.TryGetValue(t.DebitAccountId, out Account debit))
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        if (!_state.Accounts.TryGetValue(t.CreditAccountId, out Account credit))
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        if (debit.LedgerId != credit.LedgerId)
        {
            return CreateTransferResult.AccountsMustHaveTheSameLedger;
        }

        if (t.LedgerId != debit.LedgerId)
        {
            return CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts;
        }

        if ((debit.Flags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.DebitAccountAlreadyClosed;
        }

        if ((credit.Flags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.CreditAccountAlreadyClosed;
        }

        BigInteger debits = (BigInteger)debit.DebitsPending + debit.DebitsPosted;
        BigInteger credits = (BigInteger)credit.CreditsPending + credit.CreditsPosted;

        // Balancing: move at most what keeps debits <= credits posted (debit side) or credits <= debits posted
        // (credit side); never less than zero.
        BigInteger amount = t.Amount;
        if ((t.Flags & TransferFlags.BalancingDebit) != 0)
        {
            amount = BigInteger.Min(amount, BigInteger.Max(BigInteger.Zero, (BigInteger)debit.CreditsPosted - debits));
        }

        if ((t.Flags & TransferFlags.BalancingCredit) != 0)
        {
            amount = BigInteger.Min(amount, BigInteger.Max(BigInteger.Zero, (BigInteger)credit.DebitsPosted - credits));
        }

        // The pending balances for a hold only; the posted balances for every mode (a hold that would overflow a
        // posted balance reports that, not the sum); then the sums.
        BigInteger max = UInt128.MaxValue;
        if (pending)
        {
            if (debit.DebitsPending + amount > max)
            {
                return CreateTransferResult.OverflowsDebitsPending;
            }

            if (credit.CreditsPending + amount > max)
            {
                return CreateTransferResult.OverflowsCreditsPending;
            }
        }

        if (debit.DebitsPosted + amount > max)
        {
            return CreateTransferResult.OverflowsDebitsPosted;
        }

        if (credit.CreditsPosted + amount > max)
        {
            return CreateTransferResult.OverflowsCreditsPosted;
        }

        if (debits + amount > max)
        {
            return CreateTransferResult.OverflowsDebits;
        }

        if (credits + amount > max)
        {
            return CreateTransferResult.OverflowsCredits;
        }

        if (pending && (BigInteger)timestamp + ((BigInteger)t.Timeout * NanosecondsPerSecond) > ulong.MaxValue)
        {
            return CreateTransferResult.OverflowsTimeout;
        }

        if ((debit.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && debits + amount > debit.CreditsPosted)
        {
            return CreateTransferResult.ExceedsCredits;
        }

        if ((credit.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0 && credits + amount > credit.DebitsPosted)
        {
            return CreateTransferResult.ExceedsDebits;
        }

        var moved = (UInt128)amount;
        if (pending)
        {
            debit.DebitsPending += moved;
            credit.CreditsPending += moved;
            if ((t.Flags & TransferFlags.ClosingDebit) != 0)
            {
                debit.Flags |= AccountFlags.Closed;
            }

            if ((t.Flags & TransferFlags.ClosingCredit) != 0)
            {
                credit.Flags |= AccountFlags.Closed;
            }
        }
        else
        {
            debit.DebitsPosted += moved;
            credit.CreditsPosted += moved;
        }

        _state.Accounts[debit.Id] = debit;
        _state.Accounts[credit.Id] = credit;

        Transfer stored = t;
        stored.Amount = moved;
        stored.Timestamp = timestamp;
        Store(stored, pending ? PendingStatus.Pending : PendingStatus.None);
        return CreateTransferResult.Ok;
    }

    private void Store(Transfer stored, PendingStatus status)
    {
        _state.Transfers.Add(stored.Id, stored);
        _state.TransferOrder.Add(stored.Id);
        _state.Statuses.Add(stored.Id, status);
        if (status == PendingStatus.Pending && stored.Timeout != 0)
        {
            _state.Holds.Add(stored.Id);
        }
    }

    /// <summary>The whole mutable state, so a linked chain can snapshot and restore it in one assignment.</summary>
    private sealed class State
    {
        public Dictionary<UInt128, Account> Accounts { get; private init; } = [];

        public List<UInt128> AccountOrder { get; private init; } = [];

        public Dictionary<UInt128, Transfer> Transfers { get; private init; } = [];

        public List<UInt128> TransferOrder { get; private init; } = [];

        public Dictionary<UInt128, PendingStatus> Statuses { get; private init; } = [];

        public HashSet<UInt128> Burnt { get; private init; } = [];

        /// <summary>The holds with a timeout that may still be pending, scanned for expiry at each batch start.</summary>
        public List<UInt128> Holds { get; private init; } = [];

        public ulong LastTimestamp { get; set; }

        // Accounts and transfers are structs, so copying the collections copies the records too.
        public State DeepCopy() => new()
        {
            Accounts = new Dictionary<UInt128, Account>(Accounts),
            AccountOrder = [.. AccountOrder],
            Transfers = new Dictionary<UInt128, Transfer>(Transfers),
            TransferOrder = [.. TransferOrder],
            Statuses = new Dictionary<UInt128, PendingStatus>(Statuses),
            Burnt = [.. Burnt],
            Holds = [.. Holds],
            LastTimestamp = LastTimestamp,
        };
    }
}
