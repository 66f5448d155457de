using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Audit;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The audit log on disk equals the in-memory tree over the same leaves however the leaves are cut into batches (empty
/// batches included): the same root after every batch and at every size, the same proofs, and after a capture, reopen
/// and restore at any batch, the same again.
/// </summary>
public sealed class AuditLogProperties() : TemporaryDirectoryTest("mp-audit-log-props-")
{
    [Property(MaxTest = 40)]
    public Property Log_AnySplitIntoBatches_IsTheReferenceTree() =>
        Prop.ForAll(Splits().ToArbitrary(), c =>
        {
            using var twin = new AuditLogTwin(Path.Combine(Directory, Guid.NewGuid().ToString("N")), c.Seed);
            foreach (int count in c.Batches)
            {
                twin.Append(count);
                Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
            }

            CheckEverySizeAndSomeProofs(twin, c.Seed);
        });

    [Property(MaxTest = 25)]
    public Property Restore_AtAnyBatch_ContinuesAsTheReferenceTree() =>
        Prop.ForAll(Splits().ToArbitrary(), Gen.Choose(0, 1_000).ToArbitrary(), (c, cutAt) =>
        {
            using var twin = new AuditLogTwin(Path.Combine(Directory, Guid.NewGuid().ToString("N")), c.Seed);
            int cut = c.Batches.Length == 0 ? 0 : cutAt % (c.Batches.Length + 1);
            AuditSnapshotState state = AuditSnapshotState.Empty;
            for (int n = 0; n < c.Batches.Length; n++)
            {
                if (n == cut)
                {
                    twin.Log.Flush();
                    state = twin.Log.CaptureState();
                }

                twin.Append(c.Batches[n]);
            }

            if (cut == c.Batches.Length)
            {
                twin.Log.Flush();
                state = twin.Log.CaptureState();
            }

            twin.ReopenAt(state);
            Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
            foreach (int count in c.Batches.Reverse())
            {
                twin.Append(count);
            }

            CheckEverySizeAndSomeProofs(twin, c.Seed);
        });

    private static void CheckEverySizeAndSomeProofs(AuditLogTwin twin, int seed)
    {
        var random = new Random(seed);
        for (int size = 0; size <= twin.Leaves.Count; size++)
        {
            Assert.Equal(twin.ReferenceRoot(size), twin.LogRoot(size));
            if (size > 0 && (size % 3 == 0 || size == twin.Leaves.Count))
            {
                long i = random.NextInt64(size);
                Assert.Equal(twin.Reference.GetInclusionProof(i, size), twin.Log.GetInclusionProof(i, size));
                long m = random.NextInt64(size + 1);
                Assert.Equal(twin.Reference.GetConsistencyProof(m, size), twin.Log.GetConsistencyProof(m, size));
            }
        }

        for (int i = 0; i < twin.Leaves.Count; i++)
        {
            Assert.Equal(i, twin.Log.FindLeafByTimestamp(twin.Timestamps[i]));
        }
    }

    /// <summary>A seed for the events and up to 30 batch sizes, a third of them empty, the rest up to 50 events (crossing 256s).</summary>
    private static Gen<(int Seed, int[] Batches)> Splits() =>
        from seed in Gen.Choose(0, int.MaxValue)
        from count in Gen.Choose(0, 30)
        from batches in Gen.ArrayOf(Gen.Frequency((1, Gen.Constant(0)), (2, Gen.Choose(1, 50))), count)
        select (seed, batches);
}
