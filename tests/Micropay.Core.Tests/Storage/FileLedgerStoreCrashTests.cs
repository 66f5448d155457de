using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Storage;
using Xunit.Abstractions;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// Crash tests: a segment cut at every byte of its last two records, single-byte damage anywhere in a journal, and a
/// child process appending in a loop killed with SIGKILL at random moments.
/// </summary>
public sealed class FileLedgerStoreCrashTests : FileStoreTestKit
{
    private readonly ITestOutputHelper _output;

    public FileLedgerStoreCrashTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task OpenAsync_LastSegmentCutAtEveryOffsetOfItsLastTwoRecords_HoldsExactlyTheCompletePrefix()
    {
        const ulong count = 12;
        await using (FileLedgerStore store = await OpenAsync())
        {
            await AppendRangeAsync(store, 1, count, BatchHash.Zero);
        }

        string segment = SegmentFiles()[0];
        byte[] original = await File.ReadAllBytesAsync(segment);
        List<long> offsets = RecordOffsets(segment);
        Assert.Equal((int)count + 1, offsets.Count);
        for (long cut = offsets[^3]; cut < offsets[^1]; cut++)
        {
            await File.WriteAllBytesAsync(segment, original.AsMemory(0, (int)cut));
            ulong complete = (ulong)offsets.Count(end => end <= cut) - 1;
            await using (var store = new FileLedgerStore(Directory))
            {
                LedgerStoreState state = await store.OpenAsync();
                Assert.Equal(complete, state.LastBatchNumber);
                Assert.Equal(ChainHashes(complete)[complete], state.LastBatchHash);
                await AssertHoldsCrashBatchesAsync(store, 1, complete);
            }

            Assert.Equal(offsets[(int)complete], new FileInfo(segment).Length);
        }
    }

    [Fact]
    public async Task OpenAsync_LastSegmentCutInsideALargeLastRecord_HoldsExactlyTheCompletePrefix()
    {
        // Batch 16 is large: its payload is written before its frame, so a crash can leave either without the other.
        const ulong count = 16;
        await using (FileLedgerStore store = await OpenAsync())
        {
            await AppendRangeAsync(store, 1, count, BatchHash.Zero);
        }

        string segment = SegmentFiles()[0];
        byte[] original = await File.ReadAllBytesAsync(segment);
        List<long> offsets = RecordOffsets(segment);
        Assert.Equal((int)count + 1, offsets.Count);
        Assert.True(offsets[^1] - offsets[^2] > 64 * 1024, "The last record should be a large one.");
        var cuts = new List<long> { offsets[^2], offsets[^2] + 1, offsets[^2] + 31, offsets[^2] + 32, offsets[^2] + 33, offsets[^1] - 1 };
        for (long cut = offsets[^2]; cut < offsets[^1]; cut += 997)
        {
            cuts.Add(cut);
        }

        foreach (long cut in cuts)
        {
            await File.WriteAllBytesAsync(segment, original.AsMemory(0, (int)cut));
            await using (var store = new FileLedgerStore(Directory))
            {
                LedgerStoreState state = await store.OpenAsync();
                Assert.Equal(count - 1, state.LastBatchNumber);
                await AssertHoldsCrashBatchesAsync(store, 1, count - 1);
            }

            Assert.Equal(offsets[^2], new FileInfo(segment).Length);
        }

        // The frame written without its payload: zeros where the payload should be.
        byte[] frameOnly = original.AsSpan(0, (int)offsets[^1]).ToArray();
        frameOnly.AsSpan((int)offsets[^2] + 32).Clear();
        await File.WriteAllBytesAsync(segment, frameOnly);
        await using (var store = new FileLedgerStore(Directory))
        {
            Assert.Equal(count - 1, (await store.OpenAsync()).LastBatchNumber);
        }
    }

    [Fact]
    public async Task OpenAsync_AnySingleByteFlipped_IsDetectedOrDropsOnlyTheLastRecord()
    {
        const ulong count = 8;
        await using (FileLedgerStore store = await OpenAsync())
        {
            await AppendRangeAsync(store, 1, count, BatchHash.Zero);
        }

        string segment = SegmentFiles()[0];
        byte[] original = await File.ReadAllBytesAsync(segment);
        long lastRecord = RecordOffsets(segment)[^2];
        int detected = 0;
        int dropped = 0;
        for (int offset = 0; offset < original.Length; offset++)
        {
            byte[] damaged = (byte[])original.Clone();
            damaged[offset] ^= (byte)(1 << (offset % 8));
            await File.WriteAllBytesAsync(segment, damaged);
            await using var store = new FileLedgerStore(Directory);
            try
            {
                LedgerStoreState state = await store.OpenAsync();
                Assert.True(offset >= lastRecord, $"a flip at offset {offset} (before the last record) was accepted");
                Assert.Equal(count - 1, state.LastBatchNumber);
                await AssertHoldsCrashBatchesAsync(store, 1, count - 1);
                dropped++;
            }
            catch (LedgerStoreCorruptedException error)
            {
                Assert.Equal(segment, error.Location);
                Assert.InRange(error.Offset, 0, original.Length);
                detected++;
            }
        }

        Assert.True(detected > 0 && dropped > 0);
    }

