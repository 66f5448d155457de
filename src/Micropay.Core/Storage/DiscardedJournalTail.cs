namespace Micropay.Core.Storage;

/// <summary>
/// What a store dropped from the end of its journal when it opened: the bytes after the last whole, verifying record,
/// which a crash (or power loss) during an append left behind. Reported, never silent, because a damaged last record
/// that <em>was</em> acknowledged (a flipped bit on the disk) looks exactly like a torn write.
/// </summary>
/// <param name="Location">The file (or table) the bytes were cut from.</param>
/// <param name="Offset">Where the dropped bytes started: the end of the last intact record.</param>
/// <param name="Length">How many bytes were dropped.</param>
/// <param name="BatchNumber">The batch number the first dropped record's frame names, when its frame could be read; null otherwise.
/// A number at or below <see cref="LedgerStoreState.LastBatchNumber"/> would mean the frame itself is damaged.</param>
/// <param name="Reason">Why the bytes did not form a whole record (for example "the record's CRC-32C does not match").</param>
public sealed record DiscardedJournalTail(string Location, long Offset, long Length, ulong? BatchNumber, string Reason);
