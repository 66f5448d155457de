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

    /// <summary>The operation code is 0 (<see cref="BatchOperation.None"/>). Other codes are the engine's to judge.</summary>
    BadOperation = 4,

    /// <summary>The batch number is 0.</summary>
    BadBatchNumber = 5,

    /// <summary>The event count is negative or above <see cref="CommitBatch.MaxEventCount"/>.</summary>
    BadEventCount = 6,

    /// <summary>A reserved field is not zero.</summary>
    ReservedNotZero = 7,

    /// <summary>More bytes than the header's event count accounts for.</summary>
    TrailingBytes = 8,

    /// <summary>The event size is not a multiple of 8 from 8 to <see cref="CommitBatchHeader.MaxEventSize"/>, is 128
    /// written as itself (128 is written as 0), or the events would exceed <see cref="CommitBatch.MaxEventsLength"/>.</summary>
    BadEventSize = 9,
}
