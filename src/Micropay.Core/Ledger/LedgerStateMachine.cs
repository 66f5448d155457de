namespace Micropay.Core.Ledger;

/// <summary>
/// The double-entry ledger state machine: accounts, transfers, holds, linked chains and idempotency, applied
/// in batches. Single-threaded, performs no I/O and is deterministic: the same sequence of calls with the
/// same arguments yields the same state and the same results.
/// </summary>
/// <remarks>
/// <para>
/// Not thread-safe: one thread at a time may call any member (the engine's single writer). Reads
/// (<see cref="TryGetAccount"/>, lookups) may interleave with writes on that same thread.
/// </para>
/// <para>
/// Time: every create call takes a batch timestamp (nanoseconds of the ledger's logical clock, typically
/// wall-clock time chosen by the caller). The ledger assigns event <c>i</c> of the batch the timestamp
/// <c>start + i</c> with <c>start = max(timestamp, LastTimestamp + 1)</c>, so timestamps are strictly
/// increasing even when the caller's clock goes backwards. Before applying a batch the ledger expires every
/// pending transfer whose <c>timestamp + timeout</c> is at or before <c>start</c>, releasing its amounts;
/// an empty batch therefore acts as a clock pulse.
/// </para>
/// <para>
/// Batches: results are written one per event, in order. Events flagged <c>Linked</c> form chains that
/// succeed or fail as a whole (see <see cref="CreateTransferResult"/> for the order of checks). The call
/// never throws for a business outcome; it throws <see cref="ArgumentException"/> only for caller bugs
/// (a results span shorter than the batch, a batch whose timestamps would overflow) and
/// <see cref="LedgerFullException"/> when a table is at its maximum size. Both are thrown before the batch
/// changes anything: room for the whole batch is reserved first, so tables never grow midway through a batch.
/// </para>
/// <para>
/// Invariants after every call: the sum of all accounts' <c>DebitsPosted</c> equals the sum of their
/// <c>CreditsPosted</c>, likewise for the pending balances, and no account violates its balance flags.
/// </para>
/// </remarks>
public sealed partial class LedgerStateMachine
{
    /// <summary>Creates an empty ledger that grows as needed.</summary>
    public LedgerStateMachine()
        : this(accountCapacity: 0, transferCapacity: 0)
    {
    }

