using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The audit log on disk (tiles, leaves, batch index, compact-range frontier) against the in-memory <see cref="MerkleLog"/>
/// and the RFC's recursive definitions over the same leaf bytes: the same roots at every size, the same proofs, tiles
/// that are the tree's level-0 and level-8 hashes, lookups that find the right leaves, and a restore from a snapshot's
/// state that continues identically or refuses files that do not hold it.
/// </summary>
public sealed class AuditLogTests() : TemporaryDirectoryTest("mp-audit-log-")
{
    private const int Exhaustive = 64;

    private AuditLogTwin Twin(int seed, string name = "audit") => new(Path.Combine(Directory, name), seed);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void GetRoot_EverySizeUpTo600_IsTheReferenceRoot(int seed)
    {
        using AuditLogTwin twin = Twin(seed);
        Assert.Equal(MerkleHashes.EmptyRoot.ToArray(), twin.LogCurrentRoot());
        Assert.Equal(MerkleHashes.EmptyRoot.ToArray(), twin.LogRoot(0));
        while (twin.Leaves.Count < 600)
        {
            twin.Append(twin.Batches.Count % 5 == 2 ? 0 : new Random(seed * 1000 + twin.Batches.Count).Next(1, 30));

            // After every batch: the frontier's root, the size and what readers may prove.
            Assert.Equal(twin.Leaves.Count, twin.Log.Size);
            Assert.Equal(twin.Leaves.Count, twin.Log.PublishedSize);
            Assert.Equal((ulong)twin.Batches.Count, twin.Log.BatchCount);
            Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
        }

        for (int size = 0; size <= twin.Leaves.Count; size++)
        {
            Assert.Equal(twin.ReferenceRoot(size), twin.LogRoot(size));
        }

        // The recursive definition agrees at a spread of sizes, across the 256 and 512 boundaries.
        foreach (int size in new[] { 0, 1, 2, 3, 63, 64, 65, 255, 256, 257, 300, 511, 512, 513, twin.Leaves.Count })
        {
            Assert.Equal(Rfc9162Reference.Root(twin.Leaves, size), twin.LogRoot(size));
        }
    }

    [Fact]
    public void Proofs_EveryIndexAndPairOfSizesUpTo64_AreTheReferenceProofs()
    {
        using AuditLogTwin twin = Twin(7);
        twin.GrowTo(Exhaustive, maxBatch: 5);
        for (int n = 1; n <= Exhaustive; n++)
        {
            byte[] root = twin.LogRoot(n);
            Assert.Equal(Rfc9162Reference.Root(twin.Leaves, n), root);
            for (int i = 0; i < n; i++)
            {
                byte[] proof = twin.Log.GetInclusionProof(i, n);
                Assert.Equal(Rfc9162Reference.Path(twin.Leaves, i, n), proof);
                Assert.Equal(twin.Reference.GetInclusionProof(i, n), proof);
                Assert.True(MerkleProofs.VerifyInclusion(i, n, Rfc9162Reference.LeafHash(twin.Leaves[i]), proof, root), $"leaf {i} of {n}");
            }
        }

        for (int n = 0; n <= Exhaustive; n++)
        {
            for (int m = 0; m <= n; m++)
            {
                byte[] proof = twin.Log.GetConsistencyProof(m, n);
                Assert.Equal(Rfc9162Reference.Proof(twin.Leaves, m, n), proof);
                Assert.Equal(twin.Reference.GetConsistencyProof(m, n), proof);
                Assert.True(MerkleProofs.VerifyConsistency(m, n, twin.LogRoot(m), twin.LogRoot(n), proof), $"{m} to {n}");
            }
        }
    }

    [Fact]
    public void Proofs_RandomIndicesAndSizesUpTo600_AreTheReferenceProofs()
    {
        using AuditLogTwin twin = Twin(11);
        twin.GrowTo(600);
        var random = new Random(11);
        for (int k = 0; k < 400; k++)
        {
            int n = random.Next(1, twin.Leaves.Count + 1);
            int i = random.Next(n);
            int m = random.Next(n + 1);
            Assert.Equal(twin.Reference.GetInclusionProof(i, n), twin.Log.GetInclusionProof(i, n));
            Assert.Equal(twin.Reference.GetConsistencyProof(m, n), twin.Log.GetConsistencyProof(m, n));
        }

        // A few against the recursive definition too (each costs a rescan of the leaves).
        foreach ((int i, int m, int n) in new[] { (0, 255, 256), (255, 256, 257), (256, 257, 513), (599, 1, twin.Leaves.Count), (300, 300, 599) })
        {
            Assert.Equal(Rfc9162Reference.Path(twin.Leaves, i, n), twin.Log.GetInclusionProof(i, n));
            Assert.Equal(Rfc9162Reference.Proof(twin.Leaves, m, n), twin.Log.GetConsistencyProof(m, n));
        }
    }

