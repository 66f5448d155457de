namespace Micropay.Core.Ledger;

/// <summary>
/// A batch did not fit: the ledger's account or transfer table is at its maximum size. Thrown before the batch
/// changes anything, so the ledger is exactly as it was before the call.
/// </summary>
public sealed class LedgerFullException : MicropayException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which table is full and its limit.</param>
    public LedgerFullException(string message)
        : base(message)
    {
    }
}
