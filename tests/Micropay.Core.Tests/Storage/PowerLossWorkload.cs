using System.Buffers;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;
using Micropay.Core.Tests.Storage.Disk;

namespace Micropay.Core.Tests.Storage;

/// <summary>
/// Drives a <see cref="FileLedgerStore"/> on a <see cref="SimulatedDisk"/> through appends (with segment rolls),
/// snapshots, compactions and reopens, crashes it, and checks every recovery against what the store promised: every
/// acknowledged batch is there, and so is every batch an earlier open reported (a reported batch that a later power cut
/// takes back is "resurrected then lost"); nothing else is, except the one batch that was in flight, whole.
/// </summary>
internal sealed class PowerLossWorkload
{
    private static readonly FileLedgerStoreOptions Options = new() { SegmentSizeBytes = 8192, SnapshotsToKeep = 2 };

    private readonly SimulatedDisk _disk;
    private readonly string _directory;
    private readonly Random _random;

    // Batches that must survive every later crash: acknowledged by an append, or reported by an open. Index i is batch i + 1.
    private readonly List<byte[]> _known = [];
    private BatchHash _lastHash = BatchHash.Zero;
    private byte[]? _inFlight;
    private ulong _acknowledgedSnapshot;

    // What happened, for the failure message: a seed reproduces the run, the history says where to look.
    private readonly List<string> _history = [];

    public PowerLossWorkload(int seed)
    {
        _random = new Random(seed);
        _disk = new SimulatedDisk(seed, "/simulated");
        _directory = "/simulated/store";
    }

    /// <summary>How many crashes the run went through.</summary>
    public int Crashes { get; private set; }

    /// <summary>How many of them were power cuts (the rest were process kills, the page cache surviving).</summary>
    public int PowerCuts { get; private set; }

    /// <summary>The most batches any open reported.</summary>
    public int Batches => _known.Count;

    public SimulatedDisk Disk => _disk;

    /// <summary>The last events of the run, oldest first.</summary>
    public string History => string.Join(Environment.NewLine, _history.TakeLast(40));

    private void Note(string what) => _history.Add($"[op {_disk.Operations}] {what}");

    /// <summary>Runs <paramref name="epochs"/> lives of the store, each ending in a crash at a random step (or a clean close).</summary>
    public async Task RunAsync(int epochs)
    {
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            // Budgets are often tiny so that crashes land inside recovery and right after it, where a missing fsync of
            // what recovery trusted shows up.
            long budget = _random.Next(4) switch
            {
                0 => _random.Next(6),
                1 => _random.Next(40),
                _ => _random.Next(400),
            };
            bool crashes = _random.Next(8) != 0;
            Note(crashes ? $"epoch {epoch}: power cut after {budget} more operations" : $"epoch {epoch}: no crash");
            _disk.CutPowerAfter(crashes ? budget : long.MaxValue);
            await LiveAsync(operations: _random.Next(10, 120));
            if (_disk.IsDown || crashes)
            {
                Crash();
            }
        }

