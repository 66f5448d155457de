namespace Micropay.Core.Storage;

/// <summary>What an <see cref="ILedgerStore"/> holds durably, as reported when it opens.</summary>
/// <param name="LastBatchNumber">The number of the last durable batch; 0 when the journal is empty.</param>
/// <param name="LastBatchHash">SHA-256 of the last durable batch's encoded bytes; <see cref="BatchHash.Zero"/> when empty.
/// The next batch to append must carry it as its previous batch hash.</param>
/// <param name="LatestSnapshotBatchNumber">The batch number of the latest valid snapshot; 0 when there is none.</param>
public readonly record struct LedgerStoreState(ulong LastBatchNumber, BatchHash LastBatchHash, ulong LatestSnapshotBatchNumber)
{
    /// <summary>
    /// What opening dropped from the journal's end (a torn tail left by a crash during an append), or null when it
    /// dropped nothing. Stores that never drop bytes leave it null.
    /// </summary>
    public DiscardedJournalTail? DiscardedTail { get; init; }
}
