namespace Micropay.Core.Storage;

/// <summary>What is wrong with bytes that were meant to be an encoded <see cref="CommitBatch"/>.</summary>
public enum CommitBatchParseResult
{
    /// <summary>The bytes are a well-formed batch.</summary>
    Ok = 0,

    /// <summary>Fewer bytes than the header, or than the header's event count needs.</summary>
    Truncated = 1,

    /// <summary>The first four bytes are not "MPCB".</summary>
    BadMagic = 2,

    /// <summary>The header's version is not one this library reads.</summary>
    UnsupportedVersion = 3,

    /// <summary>The operation is not a known <see cref="BatchOperation"/>.</summary>
    BadOperation = 4,

    /// <summary>The batch number is 0.</summary>
    BadBatchNumber = 5,

    /// <summary>The event count is negative or above <see cref="CommitBatch.MaxEventCount"/>.</summary>
    BadEventCount = 6,

    /// <summary>A reserved field is not zero.</summary>
    ReservedNotZero = 7,

    /// <summary>More bytes than the header's event count accounts for.</summary>
    TrailingBytes = 8,
}
