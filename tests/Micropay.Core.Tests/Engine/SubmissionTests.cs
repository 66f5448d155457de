using System.Runtime.CompilerServices;
using Micropay.Core.Engine;

namespace Micropay.Core.Tests.Engine;

public sealed class SubmissionTests
{
    [Fact]
    public void ReturnToPool_VersionAtItsMaximum_WrapsInsteadOfThrowing()
    {
        // Found by the 60-second concurrency stress test: one pooled submission reused 32,768 times overflowed its
        // short ValueTask token under the project's checked arithmetic, failing a caller with OverflowException.
        Submission submission = SubmissionPool.Rent();
        VersionOf(submission) = short.MaxValue;

        ReturnToPool(submission);

        Assert.Equal(short.MinValue, submission.Version);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_version")]
    private static extern ref short VersionOf(Submission submission);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "ReturnToPool")]
    private static extern void ReturnToPool(Submission submission);
}
