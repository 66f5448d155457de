using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

// Lock-free reads: any thread, never blocking the writer, seeing only released batches (durable in the default
// mode). A caller whose submission completed sees its effects: the batch is published before results are released.
public sealed partial class LedgerEngine
{
    /// <summary>
    /// Reads one account from released batches. Lock-free; never sees a torn account. While a batch is being published
    /// the row may show the account after an earlier event of that (durable) batch; use <see cref="LookupAccounts"/> for
    /// values at a batch boundary.
    /// </summary>
    /// <param name="id">The account's id.</param>
    /// <param name="account">The account, when found.</param>
    /// <returns>Whether the account exists (in a released batch).</returns>
    public bool TryGetAccount(UInt128 id, out Account account) => _accounts.TryGet(id, out account);

    /// <summary>
    /// Looks up accounts, all as of one and the same released batch (a consistent view: for example, the sum of
    /// balances across them is one the ledger actually had), writing those found in the order asked.
    /// </summary>
    /// <param name="ids">The ids to look up.</param>
    /// <param name="results">Receives the accounts found; at least as long as <paramref name="ids"/>.</param>
    /// <returns>How many were found (the first that many entries of <paramref name="results"/>).</returns>
    public int LookupAccounts(ReadOnlySpan<UInt128> ids, Span<Account> results)
    {
        if (results.Length < ids.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        return _accounts.LookupConsistent(ids, results);
    }

    /// <summary>Every account as of one released batch, in creation order (a consistent view; allocates the array).</summary>
    /// <returns>The accounts.</returns>
    public Account[] ReadAllAccounts() => _accounts.ReadAll();

    /// <summary>
    /// The transfers as of released batches: those created by events and those the ledger made itself (channel
    /// settlements and refunds). Lock-free; a count for reports (the tool's <c>ledger info</c>), as of the latest release.
    /// </summary>
    public int TransferCount => Volatile.Read(ref _releasedTransferCount);

    /// <summary>Reads one transfer from a released batch. Lock-free.</summary>
    /// <param name="id">The transfer's id.</param>
    /// <param name="transfer">The transfer as stored (timestamp set; posts and voids carry their pending transfer's accounts).</param>
    /// <returns>Whether the transfer exists (in a released batch).</returns>
    public bool TryGetTransfer(UInt128 id, out Transfer transfer)
    {
        int row = _transfers.Find(id, new TransferRowIds(_ledger));
        if (row < 0 || row >= Volatile.Read(ref _releasedTransferCount))
        {
            transfer = default;
            return false;
        }

        transfer = _ledger.ReadPublishedTransfer(row);
        return true;
    }

    /// <summary>Looks up transfers from released batches, writing those found in the order asked. Lock-free.</summary>
    /// <param name="ids">The ids to look up.</param>
    /// <param name="results">Receives the transfers found; at least as long as <paramref name="ids"/>.</param>
    /// <returns>How many were found.</returns>
    public int LookupTransfers(ReadOnlySpan<UInt128> ids, Span<Transfer> results)
    {
        if (results.Length < ids.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        int found = 0;
        foreach (UInt128 id in ids)
        {
            if (TryGetTransfer(id, out Transfer transfer))
            {
                results[found++] = transfer;
            }
        }

        return found;
    }

    /// <summary>
    /// Reads the transfers of one account that <paramref name="filter"/> selects, from released batches (TigerBeetle's
    /// <c>get_account_transfers</c>; see <see cref="AccountFilter"/>): oldest first unless the filter says
    /// <see cref="AccountFilterFlags.Reversed"/>. Lock-free, concurrent with the writer: the result is the account's
    /// history as of one released transfer count, whole and in timestamp order.
    /// </summary>
    /// <param name="filter">The account, sides, time range, order and limit. An invalid filter (<see cref="AccountFilter.IsValid"/>) matches nothing.</param>
    /// <param name="results">Receives the transfers; at most the filter's limit and this span's length are written.</param>
    /// <returns>How many transfers were written (0 for an invalid filter or an account not in a released batch).</returns>
    /// <exception cref="InvalidOperationException">The engine was opened without <see cref="LedgerEngineOptions.AccountHistory"/>.</exception>
    public int GetAccountTransfers(in AccountFilter filter, Span<Transfer> results)
    {
        // First: the history's entries below this count are complete and final (AccountHistory's ordering argument).
        int visible = Volatile.Read(ref _releasedTransferCount);
        if (!_ledger.AccountHistoryEnabled)
        {
            ThrowHelper.ThrowInvalidOperationException_HistoryDisabled();
        }

        int row = filter.IsValid ? _accounts.FindRow(filter.AccountId) : -1;
        return row < 0 ? 0 : _ledger.ReadPublishedAccountTransfers(row, filter, visible, results);
    }

    /// <summary>As <see cref="GetAccountTransfers(in AccountFilter, Span{Transfer})"/>, into a new array of the transfers found.</summary>
    /// <param name="filter">The account, sides, time range, order and limit.</param>
    /// <returns>The transfers (empty for an invalid filter or an account not in a released batch).</returns>
    /// <exception cref="InvalidOperationException">The engine was opened without <see cref="LedgerEngineOptions.AccountHistory"/>.</exception>
    public Transfer[] GetAccountTransfers(in AccountFilter filter)
    {
        int visible = Volatile.Read(ref _releasedTransferCount);
        if (!_ledger.AccountHistoryEnabled)
        {
            ThrowHelper.ThrowInvalidOperationException_HistoryDisabled();
        }

        int row = filter.IsValid ? _accounts.FindRow(filter.AccountId) : -1;
        return row < 0 ? [] : _ledger.ReadPublishedAccountTransfers(row, filter, visible)!;
    }

    private readonly struct TransferRowIds(LedgerStateMachine ledger) : IRowIds
    {
        // Transfer rows are written once, before their index entry is published (see PublishedIndex).
        public UInt128 IdAt(int row) => ledger.ReadPublishedTransfer(row).Id;
    }
}
