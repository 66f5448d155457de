namespace Micropay.Core.Storage;

/// <summary>
/// A ledger store failed: an I/O error, a store that is closed or held by another process, or an append that
/// conflicts with what is already durable. After this exception an append's outcome is unknown: the batch may or
/// may not be durable, and only reopening the store tells.
/// </summary>
public class LedgerStoreException : MicropayException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the store and the batch or file.</param>
    public LedgerStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed, naming the store and the batch or file.</param>
    /// <param name="innerException">The underlying error (often an <see cref="IOException"/>).</param>
    public LedgerStoreException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
