namespace Micropay.Core.Ledger;

/// <summary>
/// <see cref="LedgerStateMachine.ReadSnapshot(ReadOnlySpan{byte}, int, int)"/> was given bytes that are not a valid ledger snapshot: a wrong magic or version,
/// counts that do not match the length, a duplicate id, a status byte out of range, and so on. Nothing was built;
/// the message names the problem and <see cref="Offset"/> the byte where it was found.
/// </summary>
public sealed class LedgerSnapshotException : MicropayException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">The byte offset in the snapshot where the problem was found.</param>
    /// <param name="reason">What is wrong there.</param>
    public LedgerSnapshotException(long offset, string reason)
        : base($"The ledger snapshot is invalid at byte offset {offset}: {reason}.")
    {
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The byte offset in the snapshot where the problem was found (the snapshot's length for a truncation).</summary>
    public long Offset { get; }

    /// <summary>What is wrong at <see cref="Offset"/>.</summary>
    public string Reason { get; }
}
