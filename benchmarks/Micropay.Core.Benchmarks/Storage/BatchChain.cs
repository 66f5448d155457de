using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Storage;

/// <summary>
/// Batches 1..N, each chained to the hash of the one before, built once so that a measured append does no hashing
/// or encoding of its own beyond what the store does. All batches share one buffer of random event records (storage
/// treats events as opaque bytes, and nothing here compresses), so a chain of large batches costs little memory.
/// </summary>
public sealed class BatchChain
{
    private BatchChain(CommitBatch[] batches, byte[][] encoded, int eventsPerBatch)
    {
        Batches = batches;
        Encoded = encoded;
        EventsPerBatch = eventsPerBatch;
    }

    /// <summary>The batches; <c>Batches[i]</c> is batch number <c>i + 1</c>.</summary>
    public CommitBatch[] Batches { get; }

    /// <summary>Each batch's encoded bytes, what the raw-file baselines write.</summary>
    public byte[][] Encoded { get; }

    /// <summary>The events in each batch.</summary>
    public int EventsPerBatch { get; }

    /// <summary>The events in the whole chain.</summary>
    public long EventCount => (long)Batches.Length * EventsPerBatch;

    /// <summary>Builds a chain of <paramref name="batchCount"/> batches of <paramref name="eventsPerBatch"/> events each.</summary>
    /// <param name="batchCount">How many batches.</param>
    /// <param name="eventsPerBatch">Events per batch.</param>
    /// <returns>The chain.</returns>
    public static BatchChain Create(int batchCount, int eventsPerBatch)
    {
        byte[] events = new byte[eventsPerBatch * CommitBatch.EventSize];
        new Random(42).NextBytes(events);
        var batches = new CommitBatch[batchCount];
        var encoded = new byte[batchCount][];
        BatchHash previous = BatchHash.Zero;
        for (int i = 0; i < batchCount; i++)
        {
            var header = new CommitBatchHeader((ulong)i + 1, BatchOperation.CreateTransfers, 1_000_000UL * (ulong)(i + 1), eventsPerBatch, previous, BatchHash.Zero);
            batches[i] = new CommitBatch(header, events);
            encoded[i] = new byte[batches[i].EncodedLength];
            batches[i].Encode(encoded[i]);
            previous = BatchHash.Compute(encoded[i]);
        }

        return new BatchChain(batches, encoded, eventsPerBatch);
    }

    /// <summary>A fresh, empty temporary directory for one store.</summary>
    /// <returns>Its path.</returns>
    public static string NewDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "micropay-storage-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Deletes a directory made by <see cref="NewDirectory"/>, if it is there.</summary>
    /// <param name="directory">The directory, or null.</param>
    public static void DeleteDirectory(string? directory)
    {
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Waits for a <see cref="ValueTask"/> without allocating when it has already completed (as the stores' appends do).</summary>
    /// <param name="task">The task.</param>
    public static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Opens a store and checks it reports an empty journal.</summary>
    /// <param name="store">A store over a new location.</param>
    /// <returns>The store.</returns>
    public static ILedgerStore OpenEmpty(ILedgerStore store)
    {
        ValueTask<LedgerStoreState> open = store.OpenAsync();
        LedgerStoreState state = open.IsCompletedSuccessfully ? open.Result : open.AsTask().GetAwaiter().GetResult();
        if (state.LastBatchNumber != 0)
        {
            throw new InvalidOperationException($"A new store reports batch {state.LastBatchNumber}.");
        }

        return store;
    }
}
