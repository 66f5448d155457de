// CustomStorageAdapter: plugging your own storage under the ledger.
//
// The ledger engine keeps its journal in an ILedgerStore. Micropay.Core ships FileLedgerStore; this sample shows
// an adapter an integrator could write for their own storage, here a SQLite database (SqliteLedgerStore.cs), and
// uses it the way the engine does: open, append chained batches, reopen after a "restart", replay.
//
// Every result is checked. CI runs this program: any mismatch makes it exit with code 1.

using System.Buffers;
using CustomStorageAdapter;
using Micropay.Core.Storage;

int failures = 0;
void Check(bool condition, string what)
{
    Console.WriteLine($"  {(condition ? "ok  " : "FAIL")} {what}");
    if (!condition)
    {
        failures++;
    }
}

// A fresh directory for the database (and SQLite's -wal and -shm files beside it); deleted at the end.
string directory = Path.Combine(Path.GetTempPath(), "micropay-sqlite-sample-" + Guid.NewGuid().ToString("N"));
string databasePath = Path.Combine(directory, "ledger.db");

try
{
    // ---------------------------------------------------------------------------------------------------------
    // 1. Open an empty store and append three chained batches.
    // ---------------------------------------------------------------------------------------------------------
    Console.WriteLine($"1. A new store at {databasePath}");
    var appended = new List<(CommitBatchHeader Header, byte[] Events, BatchHash Hash)>();
    await using (var store = new SqliteLedgerStore(databasePath))
    {
        // OpenAsync is always called first: it says what is durable (nothing yet).
        LedgerStoreState state = await store.OpenAsync();
        Check(state.LastBatchNumber == 0 && state.LastBatchHash == BatchHash.Zero, "an empty store reports batch 0 and the zero hash");

        BatchHash previous = state.LastBatchHash;
        int[] eventCounts = [3, 1, 5];
        for (int i = 0; i < eventCounts.Length; i++)
        {
            // A batch is a 128-byte header and N 128-byte event records. The engine fills the events with the
            // accounts or transfers it applied; storage treats them as opaque bytes, so any bytes do here.
            byte[] events = new byte[eventCounts[i] * CommitBatch.EventSize];
            Random.Shared.NextBytes(events);
            var header = new CommitBatchHeader(
                batchNumber: (ulong)i + 1,         // 1, 2, 3, ... without gaps
                operation: BatchOperation.CreateTransfers,
                timestamp: 1_000_000_000UL * (ulong)(i + 1),
                eventCount: eventCounts[i],
                previousBatchHash: previous,      // chains this batch to the one before
                auditRoot: BatchHash.Zero);
            var batch = new CommitBatch(header, events);

            // AppendAsync completes only once the batch is durable (here: committed to SQLite's fsync'd log).
            await store.AppendAsync(batch);

            // The next batch chains to the SHA-256 of this one's encoded bytes.
            byte[] encoded = new byte[batch.EncodedLength];
            batch.Encode(encoded);
            previous = BatchHash.Compute(encoded);
            appended.Add((header, events, previous));
            Console.WriteLine($"  appended {header}, hash {previous.ToString()[..16]}...");
        }

        // A retry of a batch that is already durable (say, from a caller that timed out waiting, or one that reopened the
        // store after a failed append) is answered without writing twice.
        await store.AppendAsync(new CommitBatch(appended[^1].Header, appended[^1].Events));
        Check(true, "retrying the last batch with the same bytes completes (and stores nothing twice: see the replay below)");

        // A batch that does not chain to the last one is a caller bug: ArgumentException.
        var unchained = new CommitBatchHeader(4, BatchOperation.CreateTransfers, 5_000_000_000, 0, BatchHash.Zero, BatchHash.Zero);
        try
        {
            await store.AppendAsync(new CommitBatch(unchained, ReadOnlyMemory<byte>.Empty));
            Check(false, "a batch with the wrong previous hash is refused");
        }
        catch (ArgumentException)
        {
            Check(true, "a batch with the wrong previous hash is refused");
        }

        // Snapshots are optional; this store has them. A state comes as a ReadOnlySequence<byte> of any length (the
        // engine passes segments past what one array holds); one buffer works too (LedgerStoreExtensions).
        await store.WriteSnapshotAsync(2, "ledger state after batch 2"u8.ToArray());
    }

    // ---------------------------------------------------------------------------------------------------------
    // 2. "Restart": a new store over the same file reports what is durable, and replays it.
    // ---------------------------------------------------------------------------------------------------------
    Console.WriteLine("2. Reopened");
    await using (var store = new SqliteLedgerStore(databasePath))
    {
        LedgerStoreState state = await store.OpenAsync();
        Console.WriteLine($"  last batch {state.LastBatchNumber}, latest snapshot after batch {state.LatestSnapshotBatchNumber}");
        Check(state.LastBatchNumber == 3, "the three batches are durable");
        Check(state.LastBatchHash == appended[^1].Hash, "the reported hash is the last batch's");
        Check(state.LatestSnapshotBatchNumber == 2, "the snapshot is durable");

        // The snapshot read is the caller's to dispose (a store may lend memory); its state may be in several segments.
        using (LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync())
        {
            Check(snapshot is { BatchNumber: 2 } s && s.State.ToArray().AsSpan().SequenceEqual("ledger state after batch 2"u8), "the snapshot reads back intact");
        }

        // Recovery: load the snapshot, then replay the journal from the batch after it. (Here: the whole journal.)
        int replayed = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            var (header, events, _) = appended[replayed];

            // batch.Events is only valid until the loop moves on: copy what you keep.
            Check(batch.Header == header && batch.Events.Span.SequenceEqual(events), $"replayed {batch.Header}");
            replayed++;
        }

        Check(replayed == appended.Count, $"replay returned {replayed} of {appended.Count} batches");
    }
}
finally
{
    Directory.Delete(directory, recursive: true);
}

Console.WriteLine(failures == 0 ? "All checks passed." : $"{failures} check(s) FAILED.");
return failures == 0 ? 0 : 1;
