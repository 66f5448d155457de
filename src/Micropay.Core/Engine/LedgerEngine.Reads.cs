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

    private readonly struct TransferRowIds(LedgerStateMachine ledger) : IRowIds
    {
        // Transfer rows are written once, before their index entry is published (see PublishedIndex).
        public UInt128 IdAt(int row) => ledger.ReadPublishedTransfer(row).Id;
    }
}