    /// <summary>
    /// Creates an empty ledger with room for the given numbers of accounts and transfers before it grows. The room
    /// is allocated and committed now (TigerBeetle-style static allocation), so applying batches within it takes
    /// no page faults and allocates nothing.
    /// </summary>
    /// <param name="accountCapacity">Accounts to reserve room for; 0 for a small default.</param>
    /// <param name="transferCapacity">Transfers to reserve room for (in the id index); 0 for a small default.</param>
    /// <exception cref="ArgumentOutOfRangeException">A capacity is negative or larger than the ledger supports.</exception>
    public LedgerStateMachine(int accountCapacity, int transferCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(accountCapacity);
        ArgumentOutOfRangeException.ThrowIfNegative(transferCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(accountCapacity, AccountTable.MaxCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(transferCapacity, TransferTable.MaxCapacity);
        _accounts = new AccountTable(accountCapacity);
        _transfers = new TransferTable(transferCapacity);
    }

    /// <summary>The number of accounts created.</summary>
    public int AccountCount => _accounts.Count;

    /// <summary>The number of transfers applied (every kind, including posts and voids).</summary>
    public int TransferCount => _transfers.Count;

    /// <summary>The newest timestamp the ledger assigned (to an event, or to an empty batch); 0 before the first batch.</summary>
    public ulong LastTimestamp => _lastTimestamp;

    /// <summary>
    /// All accounts, in creation order. The span is a view of the ledger's own table: it is valid only until the
    /// next call that creates accounts or transfers.
    /// </summary>
    public ReadOnlySpan<Account> Accounts => _accounts.AsSpan();

    /// <summary>Creates one account. A convenience over <see cref="CreateAccounts"/> for a batch of one.</summary>
    /// <param name="timestamp">The batch timestamp (see the class remarks).</param>
    /// <param name="account">The account; its balances and timestamp must be zero.</param>
    /// <returns>The outcome.</returns>
    public CreateAccountResult CreateAccount(ulong timestamp, in Account account)
    {
        CreateAccountResult result = default;
        CreateAccounts(timestamp, new ReadOnlySpan<Account>(in account), new Span<CreateAccountResult>(ref result));
        return result;
    }

    /// <summary>Applies one transfer. A convenience over <see cref="CreateTransfers"/> for a batch of one.</summary>
    /// <param name="timestamp">The batch timestamp (see the class remarks).</param>
    /// <param name="transfer">The transfer; its timestamp must be zero.</param>
    /// <returns>The outcome.</returns>
    public CreateTransferResult CreateTransfer(ulong timestamp, in Transfer transfer)
    {
        CreateTransferResult result = default;
        CreateTransfers(timestamp, new ReadOnlySpan<Transfer>(in transfer), new Span<CreateTransferResult>(ref result));
        return result;
    }

    /// <summary>Finds an account by id.</summary>
    /// <param name="id">The account id.</param>
    /// <param name="account">The account, or default when not found.</param>
    /// <returns>Whether the account exists.</returns>
    public bool TryGetAccount(UInt128 id, out Account account)
    {
        int index = _accounts.Find(id);
        if (index < 0)
        {
            account = default;
            return false;
        }

        account = _accounts[index];
        return true;
    }

    /// <summary>Finds a transfer by id.</summary>
    /// <param name="id">The transfer id.</param>
    /// <param name="transfer">The transfer as stored (see <see cref="Transfer"/>), or default when not found.</param>
    /// <returns>Whether the transfer exists. A burnt (failed) id is not a transfer.</returns>
    public bool TryGetTransfer(UInt128 id, out Transfer transfer)
    {
        int index = _transfers.Find(id);
        if (index < 0)
        {
            transfer = default;
            return false;
        }

        transfer = _transfers[index];
        return true;
    }

    /// <summary>Tells the state of a pending transfer.</summary>
    /// <param name="id">The id of the pending transfer.</param>
    /// <param name="status">Its state; <see cref="PendingStatus.None"/> when the transfer exists but is not pending.</param>
    /// <returns>Whether a transfer with this id exists.</returns>
    public bool TryGetPendingStatus(UInt128 id, out PendingStatus status)
    {
        int index = _transfers.Find(id);
        if (index < 0)
        {
            status = PendingStatus.None;
            return false;
        }

        status = _transfers.GetStatus(index);
        return true;
    }

    /// <summary>Looks up accounts by id, writing those found to <paramref name="results"/> in the order asked.</summary>
    /// <param name="ids">The ids to look up.</param>
    /// <param name="results">Receives the accounts found; must be at least as long as <paramref name="ids"/>.</param>
    /// <returns>The number of accounts found (written to the start of <paramref name="results"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="ids"/>.</exception>
    public int LookupAccounts(ReadOnlySpan<UInt128> ids, Span<Account> results)
    {
        if (results.Length < ids.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        int found = 0;
        foreach (UInt128 id in ids)
        {
            int index = _accounts.Find(id);
            if (index >= 0)
            {
                results[found++] = _accounts[index];
            }
        }

        return found;
    }

    /// <summary>Looks up transfers by id, writing those found to <paramref name="results"/> in the order asked.</summary>
    /// <param name="ids">The ids to look up.</param>
    /// <param name="results">Receives the transfers found; must be at least as long as <paramref name="ids"/>.</param>
    /// <returns>The number of transfers found (written to the start of <paramref name="results"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="ids"/>.</exception>
    public int LookupTransfers(ReadOnlySpan<UInt128> ids, Span<Transfer> results)
    {
        if (results.Length < ids.Length)
        {
            ThrowHelper.ThrowArgumentException_ResultsTooShort(nameof(results));
        }

        int found = 0;
        foreach (UInt128 id in ids)
        {
            int index = _transfers.Find(id);
            if (index >= 0)
            {
                results[found++] = _transfers[index];
            }
        }

        return found;
    }
}
