using System.Diagnostics.CodeAnalysis;

namespace Micropay.Core;

/// <summary>
/// Throws on behalf of hot methods, so that their bodies stay small enough to inline and the throw sites do
/// not bloat the callers' machine code.
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
    public static void ThrowInvalidOperationException_TableFull(string table, long capacity) =>
        throw new InvalidOperationException($"The {table} table is full: it holds at most {capacity} entries.");
}
