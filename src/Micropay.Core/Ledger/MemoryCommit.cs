using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// Allocates the ledger's big tables and commits their memory up front, so that the hot path neither allocates
/// nor takes page faults. This is how capacity hints become TigerBeetle-style static allocation: the cost is paid
/// once, when the ledger is built (or when a batch's <c>Reserve</c> grows a table), never per event.
/// </summary>
/// <remarks>
/// <para>
/// Committing means touching one byte of every page: on a virtual machine a first touch can cost microseconds
/// (the guest clears the page and the host may have to back it).
/// </para>
/// <para>
/// On Linux the pinned tables that are probed at random (account rows, id indexes) are also advised to use
/// transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>) before they are touched. Every random probe of a
/// 100 MB table otherwise misses the TLB, and on a virtual machine each miss is a two-level page walk; huge pages
/// measurably raise the apply rate (benchmarks/README.md, "Figures behind the design's reasons"). The advice is best
/// effort: where it is refused or unsupported the tables work the same on normal pages.
/// </para>
/// </remarks>
internal static unsafe partial class MemoryCommit
{
    private const int PageSize = 4096;
    private const nuint HugePageSize = 2 * 1024 * 1024;
    private const int MadviseHugePage = 14;

    /// <summary>A pinned array, advised to use huge pages and committed; zeroed when <paramref name="zeroed"/>.</summary>
    public static T[] AllocatePinned<T>(int length, bool zeroed)
        where T : unmanaged
    {
        T[] array = GC.AllocateUninitializedArray<T>(length, pinned: true);
        AdviseHugePages(array);
        if (zeroed)
        {
            // Clearing writes every page, so it commits as it goes.
            Array.Clear(array);
        }
        else
        {
            Touch(array);
        }

        return array;
    }

    /// <summary>Touches every page of <paramref name="array"/> without changing its contents.</summary>
    public static void Touch<T>(T[] array)
        where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(array.AsSpan());
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        for (int offset = 0; offset + sizeof(int) <= bytes.Length; offset += PageSize)
        {
            // A compare-and-swap of 0 with 0 commits the page without changing what it holds, with one fault: on x64
            // it always writes, so a fresh page is faulted in writable at once. (A read then a write, as before, took
            // two: the read mapped the shared zero page, and the write then copied it and flushed the other core's
            // TLB.) The offset is a multiple of 4 from the array's start, which is at least 8-byte aligned.
            Interlocked.CompareExchange(ref Unsafe.As<byte, int>(ref Unsafe.Add(ref start, offset)), 0, 0);
        }
    }

    private static void AdviseHugePages<T>(T[] pinned)
        where T : unmanaged
    {
        if (!OperatingSystem.IsLinux() || pinned.Length == 0)
        {
            return;
        }

        nuint start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
        nuint end = start + ((nuint)pinned.Length * (nuint)sizeof(T));
        nuint alignedStart = (start + HugePageSize - 1) & ~(HugePageSize - 1);
        nuint alignedEnd = end & ~(HugePageSize - 1);
        if (alignedEnd <= alignedStart)
        {
            return;
        }

        try
        {
            // Advice only: a failure (an old kernel, huge pages disabled) changes nothing but speed.
            _ = Madvise((void*)alignedStart, alignedEnd - alignedStart, MadviseHugePage);
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
