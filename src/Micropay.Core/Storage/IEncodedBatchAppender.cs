namespace Micropay.Core.Storage;

/// <summary>
/// A store's fast append path, for a caller that has already encoded the batch (the engine): the batch is appended from
/// the caller's own buffer, which has room for the store's record framing in front, and the store computes the chain
/// hash itself, while the device writes. Against <see cref="ILedgerStore.AppendAsync"/> this saves a copy of the batch
/// and a second SHA-256 per batch, and lets the caller use the time the device takes (<see cref="IAppendOverlap"/>).
/// </summary>
/// <remarks>
/// <para><b>A capability.</b> A store offers it by implementing this interface <em>and</em> reporting
/// <see cref="LedgerStoreCapabilities.EncodedAppend"/> in <see cref="ILedgerStore.Capabilities"/>; the engine uses it only
/// then, and uses <see cref="ILedgerStore.AppendAsync"/> otherwise. The flag is what lets a decorator implement this
/// interface once and forward it when its inner store has it: it reports the flag only in that case (see
/// <c>FaultInjectingLedgerStore</c> in the conformance kit), and a decorator that knows nothing of it simply does not
/// implement the interface, so the engine falls back to <see cref="ILedgerStore.AppendAsync"/>.
/// <see cref="FileLedgerStore"/> implements it; the conformance kit checks any store that reports the flag.</para>
/// <para><b>Same guarantees as <see cref="ILedgerStore.AppendAsync"/></b>: the call returns only once the batch is
/// durable; a <see cref="LedgerStoreException"/> means the outcome is unknown until the store is reopened, and the
/// instance then refuses further appends, through either path. The two paths append to the same journal and may be
/// mixed. Unlike <see cref="ILedgerStore.AppendAsync"/> there is no idempotent retry (the engine never retries) and no
/// cancellation; the call runs synchronously on the calling thread.</para>
/// </remarks>
public interface IEncodedBatchAppender
{
    /// <summary>
    /// The bytes the store needs in front of the encoded batch in the buffer passed to <see cref="AppendEncoded"/> (its
    /// record framing, written in place), 0 to 4096. Constant for the store's lifetime.
    /// </summary>
    int RecordPrefixSize { get; }

    /// <summary>
    /// Appends the next batch durably from a buffer holding it already encoded, and returns its chain hash: the SHA-256
    /// of the encoded batch (<see cref="BatchHash.Compute"/>), which the next batch's header must carry.
    /// </summary>
    /// <param name="header">The batch's header, as encoded at the start of the payload.</param>
    /// <param name="record">
    /// <see cref="RecordPrefixSize"/> bytes the store may overwrite, then the encoded batch (header and events, as
    /// <see cref="CommitBatch.Encode"/> writes it) of <paramref name="payloadLength"/> bytes; anything after is ignored.
    /// The store reads the buffer only during the call and never changes the encoded batch.
    /// </param>
    /// <param name="payloadLength">The encoded batch's length: <see cref="CommitBatchHeader.Size"/> plus 128 bytes per event.</param>
    /// <param name="overlap">Work to run on the calling thread while the device writes, before the batch is durable; or
    /// null. A successful append runs it exactly once.</param>
    /// <returns>The batch's chain hash.</returns>
    /// <exception cref="LedgerStoreException">The write failed: the outcome is unknown until the store is reopened, and this
    /// instance refuses further appends. Also thrown when an earlier write of this instance failed.</exception>
    /// <exception cref="InvalidOperationException">The batch is not <c>LastBatchNumber + 1</c> chained to the last batch's
    /// hash (a bug in the caller, which numbers and chains its batches from the store's state); nothing is written.</exception>
    /// <exception cref="NotSupportedException">The store (a decorator whose inner store lacks this path) does not report
    /// <see cref="LedgerStoreCapabilities.EncodedAppend"/>.</exception>
    BatchHash AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap);
}
