using System.Runtime.CompilerServices;

namespace Micropay.Core.Tests;

/// <summary>
/// Measures what code allocates once warm, on a dedicated thread: the thread's own allocation counter sees only the
/// measured loop (the test runner's thread occasionally picks up a few kilobytes of its own work while a test runs,
/// seen as a single batch of 2 to 5 KB at a random point, which the same loop in a plain console program never shows).
/// The loops are compiled fully optimised at their first call, so tiering does not recompile them, and allocate,
/// partway through the measured loop.
/// </summary>
internal static class Allocations
{
    public const int WarmCalls = 200;
    public const int MeasuredCalls = 1_000;

    /// <summary>Bytes allocated by <see cref="MeasuredCalls"/> calls of <paramref name="action"/> after <see cref="WarmCalls"/> warm-up calls.</summary>
    public static long OfWarm(Action action) => OnDedicatedThread(action, WarmCalls, action, MeasuredCalls);

    /// <summary>
    /// Runs <paramref name="warm"/> <paramref name="warmCount"/> times, then <paramref name="measured"/>
    /// <paramref name="measuredCount"/> times, on a thread of its own, and returns the bytes that thread allocated during
    /// the measured runs (the smaller of two such windows when the first is not 0: see the comment inside).
    /// </summary>
    public static long OnDedicatedThread(Action warm, int warmCount, Action measured, int measuredCount)
    {
        long allocated = -1;
        Exception? failure = null;
        var thread = new Thread([MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            try
            {
                for (int i = 0; i < warmCount; i++)
                {
                    warm();
                }

                allocated = Window(measured, measuredCount);
                if (allocated != 0)
                {
                    // A second window of the same length: an allocation of the code under test recurs with its calls and
                    // shows in both, while a one-off of the runtime on this thread does not (seen once in a full-suite CI
                    // run: 424 B in one window of a test that never allocates alone, cause not found). The smaller
                    // window is the answer, so a steady allocation of even one byte per call still fails.
                    allocated = Math.Min(allocated, Window(measured, measuredCount));
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("The measured loop failed.", failure);
        }

        return allocated;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Window(Action measured, int count)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            measured();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
