using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Baselines;

/// <summary>
/// What a user would write for a thread-safe ledger service instead of the engine: the <see cref="DictionaryLedger"/>
/// behind one lock taken per call, with the engine's async-shaped surface (single and batch submits of accounts and
/// transfers), in memory only: nothing is durable.
/// </summary>
/// <remarks>
/// <para>A competent baseline, not a straw man: one <see cref="Lock"/> (the .NET 9+ lock type, cheaper than a monitor on
/// an object), held only for the dictionary work, never across an await; results are returned as already completed
/// <see cref="ValueTask{TResult}"/>s, so a call allocates nothing and an awaiting caller never suspends. A single submit
/// is a batch of one on the caller's stack. Batch submits hold the lock for the whole batch, which is what makes a batch
/// atomic with respect to other callers (and cheaper: one lock per batch).</para>
/// <para>The clock is the dictionary ledger's logical one (timestamp 0: each batch starts right after the last): reading
/// a wall clock per call would only add cost to the baseline.</para>
/// <para>It has no backpressure and no group commit: with more callers than cores, callers simply queue on the lock
/// (a thread blocked on it is a thread-pool thread not running other callers).</para>
/// </remarks>
public sealed class LockedDictionaryLedger
{
    // Protects _ledger: every call into it, reads included, since Dictionary is not safe to read while written.
    private readonly Lock _lock = new();
    private readonly DictionaryLedger _ledger;

    /// <summary>Creates an empty ledger with room for the given numbers of accounts and transfers.</summary>
    /// <param name="accountCapacity">Accounts to pre-size for.</param>
    /// <param name="transferCapacity">Transfers to pre-size for.</param>
    public LockedDictionaryLedger(int accountCapacity, int transferCapacity) => _ledger = new DictionaryLedger(accountCapacity, transferCapacity);

    /// <summary>The number of transfers applied.</summary>
    public int TransferCount
    {
        get
        {
            lock (_lock)
            {
                return _ledger.TransferCount;
            }
        }
    }

    /// <summary>Forgets every applied transfer, keeping the accounts and the storage (see <see cref="DictionaryLedger.ClearTransfers"/>).</summary>
    public void ClearTransfers()
    {
        lock (_lock)
        {
            _ledger.ClearTransfers();
        }
    }

    /// <summary>Creates one account.</summary>
    /// <param name="account">The account, with a zero timestamp.</param>
    /// <param name="cancellationToken">Checked once, before the account is created.</param>
    /// <returns>A completed task with the account's result.</returns>
    public ValueTask<CreateAccountResult> CreateAccountAsync(Account account, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<CreateAccountResult>(cancellationToken);
        }

        // A batch of one, result included, on this stack: a single submit allocates nothing.
        CreateAccountResult single = default;
        Span<CreateAccountResult> result = new(ref single);
        lock (_lock)
        {
            _ledger.CreateAccounts(0, new ReadOnlySpan<Account>(in account), result);
        }

        return ValueTask.FromResult(single);
    }

    /// <summary>Applies one transfer.</summary>
    /// <param name="transfer">The transfer, with a zero timestamp.</param>
    /// <param name="cancellationToken">Checked once, before the transfer is applied.</param>
    /// <returns>A completed task with the transfer's result.</returns>
    public ValueTask<CreateTransferResult> CreateTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<CreateTransferResult>(cancellationToken);
        }

        // A batch of one, result included, on this stack: a single submit allocates nothing.
        CreateTransferResult single = default;
        Span<CreateTransferResult> result = new(ref single);
        lock (_lock)
        {
            _ledger.CreateTransfers(0, new ReadOnlySpan<Transfer>(in transfer), result);
        }

        return ValueTask.FromResult(single);
    }

    /// <summary>Creates a batch of accounts under one lock.</summary>
    /// <param name="accounts">The accounts.</param>
    /// <param name="results">At least as long as <paramref name="accounts"/>: result <c>i</c> belongs to account <c>i</c>.</param>
    /// <param name="cancellationToken">Checked once, before the batch is applied.</param>
    /// <returns>A completed task with the number of accounts not created.</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="accounts"/>.</exception>
    public ValueTask<int> CreateAccountsAsync(ReadOnlyMemory<Account> accounts, Memory<CreateAccountResult> results, CancellationToken cancellationToken = default)
    {
        if (results.Length < accounts.Length)
        {
            throw new ArgumentException($"The results ({results.Length}) must be at least as long as the accounts ({accounts.Length}).", nameof(results));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        lock (_lock)
        {
            return ValueTask.FromResult(_ledger.CreateAccounts(0, accounts.Span, results.Span));
        }
    }

    /// <summary>Applies a batch of transfers under one lock.</summary>
    /// <param name="transfers">The transfers.</param>
    /// <param name="results">At least as long as <paramref name="transfers"/>: result <c>i</c> belongs to transfer <c>i</c>.</param>
    /// <param name="cancellationToken">Checked once, before the batch is applied.</param>
    /// <returns>A completed task with the number of transfers not applied.</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="transfers"/>.</exception>
    public ValueTask<int> CreateTransfersAsync(ReadOnlyMemory<Transfer> transfers, Memory<CreateTransferResult> results, CancellationToken cancellationToken = default)
    {
        if (results.Length < transfers.Length)
        {
            throw new ArgumentException($"The results ({results.Length}) must be at least as long as the transfers ({transfers.Length}).", nameof(results));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        lock (_lock)
        {
            return ValueTask.FromResult(_ledger.CreateTransfers(0, transfers.Span, results.Span));
        }
    }

    /// <summary>Looks an account up by id.</summary>
    /// <param name="id">The account id.</param>
    /// <param name="account">A copy of the account, or default.</param>
    /// <returns>Whether the account exists.</returns>
    public bool TryGetAccount(UInt128 id, out Account account)
    {
        lock (_lock)
        {
            return _ledger.TryGetAccount(id, out account);
        }
    }
}
