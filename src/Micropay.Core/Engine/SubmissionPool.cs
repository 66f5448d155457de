using System.Collections.Concurrent;

namespace Micropay.Core.Engine;

/// <summary>
/// Reusable <see cref="Submission"/>s, shared by every engine in the process: a small per-thread cache in front of a
/// <see cref="ConcurrentQueue{T}"/>. A caller's continuation typically returns its submission (in <c>GetResult</c>) and
/// rents the next one on the same thread, so the common path touches only thread-local state; the queue allocates
/// only when it holds more items than ever before. The steady state therefore allocates nothing.
/// </summary>
internal static class SubmissionPool
{
    private const int CacheSize = 8;

    private static readonly ConcurrentQueue<Submission> s_shared = new();

    // Per thread: no synchronisation needed.
    [ThreadStatic]
    private static Submission?[]? t_cache;

    [ThreadStatic]
    private static int t_count;

    public static Submission Rent()
    {
        Submission?[]? cache = t_cache;
        if (cache is not null && t_count > 0)
        {
            int index = --t_count;
            Submission submission = cache[index]!;
            cache[index] = null;
            return submission;
        }

        return s_shared.TryDequeue(out Submission? shared) ? shared : new Submission();
    }

    public static void Return(Submission submission)
    {
        Submission?[] cache = t_cache ??= new Submission?[CacheSize];
        if (t_count < CacheSize)
        {
            cache[t_count++] = submission;
            return;
        }

        s_shared.Enqueue(submission);
    }
}
