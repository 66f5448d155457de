using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

// Account history (TigerBeetle's get_account_transfers): an optional per-account index of transfer rows, kept by the
// writer as it adds rows. Derived state: snapshots never hold it; EnableAccountHistory builds it from the rows.
public sealed partial class LedgerStateMachine
{
    // Null until EnableAccountHistory. Writer only, but for the engine's lock-free reads (see AccountHistory).
    private AccountHistory? _history;

    /// <summary>Whether the ledger keeps the per-account transfer index that <see cref="GetAccountTransfers(in AccountFilter, Span{Transfer})"/> reads.</summary>
    public bool AccountHistoryEnabled => _history is not null;

    /// <summary>
    /// Starts keeping, per account, the transfers in which it appears, so that
    /// <see cref="GetAccountTransfers(in AccountFilter, Span{Transfer})"/> can answer; builds it now from every transfer the
    /// ledger holds (for example, one just read from a snapshot). Does nothing when already enabled.
    /// </summary>
    /// <remarks>
    /// The index is derived state and is never part of a snapshot: enable it again after
    /// <see cref="ReadSnapshot(ReadOnlySpan{byte})"/>. It holds a 4-byte row number under each account of a transfer (8
    /// bytes per transfer); lists double in blocks that are never reused (so the engine's lock-free readers stay safe),
    /// which makes 16 to 32 bytes per transfer in use, plus 16 bytes per account and a 16-byte first block per account
    /// with transfers. Building it looks up both accounts of every transfer once.
    /// </remarks>
    public void EnableAccountHistory()
    {
        if (_history is not null)
        {
            return;
        }

        var history = new AccountHistory(_accounts.Count);
        Build(history);
        _history = history;
    }

    /// <summary>
    /// Reads the transfers of one account that <paramref name="filter"/> selects (TigerBeetle's
    /// <c>get_account_transfers</c>; see <see cref="AccountFilter"/>), oldest first unless the filter says
    /// <see cref="AccountFilterFlags.Reversed"/>.
    /// </summary>
    /// <param name="filter">The account, sides, time range, order and limit. An invalid filter (<see cref="AccountFilter.IsValid"/>) matches nothing.</param>
    /// <param name="results">Receives the transfers; at most the filter's limit and this span's length are written.</param>
    /// <returns>How many transfers were written (0 for an invalid filter or an unknown account).</returns>
    /// <exception cref="InvalidOperationException">The history is not enabled (<see cref="EnableAccountHistory"/>).</exception>
    public int GetAccountTransfers(in AccountFilter filter, Span<Transfer> results)
    {
        AccountHistory history = RequireHistory();
        if (!filter.IsValid)
        {
            return 0;
        }

        int accountRow = _accounts.Find(filter.AccountId);
        return accountRow < 0 ? 0 : history.Read(accountRow, filter, _transfers.Count, _transfers, results);
    }

    /// <summary>As <see cref="GetAccountTransfers(in AccountFilter, Span{Transfer})"/>, into a new array of the transfers found.</summary>
    /// <param name="filter">The account, sides, time range, order and limit.</param>
    /// <returns>The transfers (empty for an invalid filter or an unknown account).</returns>
    /// <exception cref="InvalidOperationException">The history is not enabled (<see cref="EnableAccountHistory"/>).</exception>
    public Transfer[] GetAccountTransfers(in AccountFilter filter)
    {
        AccountHistory history = RequireHistory();
        if (!filter.IsValid)
        {
            return [];
        }

        int accountRow = _accounts.Find(filter.AccountId);
        return accountRow < 0 ? [] : ReadAccountTransfers(history, accountRow, filter, _transfers.Count);
    }

    /// <summary>
    /// The engine's read: the transfers of the account at <paramref name="accountRow"/> among rows below
    /// <paramref name="visibleRows"/> (the released ones, acquire-loaded before this call; see <see cref="AccountHistory"/>).
    /// Any thread. Null when the history is not enabled.
    /// </summary>
    internal Transfer[]? ReadPublishedAccountTransfers(int accountRow, in AccountFilter filter, int visibleRows) =>
        _history is { } history ? ReadAccountTransfers(history, accountRow, filter, visibleRows) : null;

