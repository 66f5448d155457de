namespace Micropay.Core.Storage;

/// <summary>
/// The engine's fast path into a store: append a batch the engine has already encoded, in a buffer with room for the
/// store's record frame in front, and let the store compute the chain hash while the device writes. Against
/// <see cref="ILedgerStore.AppendAsync"/> this saves a copy of the batch and a second SHA-256 per batch, and lets the
/// engine use the time the device takes. Internal: the record layout is the store's business, so only stores in this
/// assembly offer it (<see cref="FileLedgerStore"/>); every other store gets <see cref="ILedgerStore.AppendAsync"/>.
/// </summary>
internal interface IEncodedBatchAppender
{
    /// <summary>The bytes the store needs in front of the encoded batch in the buffer passed to <see cref="AppendEncoded"/>.</summary>
    int RecordPrefixSize { get; }

    /// <summary>
    /// Appends a batch durably, with the same guarantees as <see cref="ILedgerStore.AppendAsync"/>, and returns its chain
    /// hash (the SHA-256 of the encoded batch, which the next batch's header must carry).
    /// </summary>
    /// <param name="header">The batch's header, as encoded at the start of the payload.</param>
    /// <param name="record">
    /// <see cref="RecordPrefixSize"/> bytes the store overwrites, then the encoded batch (header and events) of
    /// <paramref name="payloadLength"/> bytes. The store reads it only during the call.
    /// </param>
    /// <param name="payloadLength">The encoded batch's length.</param>
    /// <param name="overlap">Work to run on the calling thread while the device writes, before the fsync; or null.</param>
    /// <returns>The batch's chain hash.</returns>
    /// <exception cref="LedgerStoreException">The write failed; what is durable is unknown until the store is reopened.</exception>
    /// <exception cref="InvalidOperationException">The batch does not follow the journal's last batch (a bug in the caller).</exception>
    BatchHash AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap);
}
