using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// Opening: recover the ledger from the store (latest snapshot, then the journal after it), then start the threads.
public sealed partial class LedgerEngine
{
    /// <summary>
    /// Opens an engine: opens the store, loads its latest snapshot (if any) and replays every batch after it, which
    /// reproduces exactly the ledger state of the last durable batch, then starts accepting work.
    /// </summary>
    /// <param name="options">The options; <see cref="LedgerEngineOptions.Store"/> is required unless in memory.</param>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>The open engine.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    /// <exception cref="LedgerStoreCorruptedException">The store found corruption while opening or reading.</exception>
    /// <exception cref="LedgerEngineException">The journal does not replay onto the snapshot (for example a gap).</exception>
    /// <remarks>The engine owns <see cref="LedgerEngineOptions.Store"/> from this call on: if opening fails, the store is disposed.</remarks>
    public static async ValueTask<LedgerEngine> OpenAsync(LedgerEngineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Durability == DurabilityMode.InMemory)
        {
            return new LedgerEngine(options, new Ledger.Ledger(options.AccountCapacity, options.TransferCapacity), default);
        }

        ILedgerStore store = options.Store!;
        try
        {
            return await RecoverAsync(options, store, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The engine owns the store from the start: an open that fails must not leave it open (and locked).
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async ValueTask<LedgerEngine> RecoverAsync(LedgerEngineOptions options, ILedgerStore store, CancellationToken cancellationToken)
    {
        LedgerStoreState state = await store.OpenAsync(cancellationToken).ConfigureAwait(false);
        Ledger.Ledger ledger;
        ulong appliedThrough = 0;
        if (state.LatestSnapshotBatchNumber != 0 && (store.Capabilities & LedgerStoreCapabilities.Snapshots) != 0)
        {
            LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync(cancellationToken).ConfigureAwait(false);
            if (snapshot is { } found)
            {
                ledger = Ledger.Ledger.ReadSnapshot(found.State.Span, options.AccountCapacity, options.TransferCapacity);
                appliedThrough = found.BatchNumber;
            }
            else
            {
                ledger = new Ledger.Ledger(options.AccountCapacity, options.TransferCapacity);
            }
        }
        else
        {
            ledger = new Ledger.Ledger(options.AccountCapacity, options.TransferCapacity);
        }

        appliedThrough = await ReplayAsync(store, ledger, appliedThrough, options.MaxBatchSize, cancellationToken).ConfigureAwait(false);
        if (appliedThrough != state.LastBatchNumber)
        {
            throw new LedgerEngineException(
                $"The store reports batch {state.LastBatchNumber} as its last, but replay ended at batch {appliedThrough}.", null);
        }

        return new LedgerEngine(options, ledger, state);
    }

    /// <summary>Applies every journaled batch after <paramref name="after"/>, with the timestamps in their headers.</summary>
    private static async ValueTask<ulong> ReplayAsync(ILedgerStore store, Ledger.Ledger ledger, ulong after, int maxBatchSize, CancellationToken cancellationToken)
    {
        Transfer[] transfers = new Transfer[maxBatchSize];
        CreateTransferResult[] transferResults = new CreateTransferResult[maxBatchSize];
        Account[] accounts = [];
        CreateAccountResult[] accountResults = [];
        ulong last = after;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(after + 1, cancellationToken).ConfigureAwait(false))
        {
            if (batch.BatchNumber != last + 1)
            {
                throw new LedgerEngineException($"The journal skips from batch {last} to batch {batch.BatchNumber}; it cannot be replayed.", null);
            }

            int count = batch.Header.EventCount;
            ReadOnlySpan<byte> events = batch.Events.Span;
            if (batch.Header.Operation == BatchOperation.CreateTransfers)
            {
                if (transfers.Length < count)
                {
                    // Written with a larger MaxBatchSize than this engine's: replay it all the same.
                    transfers = new Transfer[count];
                    transferResults = new CreateTransferResult[count];
                }

                Transfer.DecodeAll(events, transfers.AsSpan(0, count));
                ledger.CreateTransfers(batch.Header.Timestamp, transfers.AsSpan(0, count), transferResults);
            }
            else
            {
                if (accounts.Length < count)
                {
                    accounts = new Account[Math.Max(count, maxBatchSize)];
                    accountResults = new CreateAccountResult[accounts.Length];
                }

                Account.DecodeAll(events, accounts.AsSpan(0, count));
                ledger.CreateAccounts(batch.Header.Timestamp, accounts.AsSpan(0, count), accountResults);
            }

            last = batch.BatchNumber;
        }

        return last;
    }

    /// <summary>Makes the recovered state readable (before the threads start, so no fences are needed beyond Thread.Start).</summary>
    private void PublishRecoveredState()
    {
        ReadOnlySpan<Account> accounts = _ledger.Accounts;
        int[] rows = new int[accounts.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }

        _accounts.BeginPublish(accounts.Length);
        _accounts.WriteRows(rows, accounts);
        _accounts.EndPublish(0, accounts.Length);
        _transfers.InsertRows(0, _ledger.TransferCount, new TransferRowIds(_ledger));
        _publishedTransferCount = _ledger.TransferCount;
    }
}
