namespace Micropay.Core.Storage;

/// <summary>
/// A store's durable data is damaged in a way that is not a torn tail: a bad record followed by good ones, a
/// broken hash chain, a gap or a duplicate batch number. The store refuses to open and deletes nothing, so an
/// operator can inspect <see cref="Location"/> at <see cref="Offset"/>.
/// </summary>
public sealed class LedgerStoreCorruptedException : LedgerStoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="location">The damaged file (or table) of the store.</param>
    /// <param name="offset">The byte offset (or row) where the damage starts.</param>
    /// <param name="reason">What is wrong there.</param>
    public LedgerStoreCorruptedException(string location, long offset, string reason)
        : base($"The ledger store is corrupted: {location} at offset {offset}: {reason}. Nothing was deleted; the store refuses to open.")
    {
        Location = location;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The damaged file (or table).</summary>
    public string Location { get; }

    /// <summary>The byte offset (or row) where the damage starts.</summary>
    public long Offset { get; }

    /// <summary>What is wrong there.</summary>
    public string Reason { get; }
}