    [Fact]
    public async Task OpenAsync_ByteFlippedInAnEarlierSegment_IsAlwaysDetected()
    {
        await using (FileLedgerStore store = await OpenAsync(SmallSegments()))
        {
            await AppendRangeAsync(store, 1, 30, BatchHash.Zero);
        }

        string[] segments = SegmentFiles();
        Assert.True(segments.Length >= 2);
        string segment = segments[0];
        byte[] original = await File.ReadAllBytesAsync(segment);
        for (int offset = 0; offset < original.Length; offset += 7)
        {
            byte[] damaged = (byte[])original.Clone();
            damaged[offset] ^= 0x01;
            await File.WriteAllBytesAsync(segment, damaged);
            await using var store = new FileLedgerStore(Directory, SmallSegments());
            var error = await Assert.ThrowsAsync<LedgerStoreCorruptedException>(async () => await store.OpenAsync());
            Assert.Equal(segment, error.Location);
        }
    }

    [Fact]
    public async Task OpenAsync_DirectoryHeldByAnotherProcess_ThrowsLedgerStoreException()
    {
        using Process holder = CrashHarnessProcess.Start("hold", Directory);
        try
        {
            string? line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("open", line);
            await using var store = new FileLedgerStore(Directory);
            var error = await Assert.ThrowsAsync<LedgerStoreException>(async () => await store.OpenAsync());
            Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            // Killed, not asked to stop: the kernel releases the lock of a process that dies.
            holder.Kill();
            await holder.WaitForExitAsync();
        }

        await using (FileLedgerStore store = await OpenAsync())
        {
            Assert.Equal(0UL, (await store.ReadLatestSnapshotAsync())?.BatchNumber ?? 0);
        }
    }

    [Fact]
    public Task ChildKilledWhileAppending_EveryReportedBatchSurvives() => KillLoopAsync(kills: 24, seed: 1);

    [Fact]
    [Trait("Category", "Stress")]
    public Task ChildKilledWhileAppending_ManyTimes_EveryReportedBatchSurvives() => KillLoopAsync(kills: 300, seed: Environment.TickCount);

    private async Task KillLoopAsync(int kills, int seed)
    {
        var random = new Random(seed);
        ulong reported = 0;
        for (int kill = 0; kill < kills; kill++)
        {
            // Mostly while appending; sometimes during start-up and recovery of the previous kill's tail.
            bool waitForStart = random.Next(5) != 0;
            int delay = waitForStart ? random.Next(0, 80) : random.Next(0, 250);
            ulong max = await RunAndKillAsync(waitForStart, delay);
            reported = Math.Max(reported, max);

            await using var store = new FileLedgerStore(Directory, SmallSegments(16384));
            LedgerStoreState state = await store.OpenAsync();
            Assert.True(
                state.LastBatchNumber >= reported,
                $"kill {kill} (seed {seed}): the child reported batch {reported} durable, but the store ends at {state.LastBatchNumber}");
            await AssertHoldsCrashBatchesAsync(store, 1, state.LastBatchNumber);
        }

        _output.WriteLine($"{kills} kills (seed {seed}): {reported} batches reported durable in total.");
        Assert.True(reported > 0, "the child never reported a durable batch");
    }

    private async Task<ulong> RunAndKillAsync(bool waitForStart, int delayMilliseconds)
    {
        using Process child = CrashHarnessProcess.Start("append", Directory, "16384");
        ulong max = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(async () =>
        {
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("start", StringComparison.Ordinal))
                {
                    started.TrySetResult();
                }
                else
                {
                    max = Math.Max(max, ulong.Parse(line, CultureInfo.InvariantCulture));
                }
            }
        });
        Task<string> errors = child.StandardError.ReadToEndAsync();

        bool exitedOnItsOwn;
        try
        {
            if (waitForStart)
            {
                await Task.WhenAny(started.Task, child.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(60));
            }

            await Task.Delay(delayMilliseconds);
        }
        finally
        {
            exitedOnItsOwn = child.HasExited;
            child.Kill(); // SIGKILL on Unix: no finalizers, no flush, no dispose.
            await child.WaitForExitAsync();
        }

        await reader;
        Assert.False(exitedOnItsOwn, $"the harness exited on its own with code {child.ExitCode}: {await errors}");
        return max;
    }
}
