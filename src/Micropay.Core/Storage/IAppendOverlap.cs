namespace Micropay.Core.Storage;

/// <summary>
/// Work the engine runs during <see cref="IEncodedBatchAppender.AppendEncoded"/>, after the store started the device
/// writing the batch and before it waits for the fsync: CPU work that would otherwise wait behind the disk.
/// </summary>
internal interface IAppendOverlap
{
    /// <summary>
    /// Runs on the appending thread, under the store's write lock, before the batch is durable: it must not make the
    /// batch visible as durable, and must not call into the store. If it throws, the store refuses further appends.
    /// </summary>
    void WhileWriting();
}
