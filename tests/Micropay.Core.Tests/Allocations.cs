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
    /// the measured runs.
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

                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < measuredCount; i++)
                {
                    measured();
                }

                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
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
}
