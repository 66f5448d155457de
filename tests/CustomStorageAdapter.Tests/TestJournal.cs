using Micropay.Core.Storage;

namespace CustomStorageAdapter.Tests;

/// <summary>Builds chained batches with deterministic contents, and temporary directories for databases.</summary>
internal static class TestJournal
{
    /// <summary>Batches 1..<paramref name="count"/>, each chained to the one before, with <paramref name="eventsPerBatch"/> events.</summary>
    public static List<CommitBatch> Batches(int count, int eventsPerBatch = 2, int seed = 1)
    {
        var random = new Random(seed);
        var batches = new List<CommitBatch>(count);
        BatchHash previous = BatchHash.Zero;
        for (int i = 1; i <= count; i++)
        {
            byte[] events = new byte[eventsPerBatch * CommitBatch.EventSize];
            random.NextBytes(events);
            var header = new CommitBatchHeader((ulong)i, BatchOperation.CreateTransfers, (ulong)i * 1000, eventsPerBatch, previous, BatchHash.Zero);
            var batch = new CommitBatch(header, events);
            batches.Add(batch);
            previous = Hash(batch);
        }

        return batches;
    }

    public static byte[] Encode(CommitBatch batch)
    {
        byte[] bytes = new byte[batch.EncodedLength];
        batch.Encode(bytes);
        return bytes;
    }

    public static BatchHash Hash(CommitBatch batch) => BatchHash.Compute(Encode(batch));

    public static string NewDirectory() =>
        Path.Combine(Path.GetTempPath(), "micropay-sqlite-tests-" + Guid.NewGuid().ToString("N"));
}
