namespace Micropay.Core.Storage;

/// <summary>
/// Work the caller of <see cref="IEncodedBatchAppender.AppendEncoded"/> wants done while the device writes the batch:
/// CPU work that would otherwise wait behind the disk (the engine indexes the batch's transfers for its readers).
/// </summary>
public interface IAppendOverlap
{
    /// <summary>
    /// Runs on the appending thread, inside <see cref="IEncodedBatchAppender.AppendEncoded"/>, before the batch is durable.
    /// It must not make the batch visible as durable, and must not call into the store. If it throws, the append fails
    /// with that exception, its outcome is unknown, and the store refuses further appends (as after a failed write).
    /// </summary>
    void WhileWriting();
}
