using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Baselines;

/// <summary>
/// What a user would write instead of <see cref="Core.Ledger.LedgerStateMachine"/> for simple single-phase transfers: a
/// <see cref="Dictionary{TKey, TValue}"/> of accounts by id, a dictionary of applied transfers by id for
/// idempotency, the obvious checks, then the two balance updates.
/// </summary>
/// <remarks>
/// This is deliberately a competent baseline, not a straw man: it uses
/// <see cref="CollectionsMarshal.GetValueRefOrNullRef{TKey, TValue}(Dictionary{TKey, TValue}, TKey)"/> so each
/// account costs one hash lookup (the naive TryGetValue-then-assign would cost two), it is pre-sized, and it
/// keeps the applied transfers (as the ledger does) because idempotency must be able to answer "exists".
/// It supports no pending transfers, linked chains, balancing or closing: transfers with flags are refused.
/// </remarks>
public sealed class DictionaryLedger
{
    private readonly Dictionary<UInt128, Account> _accounts;
    private readonly Dictionary<UInt128, Transfer> _transfers;
    private ulong _lastTimestamp;

    /// <summary>Creates an empty ledger with room for the given numbers of accounts and transfers.</summary>
    public DictionaryLedger(int accountCapacity, int transferCapacity)
    {
        _accounts = new Dictionary<UInt128, Account>(accountCapacity);
        _transfers = new Dictionary<UInt128, Transfer>(transferCapacity);
    }

    /// <summary>The number of transfers applied.</summary>
    public int TransferCount => _transfers.Count;

    /// <summary>Looks an account up by id.</summary>
    /// <returns>Whether the account exists; <paramref name="account"/> is a copy of it, or default.</returns>
    public bool TryGetAccount(UInt128 id, out Account account) => _accounts.TryGetValue(id, out account);

    /// <summary>
    /// Forgets every applied transfer but keeps the accounts, their balances and the dictionaries' storage: how
    /// the benchmark starts each iteration from the same number of transfers, on memory already in use (as in a
    /// long-running service) rather than on fresh pages that fault on first write.
    /// </summary>
    public void ClearTransfers() => _transfers.Clear();

    /// <summary>Creates accounts (checks only what the benchmark needs: nonzero id, ledger and code, no duplicate).</summary>
    /// <returns>The number of accounts not created.</returns>
    public int CreateAccounts(ulong timestamp, ReadOnlySpan<Account> accounts, Span<CreateAccountResult> results)
    {
        ulong start = NextBatch(timestamp, accounts.Length);
        int failed = 0;
        for (int i = 0; i < accounts.Length; i++)
        {
            Account account = accounts[i];
            CreateAccountResult result;
            if (account.Id == UInt128.Zero || account.Id == UInt128.MaxValue || account.LedgerId == 0 || account.Code == 0)
            {
                result = CreateAccountResult.IdMustNotBeZero;
            }
            else
            {
                account.Timestamp = start + (ulong)i;
                result = _accounts.TryAdd(account.Id, account) ? CreateAccountResult.Ok : CreateAccountResult.Exists;
            }

            results[i] = result;
            failed += result == CreateAccountResult.Ok ? 0 : 1;
        }

        return failed;
    }

    /// <summary>Applies single-phase transfers one by one, writing one result per transfer.</summary>
    /// <returns>The number of transfers not applied.</returns>
    public int CreateTransfers(ulong timestamp, ReadOnlySpan<Transfer> transfers, Span<CreateTransferResult> results)
    {
        ulong start = NextBatch(timestamp, transfers.Length);
        int failed = 0;
        for (int i = 0; i < transfers.Length; i++)
        {
            CreateTransferResult result = CreateTransfer(transfers[i], start + (ulong)i);
            results[i] = result;
            failed += result == CreateTransferResult.Ok ? 0 : 1;
        }

        return failed;
    }

    private CreateTransferResult CreateTransfer(in Transfer t, ulong timestamp)
    {
        if (t.Timestamp != 0)
        {
            return CreateTransferResult.TimestampMustBeZero;
        }

        if (t.Flags != TransferFlags.None)
        {
            return CreateTransferResult.ReservedFlag;
        }

        if (t.Id == UInt128.Zero || t.Id == UInt128.MaxValue)
        {
            return CreateTransferResult.IdMustNotBeZero;
        }

        // Idempotency: a retried transfer must not be applied twice.
        if (_transfers.TryGetValue(t.Id, out Transfer existing))
        {
            return existing.DebitAccountId == t.DebitAccountId && existing.CreditAccountId == t.CreditAccountId &&
                   existing.Amount == t.Amount && existing.LedgerId == t.LedgerId && existing.Code == t.Code
                ? CreateTransferResult.Exists
                : CreateTransferResult.ExistsWithDifferentAmount;
        }

        if (t.DebitAccountId == UInt128.Zero || t.CreditAccountId == UInt128.Zero)
        {
            return CreateTransferResult.DebitAccountIdMustNotBeZero;
        }

        if (t.DebitAccountId == t.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (t.LedgerId == 0 || t.Code == 0)
        {
            return CreateTransferResult.LedgerMustNotBeZero;
        }

        ref Account debit = ref CollectionsMarshal.GetValueRefOrNullRef(_accounts, t.DebitAccountId);
        if (Unsafe.IsNullRef(ref debit))
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        // Safe to hold both refs: no insertion or removal happens between the two lookups and the updates.
        ref Account credit = ref CollectionsMarshal.GetValueRefOrNullRef(_accounts, t.CreditAccountId);
        if (Unsafe.IsNullRef(ref credit))
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        if (debit.LedgerId != credit.LedgerId || t.LedgerId != debit.LedgerId)
        {
            return CreateTransferResult.AccountsMustHaveTheSameLedger;
        }

        if ((debit.Flags & AccountFlags.Closed) != 0 || (credit.Flags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.DebitAccountAlreadyClosed;
        }

        if (debit.DebitsPosted > UInt128.MaxValue - t.Amount)
        {
            return CreateTransferResult.OverflowsDebitsPosted;
        }

        if (credit.CreditsPosted > UInt128.MaxValue - t.Amount)
        {
            return CreateTransferResult.OverflowsCreditsPosted;
        }

        if ((debit.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && debit.DebitsPosted + t.Amount > debit.CreditsPosted)
        {
            return CreateTransferResult.ExceedsCredits;
        }

        if ((credit.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0 && credit.CreditsPosted + t.Amount > credit.DebitsPosted)
        {
            return CreateTransferResult.ExceedsDebits;
        }

        debit.DebitsPosted += t.Amount;
        credit.CreditsPosted += t.Amount;
        Transfer stored = t;
        stored.Timestamp = timestamp;
        _transfers.Add(t.Id, stored);
        return CreateTransferResult.Ok;
    }

    /// <summary>The first timestamp of a batch: strictly after every earlier one, like the real ledger's clock.</summary>
    private ulong NextBatch(ulong timestamp, int count)
    {
        ulong start = Math.Max(timestamp, _lastTimestamp + 1);
        _lastTimestamp = start + (ulong)Math.Max(count - 1, 0);
        return start;
    }
}
