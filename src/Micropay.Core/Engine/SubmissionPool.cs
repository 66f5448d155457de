using System.Collections.Concurrent;

namespace Micropay.Core.Engine;

/// <summary>
/// Reusable <see cref="Submission"/>s. A <see cref="ConcurrentQueue{T}"/> allocates only when it holds more items
/// than ever before, so once the pool has as many submissions as the most calls ever in flight at once, renting and
/// returning allocate nothing.
/// </summary>
internal sealed class SubmissionPool
{
    private readonly ConcurrentQueue<Submission> _free = new();

    public Submission Rent() => _free.TryDequeue(out Submission? submission) ? submission : new Submission(this);

    public void Return(Submission submission) => _free.Enqueue(submission);
}
