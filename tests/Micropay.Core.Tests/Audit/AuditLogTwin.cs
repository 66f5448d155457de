using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// An <see cref="AuditLog"/> in a directory and, beside it, what it must equal: the leaves' bytes (built with
/// <see cref="AuditLeaf"/>'s public constructor, not the log's writer), an in-memory <see cref="MerkleLog"/> over them, and
/// each batch's place. Batches are made as the engine makes them: each starts after the last timestamp the ledger gave
/// (an empty one takes a timestamp of its own and no leaf), results are mostly 0, operations vary.
/// </summary>
internal sealed class AuditLogTwin : IDisposable
{
    private static readonly BatchOperation[] Operations = [BatchOperation.CreateTransfers, BatchOperation.CreateAccounts, (BatchOperation)0x7FF0];

    private readonly Random _random;
    private ulong _clock = 1_000;

    public AuditLogTwin(string directory, int seed, StoreFileSystem? fileSystem = null)
    {
        Directory = directory;
        FileSystem = fileSystem ?? StoreFileSystem.Os;
        _random = new Random(seed);
        Log = AuditLog.Open(directory, FileSystem);
        Log.Restore(AuditSnapshotState.Empty);
    }

    public string Directory { get; }

    public StoreFileSystem FileSystem { get; }

    public AuditLog Log { get; private set; }

    public MerkleLog Reference { get; private set; } = new();

    /// <summary>Every leaf's encoded bytes, in order.</summary>
    public List<byte[]> Leaves { get; } = [];

    /// <summary>Every leaf's timestamp, in order.</summary>
    public List<ulong> Timestamps { get; } = [];

    /// <summary>Batch n at index n - 1.</summary>
    public List<BatchInfo> Batches { get; } = [];

    /// <summary>Every timestamp a batch took without a leaf (empty batches) or skipped between batches.</summary>
    public List<ulong> TimestampsWithoutLeaf { get; } = [];

    /// <summary>Appends a batch of <paramref name="count"/> random events of <paramref name="eventSize"/> bytes to both trees.</summary>
    public void Append(int count, int eventSize = 128)
    {
        ulong batchNumber = (ulong)Batches.Count + 1;
        BatchOperation operation = Operations[_random.Next(Operations.Length)];

        // A gap before the batch, now and then (the clock ran ahead, or the ledger stamped something between events).
        if (_random.Next(4) == 0)
        {
            _clock++;
            TimestampsWithoutLeaf.Add(_clock);
        }

        ulong first = _clock + 1;
        _clock = count == 0 ? first : first + (ulong)count - 1;
        if (count == 0)
        {
            TimestampsWithoutLeaf.Add(first);
        }

        byte[] events = new byte[count * eventSize];
        _random.NextBytes(events);
        uint[] results = new uint[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = _random.Next(5) == 0 ? (uint)_random.Next(1, 60) : 0;
        }

        Batches.Add(new BatchInfo(batchNumber, operation, first, count, Leaves.Count, eventSize));
        for (int i = 0; i < count; i++)
        {
            byte[] leaf = new AuditLeaf(operation, results[i], first + (ulong)i, batchNumber, i, events.AsMemory(i * eventSize, eventSize)).ToBytes();
            Leaves.Add(leaf);
            Timestamps.Add(first + (ulong)i);
            Reference.AppendLeaf(leaf);
        }

        BatchEvents.Add(events);
        Log.AppendBatch(batchNumber, operation, first, events, eventSize, results);
    }

    /// <summary>Batch n's event records at index n - 1 (the journal's part of each leaf; the log keeps the rest).</summary>
    public List<byte[]> BatchEvents { get; } = [];

    /// <summary>Leaf <paramref name="index"/> as the engine rebuilds it: what the log keeps of it, and its record from the batch's events.</summary>
    public byte[] ReadLeaf(long index)
    {
        LeafLocation at = Log.LocateLeaf(index);
        return AuditLog.BuildLeaf(at, BatchEvents[(int)at.BatchNumber - 1].AsSpan(at.EventIndex * at.EventSize, at.EventSize));
    }

    /// <summary>Appends batches until the tree holds at least <paramref name="size"/> leaves: random sizes up to <paramref name="maxBatch"/>, a few empty.</summary>
    public void GrowTo(long size, int maxBatch = 40, int eventSize = 128)
    {
        while (Leaves.Count < size)
        {
            Append(_random.Next(6) == 0 ? 0 : _random.Next(1, maxBatch + 1), eventSize);
        }
    }

    /// <summary>Closes the log's files and opens them again, restoring <paramref name="state"/>; the expectations are cut back to it.</summary>
    public void ReopenAt(AuditSnapshotState state)
    {
        Log.Dispose();
        Log = AuditLog.Open(Directory, FileSystem);
        Log.Restore(state);
        CutExpectationsTo(state);
    }

    /// <summary>Cuts the expected leaves and batches back to a snapshot's state (what Restore keeps).</summary>
    public void CutExpectationsTo(AuditSnapshotState state)
    {
        int batches = (int)state.BatchCount;
        int leaves = (int)state.TreeSize;
        Batches.RemoveRange(batches, Batches.Count - batches);
        BatchEvents.RemoveRange(batches, BatchEvents.Count - batches);
        Leaves.RemoveRange(leaves, Leaves.Count - leaves);
        Timestamps.RemoveRange(leaves, Timestamps.Count - leaves);
        _clock = Batches.Count == 0 ? 1_000 : Batches[^1].Count == 0 ? Batches[^1].FirstTimestamp : Batches[^1].FirstTimestamp + (ulong)Batches[^1].Count - 1;
        TimestampsWithoutLeaf.RemoveAll(t => t > _clock);
        Reference = new MerkleLog();
        foreach (byte[] leaf in Leaves)
        {
            Reference.AppendLeaf(leaf);
        }
    }

    public byte[] ReferenceRoot(long size)
    {
        byte[] root = new byte[MerkleHashes.Size];
        Reference.GetRoot(size, root);
        return root;
    }

    public byte[] LogRoot(long size)
    {
        byte[] root = new byte[MerkleHashes.Size];
        Log.GetRoot(size, root);
        return root;
    }

    public byte[] LogCurrentRoot()
    {
        byte[] root = new byte[MerkleHashes.Size];
        Log.GetCurrentRoot(root);
        return root;
    }

    public void Dispose() => Log.Dispose();

    /// <summary>Where a batch's leaves are.</summary>
    public readonly record struct BatchInfo(ulong BatchNumber, BatchOperation Operation, ulong FirstTimestamp, int Count, int FirstLeaf, int EventSize);
}