    [Fact]
    public void Trees_Around65536Leaves_AreTheReferenceTrees()
    {
        // 8-byte events keep 66,000 leaves small; batches of up to 2,000 cross the level-2 tile (height 16) boundary.
        using AuditLogTwin twin = Twin(13);
        while (twin.Leaves.Count < 65_536 - 300)
        {
            twin.Append(new Random(twin.Batches.Count).Next(0, 2_000), eventSize: 8);
        }

        // Then small batches, checking the frontier after each, across the boundary.
        while (twin.Leaves.Count < 65_536 + 300)
        {
            twin.Append(new Random(twin.Batches.Count).Next(0, 7), eventSize: 8);
            Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
        }

        for (int size = 65_536 - 300; size <= twin.Leaves.Count; size++)
        {
            Assert.Equal(twin.ReferenceRoot(size), twin.LogRoot(size));
        }

        // The level-2 tile's first hash is the root of the first 65,536 leaves.
        Assert.Equal(twin.ReferenceRoot(65_536), twin.Log.ReadTile(2, 0, 1));

        var random = new Random(13);
        long total = twin.Leaves.Count;
        for (int k = 0; k < 300; k++)
        {
            long n = k % 3 == 0 ? 65_536 + random.Next(-3, 4) : random.NextInt64(1, total + 1);
            long i = random.NextInt64(n);
            long m = random.NextInt64(n + 1);
            byte[] proof = twin.Log.GetInclusionProof(i, n);
            Assert.Equal(twin.Reference.GetInclusionProof(i, n), proof);
            Assert.True(MerkleProofs.VerifyInclusion(i, n, Rfc9162Reference.LeafHash(twin.Leaves[(int)i]), proof, twin.ReferenceRoot(n)));
            byte[] consistency = twin.Log.GetConsistencyProof(m, n);
            Assert.Equal(twin.Reference.GetConsistencyProof(m, n), consistency);
            Assert.True(MerkleProofs.VerifyConsistency(m, n, twin.ReferenceRoot(m), twin.ReferenceRoot(n), consistency));
        }

        // Two against the recursive definition over all 66,000 leaves.
        Assert.Equal(Rfc9162Reference.Path(twin.Leaves, 65_535, 65_537), twin.Log.GetInclusionProof(65_535, 65_537));
        Assert.Equal(Rfc9162Reference.Proof(twin.Leaves, 65_536, 65_700), twin.Log.GetConsistencyProof(65_536, 65_700));
    }