        // A last power cut with nothing running, then the final check.
        _disk.CutPower();
        Crash(powerCut: true);
        _disk.CutPowerAfter(long.MaxValue);
        await LiveAsync(operations: 0);
        if (_disk.IsDown)
        {
            throw new InvalidOperationException("the disk went down with no budget set");
        }
    }

    /// <summary>Runs the store through one scenario: a fixed list of steps, for the every-step tests.</summary>
    public async Task RunScriptAsync(long budget, bool killFirst)
    {
        _disk.CutPowerAfter(budget);
        await LiveAsync(operations: -1);
        bool crashed = _disk.IsDown;
        if (killFirst)
        {
            // A process kill: the page cache survives; an open then reports what it finds, and a power cut follows
            // right after that open, before anything else is fsync'd.
            _disk.KillProcess();
            await LiveAsync(operations: 0);
            _disk.CutPower();
        }

        Crash(powerCut: true);
        _disk.CutPowerAfter(long.MaxValue);
        await LiveAsync(operations: 0);
        Assert.False(_disk.IsDown, "the final open must run on a healthy disk");
        _ = crashed;
    }

    private void Crash(bool? powerCut = null)
    {
        Crashes++;
        if (powerCut ?? _random.Next(2) == 0)
        {
            Note("crash: power cut");
            PowerCuts++;
            _disk.Restart();
        }
        else
        {
            Note("crash: process kill");
            _disk.KillProcess();
        }
    }

    /// <summary>
    /// Opens the store, checks it, and runs <paramref name="operations"/> random operations (-1: the fixed script) until
    /// done or the disk goes down. A failure while the disk is up is a bug and fails the test.
    /// </summary>
    private async Task LiveAsync(int operations)
    {
        FileLedgerStore? store = null;
        try
        {
            store = new FileLedgerStore(_directory, Options, _disk);
            LedgerStoreState state = await store.OpenAsync();
            Note($"opened at batch {state.LastBatchNumber}, snapshot {state.LatestSnapshotBatchNumber}, discarded {state.DiscardedTail}");
            await CheckAsync(store, state);
            if (operations < 0)
            {
                await ScriptAsync(store);
            }

            for (int i = 0; i < operations; i++)
            {
                int dice = _random.Next(100);
                if (dice < 80)
                {
                    await AppendAsync(store, eventCount: _random.Next(0, 40));
                }
                else if (dice < 90)
                {
                    await SnapshotAsync(store, back: _random.Next(4));
                }
                else if (dice < 95)
                {
                    Note("compact");
                    await store.CompactAsync();
                    Note("compacted");
                }
                else
                {
                    await store.DisposeAsync();
                    store = new FileLedgerStore(_directory, Options, _disk);
                    await CheckAsync(store, await store.OpenAsync());
                }
            }
        }
        catch (Exception e) when (_disk.IsDown && e is LedgerStoreException or IOException)
        {
            Note($"down: {e.Message}");
            // The crash: whatever was in flight has an unknown outcome, which the next open decides.
        }
        finally
        {
            if (store is not null)
            {
                await store.DisposeAsync();
            }
        }
    }

    /// <summary>Appends two segments' worth, snapshots, rolls again, compacts, snapshots again.</summary>
    private async Task ScriptAsync(FileLedgerStore store)
    {
        for (int i = 0; i < 6; i++)
        {
            await AppendAsync(store, eventCount: 20);
        }

        await SnapshotAsync(store, back: 1);
        for (int i = 0; i < 4; i++)
        {
            await AppendAsync(store, eventCount: 25);
        }

        await store.CompactAsync();
        await SnapshotAsync(store, back: 0);
        await AppendAsync(store, eventCount: 3);
    }

    private async Task AppendAsync(FileLedgerStore store, int eventCount)
    {
        ulong number = (ulong)_known.Count + 1;
        CommitBatch batch = TestBatches.Create(number, _lastHash, eventCount, variant: _random.Next(1000));
        _inFlight = TestBatches.Encode(batch);
        Note($"append {number} ({eventCount} events)");
        await store.AppendAsync(batch);
        _known.Add(_inFlight);
        _lastHash = BatchHash.Compute(_inFlight);
        _inFlight = null;
    }

    private async Task SnapshotAsync(FileLedgerStore store, int back)
    {
        if (_known.Count == 0)
        {
            return;
        }

        ulong batch = (ulong)Math.Max(1, _known.Count - back);
        Note($"snapshot {batch}");
        await store.WriteSnapshotAsync(batch, TestBatches.SnapshotState(batch, 300 + (int)(batch % 7 * 100)));
        _acknowledgedSnapshot = Math.Max(_acknowledgedSnapshot, batch);
    }

    /// <summary>Checks an open's report and the journal against what was promised, then takes the report as a promise too.</summary>
    private async Task CheckAsync(FileLedgerStore store, LedgerStoreState state)
    {
        ulong known = (ulong)_known.Count;
        Assert.True(
            state.LastBatchNumber >= known,
            $"lost: the store opened at batch {state.LastBatchNumber}, but batch {known} was acknowledged or reported by an earlier open");
        Assert.True(
            state.LastBatchNumber <= known + (_inFlight is null ? 0UL : 1UL),
            $"the store opened at batch {state.LastBatchNumber}, beyond anything appended ({known}, in flight: {_inFlight is not null})");

        ulong? first = null;
        ulong next = 0;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            first ??= batch.BatchNumber;
            next = next == 0 ? batch.BatchNumber : next;
            Assert.Equal(next, batch.BatchNumber);
            byte[] expected = batch.BatchNumber <= known ? _known[(int)batch.BatchNumber - 1] : _inFlight!;
            Assert.True(TestBatches.Encode(batch).AsSpan().SequenceEqual(expected), $"batch {batch.BatchNumber} differs from what was appended");
            next++;
        }

        Assert.Equal(state.LastBatchNumber, next == 0 ? state.LastBatchNumber : next - 1);
        if (state.LastBatchNumber > known)
        {
            // The batch in flight made it, whole: from now on it is a promise like the others.
            _known.Add(_inFlight!);
            _lastHash = BatchHash.Compute(_inFlight!);
        }

        _inFlight = null;
        Assert.Equal(_known.Count == 0 ? BatchHash.Zero : _lastHash, state.LastBatchHash);

        if (first is > 1)
        {
            Assert.True(state.LatestSnapshotBatchNumber >= first - 1, $"the journal starts at batch {first} but the snapshot is of batch {state.LatestSnapshotBatchNumber}");
        }

        Assert.True(
            state.LatestSnapshotBatchNumber >= _acknowledgedSnapshot,
            $"lost: the latest snapshot is of batch {state.LatestSnapshotBatchNumber}, but one of batch {_acknowledgedSnapshot} was acknowledged");
        using LedgerSnapshot? snapshot = await store.ReadLatestSnapshotAsync();
        Assert.Equal(state.LatestSnapshotBatchNumber, snapshot?.BatchNumber ?? 0);
        if (snapshot is { } s)
        {
            Assert.True(s.BatchNumber <= state.LastBatchNumber);
            Assert.True(s.State.ToArray().AsSpan().SequenceEqual(TestBatches.SnapshotState(s.BatchNumber, 300 + (int)(s.BatchNumber % 7 * 100))), $"snapshot {s.BatchNumber} differs");
            _acknowledgedSnapshot = s.BatchNumber;
        }
    }
}
