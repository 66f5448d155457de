using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <content>Creating accounts.</content>
public sealed partial class LedgerStateMachine
{
    private const AccountFlags KnownAccountFlags =
        AccountFlags.Linked | AccountFlags.DebitsMustNotExceedCredits | AccountFlags.CreditsMustNotExceedDebits | AccountFlags.Closed;

    /// <summary>Creates a batch of accounts, writing one result per account.</summary>
    /// <param name="timestamp">The batch timestamp (see the class remarks).</param>
    /// <param name="accounts">The accounts; balances and timestamps must be zero.</param>
    /// <param name="results">Receives one result per account; at least as long as <paramref name="accounts"/>.</param>
    /// <returns>The number of accounts that were not created (results other than <see cref="CreateAccountResult.Ok"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The batch's timestamps would overflow the clock.</exception>
    /// <exception cref="LedgerFullException">The batch does not fit in the ledger's tables; nothing was applied.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int CreateAccounts(ulong timestamp, ReadOnlySpan<Account> accounts, Span<CreateAccountResult> results)
    {
        if (results.Length < accounts.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        _accounts.Reserve(accounts.Length);
        var kind = new AccountKind(this);
        return ApplyBatch<Account, CreateAccountResult, AccountKind>(ref kind, timestamp, accounts, results);
    }

    /// <summary>Creating accounts in the shared batch driver: no look-ahead, nothing to do after a failure.</summary>
    private readonly struct AccountKind(LedgerStateMachine ledger) : IEventKind<Account, CreateAccountResult>
    {
        public static CreateAccountResult Ok => CreateAccountResult.Ok;

        public static CreateAccountResult LinkedEventFailed => CreateAccountResult.LinkedEventFailed;

        public static CreateAccountResult LinkedEventChainOpen => CreateAccountResult.LinkedEventChainOpen;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsLinked(in Account e) => (e.Flags & AccountFlags.Linked) != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsOk(CreateAccountResult result) => result == CreateAccountResult.Ok;

        public void BeforeBatch(ReadOnlySpan<Account> events)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void BeforeEvent(ReadOnlySpan<Account> events, int i)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public CreateAccountResult Apply(ReadOnlySpan<Account> events, int i, ulong timestamp, bool inChain) =>
            ledger.CreateAccountCore(events[i], timestamp, inChain);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AfterFailure(ReadOnlySpan<Account> events, int i, CreateAccountResult result)
        {
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private CreateAccountResult CreateAccountCore(in Account a, ulong timestamp, bool inChain)
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

        if (a.Id == UInt128.Zero)
        {
            return CreateAccountResult.IdMustNotBeZero;
        }

        if (a.Id == UInt128.MaxValue)
        {
            return CreateAccountResult.IdMustNotBeIntMax;
        }

        if (UInt128Math.IsReservedId(a.Id) && !_systemPosting)
        {
            return CreateAccountResult.IdReserved;
        }

        ulong hash = IdHash.Hash(a.Id);
        int existing = _accounts.Find(hash, a.Id);
        if (existing >= 0)
        {
            return AccountExists(a, _accounts[existing]);
        }

        if ((a.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && (a.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0)
        {
            return CreateAccountResult.FlagsAreMutuallyExclusive;
        }

        if (a.DebitsPending != UInt128.Zero)
        {
            return CreateAccountResult.DebitsPendingMustBeZero;
        }

        if (a.DebitsPosted != UInt128.Zero)
        {
            return CreateAccountResult.DebitsPostedMustBeZero;
        }

        if (a.CreditsPending != UInt128.Zero)
        {
            return CreateAccountResult.CreditsPendingMustBeZero;
        }

        if (a.CreditsPosted != UInt128.Zero)
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

        Account stored = a;
        stored.Timestamp = timestamp;
        int row = _accounts.Add(stored, hash);
        AccountChanges?.Add(row, stored);
        if (inChain)
        {
            _undo.AccountAdded(row);
        }

        return CreateAccountResult.Ok;
    }

    private static CreateAccountResult AccountExists(in Account a, in Account e)
    {
        if (a.Flags != e.Flags)
        {
            return CreateAccountResult.ExistsWithDifferentFlags;
        }

        if (a.UserData128 != e.UserData128)
        {
            return CreateAccountResult.ExistsWithDifferentUserData128;
        }

        if (a.UserData64 != e.UserData64)
        {
            return CreateAccountResult.ExistsWithDifferentUserData64;
        }

        if (a.UserData32 != e.UserData32)
        {
            return CreateAccountResult.ExistsWithDifferentUserData32;
        }

        if (a.LedgerId != e.LedgerId)
        {
            return CreateAccountResult.ExistsWithDifferentLedger;
        }

        return a.Code != e.Code ? CreateAccountResult.ExistsWithDifferentCode : CreateAccountResult.Exists;
    }
}
