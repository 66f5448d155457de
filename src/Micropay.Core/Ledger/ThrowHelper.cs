using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core.Ledger;

/// <summary>
/// Throws on behalf of hot methods, so that their bodies stay small enough to inline and the throw sites do
/// not bloat the callers' machine code. In the ledger's namespace because it throws the ledger's exceptions: the root
/// namespace uses nothing of the modules (the architecture test enforces it), and the engine may use the ledger.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentException_ResultsTooShort(string paramName) =>
        throw new ArgumentException("The results span must be at least as long as the batch (one result per event).", paramName);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRangeException_TimestampOverflow(string paramName) =>
        throw new ArgumentOutOfRangeException(paramName, "The batch's event timestamps would overflow the 64-bit clock.");

    [DoesNotReturn]
    public static void ThrowLedgerFullException(string table, long capacity, long requested) =>
        throw new LedgerFullException(
            $"The ledger's {table} table is full: it holds at most {capacity} entries and the batch needs room for {requested}. Nothing in the batch was applied.");

    [DoesNotReturn]
    public static void ThrowInvalidOperationException_InvariantBroken(string what) =>
        throw new InvalidOperationException($"A ledger invariant was broken ({what}). This is a bug in Micropay.Core; the ledger must not be used further.");

    [DoesNotReturn]
    public static void ThrowArgumentException_RecordBufferTooShort(string paramName, long needed) =>
        throw new ArgumentException($"The buffer must hold at least {needed} bytes (128 per record).", paramName);

    [DoesNotReturn]
    public static void ThrowLedgerSnapshotException(long offset, string reason) =>
        throw new LedgerSnapshotException(offset, reason);

    [DoesNotReturn]
    public static void ThrowInvalidOperationException_HistoryDisabled() =>
        throw new InvalidOperationException(
            "Account history is not kept: call LedgerStateMachine.EnableAccountHistory, or open the engine with LedgerEngineOptions.AccountHistory.");
}
