using System.Runtime.CompilerServices;

namespace Micropay.Core.Tests.Crypto;

/// <summary>
/// Measures what an action allocates once warm, on a dedicated thread (the thread's own allocation counter, which tests
/// running in parallel on other threads do not disturb). The actions are compiled fully optimised at their first call,
/// so tiering does not recompile them, and allocate, partway through the measured loop.
/// </summary>
internal static class Allocations
{
    public const int WarmCalls = 200;
    public const int MeasuredCalls = 1_000;

    /// <summary>Bytes allocated by <see cref="MeasuredCalls"/> calls of <paramref name="action"/> after <see cref="WarmCalls"/> warm-up calls.</summary>
    public static long OfWarm(Action action)
    {
        long allocated = -1;
        Exception? failure = null;
        var thread = new Thread([MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            try
            {
                for (int i = 0; i < WarmCalls; i++)
                {
                    action();
                }

                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < MeasuredCalls; i++)
                {
                    action();
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
            throw new InvalidOperationException("The measured action failed.", failure);
        }

        return allocated;
    }
}
