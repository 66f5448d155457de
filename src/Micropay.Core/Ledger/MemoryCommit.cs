using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// Commits memory up front by touching one byte of every page, so that the first write of a row on the hot path
/// does not take a page fault (on a virtual machine a first touch can cost microseconds: the guest clears the
/// page and the host may have to back it). This is how capacity hints become TigerBeetle-style static
/// allocation: the cost is paid once, when the ledger is built.
/// </summary>
internal static class MemoryCommit
{
    private const int PageSize = 4096;

    /// <summary>Touches every page of <paramref name="array"/> without changing its contents.</summary>
    public static void Touch<T>(T[] array)
        where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(array.AsSpan());
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        for (int offset = 0; offset < bytes.Length; offset += PageSize)
        {
            // Read then write the same value: commits the page without changing what it holds.
            ref byte b = ref Unsafe.Add(ref start, offset);
            Volatile.Write(ref b, Volatile.Read(ref b));
        }
    }
}
