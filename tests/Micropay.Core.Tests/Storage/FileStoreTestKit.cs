using Micropay.Core.CrashHarness;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage;

/// <summary>A temporary store directory per test, and helpers to fill and check a store.</summary>
public abstract class FileStoreTestKit : TemporaryDirectoryTest
{
    protected FileStoreTestKit()
        : base("micropay-file-store-")
    {
    }

    protected static FileLedgerStoreOptions SmallSegments(long bytes = 4096) => new() { SegmentSizeBytes = bytes };

    protected async Task<FileLedgerStore> OpenAsync(FileLedgerStoreOptions? options = null, string? directory = null)
    {
        var store = new FileLedgerStore(directory ?? Directory, options);
        try
        {
            await store.OpenAsync();
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Appends CrashBatches <paramref name="first"/>.. <paramref name="last"/> chained to <paramref name="previous"/>.</summary>
    protected static async Task<BatchHash> AppendRangeAsync(ILedgerStore store, ulong first, ulong last, BatchHash previous)
    {
        for (ulong n = first; n <= last; n++)
        {
            CommitBatch batch = CrashBatches.Create(n, previous);
            await store.AppendAsync(batch);
            previous = CrashBatches.Hash(batch);
        }

        return previous;
    }

    /// <summary>Reads the whole journal from batch 1 and checks it is exactly <paramref name="expected"/>, headers and events.</summary>
    protected static async Task AssertReadsBackAsync(ILedgerStore store, CommitBatch[] expected)
    {
        int i = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            Assert.True(i < expected.Length, $"the journal holds more than the {expected.Length} batches expected");
            Assert.Equal(expected[i].Header, batch.Header);
            Assert.True(expected[i].Events.Span.SequenceEqual(batch.Events.Span), $"batch {i + 1}'s events differ");
            i++;
        }

        Assert.Equal(expected.Length, i);
    }

    /// <summary>The hash chain of CrashBatches 1..<paramref name="count"/>: element i is the hash of batch i (element 0 is zero).</summary>
    protected static BatchHash[] ChainHashes(ulong count)
    {
        var hashes = new BatchHash[count + 1];
        for (ulong n = 1; n <= count; n++)
        {
            hashes[n] = CrashBatches.Hash(CrashBatches.Create(n, hashes[n - 1]));
        }

        return hashes;
    }

    /// <summary>Reads the whole journal from <paramref name="from"/> and checks it is exactly CrashBatches from..last.</summary>
    protected static async Task AssertHoldsCrashBatchesAsync(ILedgerStore store, ulong from, ulong last)
    {
        BatchHash[] hashes = ChainHashes(last);
        ulong expected = from;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(from))
        {
            Assert.Equal(expected, batch.BatchNumber);
            CommitBatch original = CrashBatches.Create(expected, hashes[expected - 1]);
            byte[] a = new byte[original.EncodedLength];
            byte[] b = new byte[batch.EncodedLength];
            original.Encode(a);
            batch.Encode(b);
            Assert.True(a.AsSpan().SequenceEqual(b), $"batch {expected} differs from what was appended");
            expected++;
        }

        Assert.Equal(last + 1, expected);
    }

    protected string[] SegmentFiles() =>
        [.. System.IO.Directory.GetFiles(Directory, "segment-*.seg").Order(StringComparer.Ordinal)];

    /// <summary>The file offsets of the records in a segment: start of each record, plus the end of the last.</summary>
    protected static List<long> RecordOffsets(string segmentPath)
    {
        byte[] bytes = File.ReadAllBytes(segmentPath);
        var offsets = new List<long>();
        long offset = FileLedgerStore.FileHeaderSize;
        while (offset < bytes.Length)
        {
            offsets.Add(offset);
            offset += FileLedgerStore.FrameSize + BitConverter.ToUInt32(bytes, (int)offset + 4);
        }

        offsets.Add(offset);
        return offsets;
    }
}
