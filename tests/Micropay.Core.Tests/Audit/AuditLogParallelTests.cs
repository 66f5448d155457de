using Micropay.Core.Audit;
using Micropay.Core.Storage;
using Xunit;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// Large batches are hashed on two threads (leaf hashes and complete 256-leaf blocks, then joined into the compact
/// range): the tree, the tiles and the proofs must be exactly those of the in-memory reference, whatever the batch's
/// alignment to the blocks.
/// </summary>
public sealed class AuditLogParallelTests() : TemporaryDirectoryTest("mp-auditlog-par-")
{
    [Theory]
    [InlineData(new[] { 3000, 1, 4095, 1024, 257, 5000 })]
    [InlineData(new[] { 255, 2048, 1, 1, 1023, 4096 })]
    [InlineData(new[] { 1024, 1024, 0, 3333 })]
    public void Batches_HashedOnTwoThreads_GiveTheReferenceTreeTilesAndProofs(int[] batchSizes)
    {
        var random = new Random(batchSizes.Sum());
        var reference = new MerkleLog();
        var leaves = new List<byte[]>();
        using var log = AuditLog.Open(Directory, StoreFileSystem.Os);
        log.Restore(AuditSnapshotState.Empty);
        ulong batch = 0;
        ulong timestamp = 1000;
        byte[] root = new byte[32];
        byte[] expected = new byte[32];
        foreach (int count in batchSizes)
        {
            byte[] events = new byte[count * 128];
            random.NextBytes(events);
            uint[] results = [.. Enumerable.Range(0, count).Select(_ => (uint)random.Next(3))];
            log.AppendBatch(++batch, BatchOperation.CreateTransfers, timestamp, events, 128, results);
            for (int i = 0; i < count; i++)
            {
                byte[] leaf = new AuditLeaf(BatchOperation.CreateTransfers, results[i], timestamp + (ulong)i, batch, i, events.AsMemory(i * 128, 128)).ToBytes();
                reference.AppendLeaf(leaf);
                leaves.Add(leaf);
            }

            timestamp += (ulong)count + 5;
            log.GetCurrentRoot(root);
            reference.GetRoot(expected);
            Assert.Equal(expected, root);
            Assert.Equal(reference.Size, log.Size);
        }

        long size = reference.Size;
        for (int k = 0; k < 200; k++)
        {
            long index = random.NextInt64(size);
            long at = index + 1 + random.NextInt64(size - index);
            Assert.Equal(reference.GetInclusionProof(index, at), log.GetInclusionProof(index, at));
            long older = 1 + random.NextInt64(at);
            Assert.Equal(reference.GetConsistencyProof(older, at), log.GetConsistencyProof(older, at));
        }

        // Level-1 tiles hold the roots of the complete 256-leaf subtrees, each equal to a reference tree of those 256 leaves.
        int blocks = (int)(size / 256);
        byte[] tile = log.ReadTile(1, 0, blocks);
        for (int t = 0; t < blocks; t++)
        {
            var block = new MerkleLog();
            foreach (byte[] leaf in leaves.Skip(t * 256).Take(256))
            {
                block.AppendLeaf(leaf);
            }

            block.GetRoot(expected);
            Assert.Equal(expected, tile.AsSpan(t * 32, 32).ToArray());
        }
    }
}
