using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// <see cref="FileLedgerStoreOptions.DropJournalFromPageCache"/>: durable journal pages leave the page cache (but the
/// active segment's newest MiB), sealed segments leave it whole, and the journal reads back intact. Residency is read
/// with Linux's <c>mincore</c>; elsewhere the option does nothing and these tests only check the contents.
/// </summary>
public sealed partial class FileLedgerStorePageCacheTests : FileStoreTestKit
{
    private const int EventsPerBatch = 1_000; // 128 KB per batch
    private const int Batches = 80;           // ~10 MiB of journal

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AppendAsync_DropJournalFromPageCache_KeepsOnlyTheNewestPagesCached(bool drop)
    {
        CommitBatch[] batches = await AppendChainAsync(new FileLedgerStoreOptions { DropJournalFromPageCache = drop });

        string segment = Assert.Single(SegmentFiles());
        long length = new FileInfo(segment).Length;
        if (OperatingSystem.IsLinux())
        {
            long resident = ResidentBytes(segment);
            if (drop)
            {
                // At most the cached tail (1 MiB) plus one drop step (4 MiB) not yet dropped.
                Assert.True(resident <= (5L << 20) + 8192, $"{resident} of {length} bytes still cached");
            }
            else
            {
                // The control: without the option the whole journal just written is cached.
                Assert.True(resident >= length - 8192, $"only {resident} of {length} bytes cached");
            }
        }

        await using FileLedgerStore reopened = await OpenAsync();
        await AssertReadsBackAsync(reopened, batches);
    }

    [Fact]
    public async Task AppendAsync_DropJournalFromPageCache_DropsSealedSegmentsWhole()
    {
        // 1 MiB segments hold 8 batches of 128 KB each, so the 80 batches seal nine of them.
        CommitBatch[] batches = await AppendChainAsync(new FileLedgerStoreOptions { SegmentSizeBytes = 1L << 20, DropJournalFromPageCache = true });
        string[] segments = SegmentFiles();
        Assert.True(segments.Length > 5, $"{segments.Length} segments");
        if (OperatingSystem.IsLinux())
        {
            foreach (string sealedSegment in segments[..^1])
            {
                Assert.Equal(0, ResidentBytes(sealedSegment));
            }
        }

        await using FileLedgerStore reopened = await OpenAsync(new FileLedgerStoreOptions { SegmentSizeBytes = 1L << 20, DropJournalFromPageCache = true });
        await AssertReadsBackAsync(reopened, batches);
    }

    private async Task<CommitBatch[]> AppendChainAsync(FileLedgerStoreOptions options)
    {
        var batches = new CommitBatch[Batches];
        BatchHash previous = BatchHash.Zero;
        await using FileLedgerStore store = await OpenAsync(options);
        for (int i = 0; i < Batches; i++)
        {
            batches[i] = TestBatches.Create((ulong)i + 1, previous, EventsPerBatch);
            await store.AppendAsync(batches[i]);
            previous = TestBatches.Hash(batches[i]);
        }

        return batches;
    }

    /// <summary>The bytes of <paramref name="path"/> in the page cache, from <c>mincore</c> over a mapping of the file (which faults nothing in).</summary>
    private static long ResidentBytes(string path)
    {
        long length = new FileInfo(path).Length;
        using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        using MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        nint address = view.SafeMemoryMappedViewHandle.DangerousGetHandle();
        const int Page = 4096;
        byte[] resident = new byte[(length + Page - 1) / Page];
        if (MinCore(address, (nuint)length, resident) != 0)
        {
            throw new InvalidOperationException($"mincore failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return resident.Count(b => (b & 1) != 0) * (long)Page;
    }

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int MinCore(nint address, nuint length, [Out] byte[] vector);
}