    /// <summary>As <see cref="ReadPublishedAccountTransfers(int, in AccountFilter, int)"/>, into a span; -1 when the history is not enabled.</summary>
    internal int ReadPublishedAccountTransfers(int accountRow, in AccountFilter filter, int visibleRows, Span<Transfer> results) =>
        _history is { } history ? history.Read(accountRow, filter, visibleRows, _transfers, results) : -1;

    /// <summary>The history's bytes (0 when not enabled), for the memory budget. Writer only.</summary>
    internal long AccountHistoryMemoryBytes => _history?.MemoryBytes ?? 0;

    private Transfer[] ReadAccountTransfers(AccountHistory history, int accountRow, in AccountFilter filter, int visibleRows)
    {
        // At most the account's entries (the list may still grow meanwhile: the engine's writer runs concurrently, but
        // only entries below visibleRows count, and those were all there before this call).
        int most = (int)Math.Min(filter.Limit, (uint)history.CountOf(accountRow));
        if (most == 0)
        {
            return [];
        }

        var results = new Transfer[most];
        int written = history.Read(accountRow, filter, visibleRows, _transfers, results);
        return written == results.Length ? results : results.AsSpan(0, written).ToArray();
    }

    /// <summary>
    /// Adds every stored row to an empty history. Two account lookups per transfer over tables far larger than the caches
    /// (the cost of an open): a look-ahead keeps several misses in flight, as the apply path's pipeline does: hash both
    /// ids and prefetch their index slots 16 rows ahead, read the candidates and prefetch the account rows 8 ahead,
    /// resolve now.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Build(AccountHistory history)
    {
        const int Ahead = 16;
        const int Near = 8;
        const int Mask = Ahead - 1;
        int count = _transfers.Count;
        Span<ulong> hashes = stackalloc ulong[Ahead * 2];
        Span<uint> candidates = stackalloc uint[Ahead * 2];
        for (int j = 0; j < Math.Min(Ahead, count); j++)
        {
            HashAhead(j, hashes);
        }

        for (int k = 0; k < Math.Min(Near, count); k++)
        {
            CandidatesAhead(k, hashes, candidates);
        }

        for (int row = 0; row < count; row++)
        {
            // This row's ring slot is read before the row 16 ahead, which shares it, is hashed.
            int at = (row & Mask) * 2;
            ref Transfer t = ref _transfers[row];
            int debitRow = _accounts.Resolve(candidates[at], hashes[at], t.DebitAccountId);
            int creditRow = _accounts.Resolve(candidates[at + 1], hashes[at + 1], t.CreditAccountId);
            if (debitRow < 0 || creditRow < 0)
            {
                // Every stored transfer names two existing accounts (posts and voids store their pending transfer's).
                ThrowHelper.ThrowInvalidOperationException_InvariantBroken("a stored transfer names an account that does not exist");
            }

            history.Add(debitRow, creditRow, row);
            if (row + Near < count)
            {
                CandidatesAhead(row + Near, hashes, candidates);
            }

            if (row + Ahead < count)
            {
                HashAhead(row + Ahead, hashes);
            }
        }

        void HashAhead(int row, Span<ulong> hashes)
        {
            ref Transfer t = ref _transfers[row];
            int at = (row & Mask) * 2;
            hashes[at] = IdHash.Hash(t.DebitAccountId);
            hashes[at + 1] = IdHash.Hash(t.CreditAccountId);
            _accounts.PrefetchIndex(hashes[at]);
            _accounts.PrefetchIndex(hashes[at + 1]);
        }

        void CandidatesAhead(int row, Span<ulong> hashes, Span<uint> candidates)
        {
            int at = (row & Mask) * 2;
            candidates[at] = _accounts.FindCandidate(hashes[at]);
            candidates[at + 1] = _accounts.FindCandidate(hashes[at + 1]);
            _accounts.PrefetchRow(candidates[at]);
            _accounts.PrefetchRow(candidates[at + 1]);
        }
    }

    private AccountHistory RequireHistory()
    {
        AccountHistory? history = _history;
        if (history is null)
        {
            ThrowHelper.ThrowInvalidOperationException_HistoryDisabled();
        }

        return history;
    }
}