    [Fact]
    public void ReadTile_EveryTile_HoldsTheLevel0AndLevel8Hashes()
    {
        using AuditLogTwin twin = Twin(17);
        twin.GrowTo(3 * 256 + 100, maxBatch: 90);
        long size = twin.Leaves.Count;

        // Level 0: the leaf hashes, 256 to a tile, the last one partial.
        for (long tile = 0; tile * 256 < size; tile++)
        {
            int width = (int)Math.Min(256, size - (tile * 256));
            byte[] expected = [.. Enumerable.Range((int)(tile * 256), width).SelectMany(i => Rfc9162Reference.LeafHash(twin.Leaves[i]))];
            Assert.Equal(expected, twin.Log.ReadTile(0, tile, width));
            Assert.Equal(expected.AsSpan(0, 32).ToArray(), twin.Log.ReadTile(0, tile, 1));
        }

        // Level 1: the roots of each complete run of 256 leaves (the tree's height-8 nodes).
        int full = (int)(size / 256);
        byte[] level1 = [.. Enumerable.Range(0, full).SelectMany(k => Rfc9162Reference.Mth(twin.Leaves, k * 256, (k + 1) * 256))];
        Assert.Equal(level1, twin.Log.ReadTile(1, 0, full));
        var perfect = (ISubtreeHashes)twin.Reference;
        byte[] fromReference = new byte[MerkleHashes.Size];
        for (int k = 0; k < full; k++)
        {
            perfect.Perfect(8, k, fromReference);
            Assert.Equal(fromReference, level1.AsSpan(k * 32, 32).ToArray());
        }

        // No hash past the published tree.
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.ReadTile(0, size / 256, (int)(size % 256) + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.ReadTile(1, 0, full + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.ReadTile(2, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.ReadTile(0, 0, 257));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.ReadTile(8, 0, 1));
    }

    [Fact]
    public void Lookups_EveryLeafAndTimestamp_FindTheRightLeaf()
    {
        using AuditLogTwin twin = Twin(19);
        twin.Append(0);
        twin.Append(0);
        twin.GrowTo(500, maxBatch: 25);
        twin.Append(0);

        for (int i = 0; i < twin.Leaves.Count; i++)
        {
            Assert.Equal(twin.Leaves[i], twin.ReadLeaf(i));
            Assert.Equal(i, twin.Log.FindLeafByTimestamp(twin.Timestamps[i]));
            Assert.True(AuditLeaf.TryParse(twin.ReadLeaf(i), out AuditLeaf leaf, out _));
            Assert.Equal(twin.Timestamps[i], leaf.Timestamp);
        }

        foreach (AuditLogTwin.BatchInfo batch in twin.Batches)
        {
            for (int e = 0; e < batch.Count; e++)
            {
                long index = twin.Log.FindLeaf(batch.BatchNumber, e);
                Assert.Equal(batch.FirstLeaf + e, index);
                Assert.True(AuditLeaf.TryParse(twin.ReadLeaf(index), out AuditLeaf leaf, out _));
                Assert.Equal(batch.BatchNumber, leaf.BatchNumber);
                Assert.Equal(e, leaf.EventIndex);
                Assert.Equal(batch.Operation, leaf.Operation);
            }

            Assert.Equal(-1, twin.Log.FindLeaf(batch.BatchNumber, batch.Count));
            Assert.Equal(-1, twin.Log.FindLeaf(batch.BatchNumber, -1));
        }

        // Timestamps no event has: gaps, empty batches, before the first batch and after the last.
        Assert.NotEmpty(twin.TimestampsWithoutLeaf);
        foreach (ulong timestamp in twin.TimestampsWithoutLeaf)
        {
            Assert.Equal(-1, twin.Log.FindLeafByTimestamp(timestamp));
        }

        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(0));
        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(twin.Batches[0].FirstTimestamp - 1));
        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(twin.Timestamps[^1] + 1));
        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(ulong.MaxValue));
        Assert.Equal(-1, twin.Log.FindLeaf(0, 0));
        Assert.Equal(-1, twin.Log.FindLeaf((ulong)twin.Batches.Count + 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.ReadLeaf(twin.Leaves.Count));
    }

    [Fact]
    public void Lookups_AnEmptyLog_FindNothing()
    {
        using AuditLogTwin twin = Twin(23);
        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(1_001));
        Assert.Equal(-1, twin.Log.FindLeaf(1, 0));
        twin.Append(0);
        Assert.Equal(-1, twin.Log.FindLeafByTimestamp(twin.Batches[0].FirstTimestamp));
        Assert.Equal(-1, twin.Log.FindLeaf(1, 0));
        Assert.Equal(0, twin.Log.Size);
        Assert.Equal(1UL, twin.Log.BatchCount);
        Assert.Equal(MerkleHashes.EmptyRoot.ToArray(), twin.LogCurrentRoot());
    }

    [Fact]
    public void AppendBatch_OutOfOrder_Throws()
    {
        using AuditLogTwin twin = Twin(29);
        twin.Append(3);
        Assert.Throws<AuditLogException>(() => twin.Log.AppendBatch(3, BatchOperation.CreateTransfers, 5_000, new byte[128], 128, new uint[] { 0u }));
        Assert.Throws<AuditLogException>(() => twin.Log.AppendBatch(1, BatchOperation.CreateTransfers, 5_000, new byte[128], 128, new uint[] { 0u }));
        Assert.Equal(3, twin.Log.Size);
    }

    [Fact]
    public void Proofs_PastThePublishedTree_Throw()
    {
        using AuditLogTwin twin = Twin(31);
        twin.GrowTo(10);
        long size = twin.Leaves.Count;
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.GetInclusionProof(0, size + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.GetInclusionProof(size, size));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.GetInclusionProof(-1, size));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.GetConsistencyProof(1, size + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.Log.GetConsistencyProof(2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => twin.LogRoot(size + 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(600)]
    public void Restore_TheCapturedStateAfterAReopen_ContinuesIdentically(int atLeast)
    {
        using AuditLogTwin twin = Twin(37 + atLeast);
        twin.GrowTo(atLeast, maxBatch: 33);
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        Assert.Equal(twin.Leaves.Count, state.TreeSize);
        Assert.Equal((ulong)twin.Batches.Count, state.BatchCount);

        // Batches after the snapshot reach the files too; the restore cuts them (replay would append them again).
        twin.GrowTo(twin.Leaves.Count + 100, maxBatch: 33);
        twin.ReopenAt(state);
        Assert.Equal(state.TreeSize, twin.Log.Size);
        Assert.Equal(state.TreeSize, twin.Log.PublishedSize);
        Assert.Equal(state.BatchCount, twin.Log.BatchCount);
        Assert.Equal(twin.ReferenceRoot(state.TreeSize), twin.LogCurrentRoot());
        Assert.Equal(state.Frontier.ToArray(), twin.Log.CaptureState().Frontier.ToArray());
        Assert.Equal(state.TreeSize * sizeof(uint), new FileInfo(Path.Combine(twin.Directory, "results.bin")).Length);

        // It goes on as if it had never closed.
        twin.GrowTo(twin.Leaves.Count + 300, maxBatch: 33);
        Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
        var random = new Random(atLeast);
        for (int size = 0; size <= twin.Leaves.Count; size++)
        {
            Assert.Equal(twin.ReferenceRoot(size), twin.LogRoot(size));
            if (size > 0)
            {
                long i = random.NextInt64(size);
                Assert.Equal(twin.Reference.GetInclusionProof(i, size), twin.Log.GetInclusionProof(i, size));
                long m = random.NextInt64(size + 1);
                Assert.Equal(twin.Reference.GetConsistencyProof(m, size), twin.Log.GetConsistencyProof(m, size));
            }
        }

        for (int i = 0; i < twin.Leaves.Count; i++)
        {
            Assert.Equal(twin.Leaves[i], twin.ReadLeaf(i));
            Assert.Equal(i, twin.Log.FindLeafByTimestamp(twin.Timestamps[i]));
        }

        foreach (AuditLogTwin.BatchInfo batch in twin.Batches.Where(b => b.Count > 0))
        {
            Assert.Equal(batch.FirstLeaf + batch.Count - 1, twin.Log.FindLeaf(batch.BatchNumber, batch.Count - 1));
        }
    }

    [Fact]
    public void Restore_TheEmptyState_EmptiesTheFiles()
    {
        using AuditLogTwin twin = Twin(41);
        twin.GrowTo(300);
        twin.ReopenAt(AuditSnapshotState.Empty);
        Assert.Equal(0, twin.Log.Size);
        Assert.Equal(0UL, twin.Log.BatchCount);
        Assert.All(System.IO.Directory.GetFiles(twin.Directory), file => Assert.Equal(0, new FileInfo(file).Length));
        twin.GrowTo(50);
        Assert.Equal(twin.ReferenceRoot(twin.Leaves.Count), twin.LogCurrentRoot());
    }

    [Theory]
    [InlineData(200)]   // all of it under the frontier's level-0 subtrees
    [InlineData(600)]   // 512 + 64 + 16 + 8: level 1's first two hashes, and level 0 from leaf 512 on
    [InlineData(1000)]  // 512 + 256 + 128 + 64 + 32 + 8
    public void Restore_AFlippedByteInAHashTheFrontierCovers_IsRefused(int size)
    {
        using AuditLogTwin twin = Twin(43);
        while (twin.Leaves.Count < size)
        {
            twin.Append(Math.Min(17, size - twin.Leaves.Count));
        }

        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        twin.Log.Dispose();

        // Each hash the restore recomputes the frontier from, one at a time, with one byte flipped (the byte varies).
        var checkedHashes = new List<(int Level, long Index)>();
        for (int height = 30; height >= 0; height--)
        {
            long start = size & ~((2L << height) - 1);
            if ((size & (1L << height)) == 0)
            {
                continue;
            }

            int level = height / 8;
            int rest = height % 8;
            long first = start >> (level * 8);
            for (long k = 0; k < 1L << rest; k++)
            {
                checkedHashes.Add((level, first + k));
            }
        }

        Assert.Equal(size % 256 + (size / 256 % 256), checkedHashes.Count);
        foreach ((int level, long index) in checkedHashes)
        {
            string file = Path.Combine(twin.Directory, $"hashes-{level}.bin");
            long at = (index * 32) + (index % 32);
            FlipByte(file, at);
            using (AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os))
            {
                AuditLogException e = Assert.Throws<AuditLogException>(() => reopened.Restore(state));
                Assert.Contains("disagree", e.Message, StringComparison.Ordinal);
            }

            FlipByte(file, at);
        }

        // Unchanged, the files restore.
        using AuditLog intact = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        intact.Restore(state);
        Assert.Equal(size, intact.Size);
    }

    [Fact]
    public void Restore_AFlippedLevel0HashUnderAFullTile_IsNotCheckedButNoProofThroughItVerifies()
    {
        // What the restore does not read (it checks the frontier, O(log n) reads, not every tile): a level-0 hash under a
        // complete level-1 hash. Such damage is not found at open, but it never yields a proof that verifies: every
        // proof that uses the hash fails, and the others are untouched.
        using AuditLogTwin twin = Twin(47);
        twin.GrowTo(300);
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        long size = state.TreeSize;
        twin.Log.Dispose();
        FlipByte(Path.Combine(twin.Directory, "hashes-0.bin"), (5 * 32) + 3);
        twin.ReopenAt(state);

        byte[] root = twin.ReferenceRoot(size);
        Assert.Equal(root, twin.LogCurrentRoot());
        for (long i = 0; i < size; i++)
        {
            byte[] proof = twin.Log.GetInclusionProof(i, size);
            bool verifies = MerkleProofs.VerifyInclusion(i, size, Rfc9162Reference.LeafHash(twin.Leaves[(int)i]), proof, root);
            Assert.Equal(proof.AsSpan().SequenceEqual(twin.Reference.GetInclusionProof(i, size)), verifies);
            Assert.Equal(i is >= 256 or 5, verifies);
        }
    }

    [Theory]
    [InlineData("hashes-0.bin", 32)]
    [InlineData("hashes-0.bin", 1)]
    [InlineData("hashes-1.bin", 1)]
    [InlineData("results.bin", 1)]
    [InlineData("batches.bin", 1)]
    [InlineData("hashes-0.bin", -1)]
    public void Restore_AFileCutBelowTheSnapshot_IsRefused(string name, int cut)
    {
        using AuditLogTwin twin = Twin(53);
        twin.GrowTo(700);
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        twin.Log.Dispose();

        string file = Path.Combine(twin.Directory, name);
        using (FileStream stream = File.Open(file, FileMode.Open))
        {
            stream.SetLength(cut < 0 ? 0 : stream.Length - cut);
        }

        using AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        Assert.Throws<AuditLogException>(() => reopened.Restore(state));
    }

    [Fact]
    public void Restore_AStateFromAnotherTree_IsRefused()
    {
        using AuditLogTwin other = Twin(59, "other");
        other.GrowTo(300);
        AuditSnapshotState foreign = other.Log.CaptureState();

        using AuditLogTwin twin = Twin(61);
        twin.GrowTo(foreign.TreeSize + 10);
        twin.Log.Flush();
        AuditSnapshotState own = twin.Log.CaptureState();
        twin.Log.Dispose();
        using AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        Assert.Throws<AuditLogException>(() => reopened.Restore(foreign with { BatchCount = 0, CheckpointsLength = 0 }));
        reopened.Restore(own);
    }

    [Fact]
    public void Proofs_FromTheLogWithAnyBitFlipped_AreRejected()
    {
        using AuditLogTwin twin = Twin(67);
        twin.GrowTo(300);
        long size = twin.Leaves.Count;
        byte[] root = twin.LogCurrentRoot();
        foreach (long index in new long[] { 0, 1, 100, 255, 256, size - 1 })
        {
            byte[] leaf = Rfc9162Reference.LeafHash(twin.Leaves[(int)index]);
            byte[] proof = twin.Log.GetInclusionProof(index, size);
            Assert.True(MerkleProofs.VerifyInclusion(index, size, leaf, proof, root));
            for (int bit = 0; bit < proof.Length * 8; bit++)
            {
                proof[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof, root), $"leaf {index}, bit {bit}");
                proof[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof.AsSpan(32).ToArray(), root));
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof.AsSpan(0, proof.Length - 32).ToArray(), root));
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, [.. proof, .. leaf], root));
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, [.. proof, 0], root));
            Assert.False(MerkleProofs.VerifyInclusion(index, size - 1, leaf, proof, twin.LogRoot(size - 1)));
            Assert.False(MerkleProofs.VerifyInclusion(index ^ 1, size, leaf, proof, root));
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf, proof, twin.LogRoot(size - 1)));
        }

        foreach ((long m, long n) in new[] { (1L, size), (5L, 300L), (256L, 299L), (257L, size), (128L, 256L) })
        {
            byte[] proof = twin.Log.GetConsistencyProof(m, n);
            byte[] root1 = twin.LogRoot(m);
            byte[] root2 = twin.LogRoot(n);
            Assert.True(MerkleProofs.VerifyConsistency(m, n, root1, root2, proof));
            for (int bit = 0; bit < proof.Length * 8; bit++)
            {
                proof[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(MerkleProofs.VerifyConsistency(m, n, root1, root2, proof), $"{m} to {n}, bit {bit}");
                proof[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.False(MerkleProofs.VerifyConsistency(m, n, root1, root2, proof.AsSpan(32).ToArray()));
            Assert.False(MerkleProofs.VerifyConsistency(m, n, root1, root2, [.. proof, .. root1]));
            Assert.False(MerkleProofs.VerifyConsistency(m - 1, n, twin.LogRoot(m - 1), root2, proof));
            Assert.False(MerkleProofs.VerifyConsistency(m, n - 1, root1, twin.LogRoot(n - 1), proof));
        }
    }

    [Fact]
    public void CheckpointRecords_AreReadBackAndATornLastOneIsCut()
    {
        using AuditLogTwin twin = Twin(71);
        twin.GrowTo(10);
        twin.Log.AppendCheckpoint(1, "first\n\n\u2014 a b\n");
        twin.Log.AppendCheckpoint(4, "second\n");
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        twin.Log.Dispose();

        string file = Path.Combine(twin.Directory, "checkpoints.bin");
        byte[] bytes = File.ReadAllBytes(file);
        List<(long Offset, ulong BatchNumber, string Note)> records = AuditLog.ReadCheckpointRecords(bytes, out long end);
        Assert.Equal(new List<(ulong, string)> { (1UL, "first\n\n\u2014 a b\n"), (4UL, "second\n") }, records.Select(r => (r.BatchNumber, r.Note)).ToList());
        Assert.Equal([0L, AuditLog.CheckpointFraming + Encoding.UTF8.GetByteCount("first\n\n\u2014 a b\n")], records.Select(r => r.Offset));
        Assert.Equal(bytes.Length, end);

        // A record whose bytes stop short (its write torn) ends the records; its length field alone too.
        byte[] torn = [.. bytes, 9, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, (byte)'x'];
        Assert.Equal(2, AuditLog.ReadCheckpointRecords(torn, out long tornEnd).Count);
        Assert.Equal(bytes.Length, tornEnd);
        Assert.Equal(2, AuditLog.ReadCheckpointRecords([.. bytes, 9, 0], out _).Count);
        Assert.Equal(2, AuditLog.ReadCheckpointRecords([.. bytes, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], out _).Count);

        // A record whose CRC does not match its bytes ends them too (a lost sector), and so does each byte of a record changed.
        for (int at = 0; at < bytes.Length / 2; at++)
        {
            byte[] changed = [.. bytes];
            changed[at] ^= 0x20;
            Assert.Empty(AuditLog.ReadCheckpointRecords(changed, out long changedEnd));
            Assert.Equal(0, changedEnd);
        }

        File.WriteAllBytes(file, torn);
        using AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        reopened.Restore(state);
        Assert.Equal((4UL, "second\n"), reopened.RecoveredCheckpoint);
        Assert.Equal(bytes.Length, reopened.CheckpointsLength);
        Assert.Equal(bytes.Length, new FileInfo(file).Length);
    }

    [Fact]
    public void Restore_ACheckpointRecordWithALostSectorInItsNote_IsCutWithEverythingAfterIt()
    {
        // Found by AuditPowerLossTests (seed 0): records appended after the last flush are not durable, and a power cut
        // keeps or loses each of their sectors, so a record can keep its length field and lose part of its note (zeros),
        // with intact records after it. Such a record must be cut like a short one, not recovered as a note that then
        // fails to verify and stops the ledger from opening.
        using AuditLogTwin twin = Twin(79);
        twin.GrowTo(10);
        twin.Log.AppendCheckpoint(1, "durable\n");
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        long durable = twin.Log.CheckpointsLength;
        twin.Log.AppendCheckpoint(2, "torn " + new string('x', 600) + "\n");
        twin.Log.AppendCheckpoint(3, "kept after the torn one\n");
        twin.Log.Dispose();

        string file = Path.Combine(twin.Directory, "checkpoints.bin");
        byte[] bytes = File.ReadAllBytes(file);
        Array.Clear(bytes, (int)durable + 100, 50);
        File.WriteAllBytes(file, bytes);

        using AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        reopened.Restore(state);
        Assert.Equal((1UL, "durable\n"), reopened.RecoveredCheckpoint);
        Assert.Equal(durable, reopened.CheckpointsLength);
        Assert.Equal(durable, new FileInfo(file).Length);
    }

    [Fact]
    public void Restore_ACheckpointRecordWithAStaleBatchNumber_IsCut()
    {
        // The record's first bytes (length, batch) and its note can lie in different sectors: a lost batch number with
        // the note kept must not give a checkpoint that names the wrong batch.
        using AuditLogTwin twin = Twin(83);
        twin.GrowTo(10);
        twin.Log.Flush();
        AuditSnapshotState state = twin.Log.CaptureState();
        twin.Log.AppendCheckpoint(0x0102030405060708, "a note\n");
        twin.Log.Dispose();

        string file = Path.Combine(twin.Directory, "checkpoints.bin");
        byte[] bytes = File.ReadAllBytes(file);
        Array.Clear(bytes, 4, 8);
        File.WriteAllBytes(file, bytes);

        using AuditLog reopened = AuditLog.Open(twin.Directory, StoreFileSystem.Os);
        reopened.Restore(state);
        Assert.Null(reopened.RecoveredCheckpoint);
        Assert.Equal(0, reopened.CheckpointsLength);
    }

    [Fact]
    public void BatchRecords_FollowTheirByteTable()
    {
        using AuditLogTwin twin = Twin(73);
        twin.Append(3);
        twin.Append(0);
        twin.Append(2, eventSize: 24);
        twin.Log.Dispose();
        byte[] records = File.ReadAllBytes(Path.Combine(twin.Directory, "batches.bin"));
        Assert.Equal(3 * AuditLog.BatchRecordSize, records.Length);
        for (int n = 0; n < 3; n++)
        {
            AuditLogTwin.BatchInfo batch = twin.Batches[n];
            ReadOnlySpan<byte> r = records.AsSpan(n * AuditLog.BatchRecordSize, AuditLog.BatchRecordSize);
            Assert.Equal(batch.FirstLeaf, BinaryPrimitives.ReadInt64LittleEndian(r));
            Assert.Equal(batch.FirstTimestamp, BinaryPrimitives.ReadUInt64LittleEndian(r[8..]));
            Assert.Equal(batch.BatchNumber, BinaryPrimitives.ReadUInt64LittleEndian(r[16..]));
            Assert.Equal(batch.Count, BinaryPrimitives.ReadInt32LittleEndian(r[24..]));
            Assert.Equal(batch.EventSize, BinaryPrimitives.ReadInt32LittleEndian(r[28..]));
            Assert.Equal((ushort)batch.Operation, BinaryPrimitives.ReadUInt16LittleEndian(r[32..]));
            Assert.True(r[34..].IndexOfAnyExcept((byte)0) < 0);
        }

        // results.bin: each leaf's result code, 4 bytes, in leaf order.
        byte[] results = File.ReadAllBytes(Path.Combine(twin.Directory, "results.bin"));
        Assert.Equal(twin.Leaves.Count * sizeof(uint), results.Length);
        for (int i = 0; i < twin.Leaves.Count; i++)
        {
            Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(twin.Leaves[i].AsSpan(4)), BinaryPrimitives.ReadUInt32LittleEndian(results.AsSpan(i * sizeof(uint))));
        }
    }

    private static void FlipByte(string file, long offset)
    {
        using FileStream stream = File.Open(file, FileMode.Open);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x40));
    }
}
