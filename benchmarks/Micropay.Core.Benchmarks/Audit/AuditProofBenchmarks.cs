using BenchmarkDotNet.Attributes;
using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Audit;

/// <summary>
/// Proofs from the audit log's tiles on disk (page cache) for a tree of 2^20 + 12,345 leaves, and their verification:
/// an inclusion proof of a random leaf at the full size, and a consistency proof between a random older size and the
/// full size. The in-memory <see cref="MerkleLog"/> over the same leaves is the reference (no reads: every complete
/// subtree in memory).
/// </summary>
[MemoryDiagnoser]
public class AuditProofBenchmarks
{
    private const int Size = (1 << 20) + 12_345;

    private readonly Random _random = new(11);
    private string _directory = "";
    private AuditLog? _log;
    private MerkleLog? _memory;
    private byte[] _root = new byte[32];
    private byte[] _leafHash = new byte[32];
    private byte[] _inclusion = [];
    private byte[] _consistency = [];
    private long _index;
    private long _older;
    private byte[] _olderRoot = new byte[32];

    /// <summary>Builds the tree on disk and in memory, and one proof of each kind to verify.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "micropay-proof-bench-" + Guid.NewGuid().ToString("N"));
        _log = AuditLog.Open(_directory, StoreFileSystem.Os);
        _log.Restore(AuditSnapshotState.Empty);
        _memory = new MerkleLog();
        const int Batch = 8_192;
        byte[] events = new byte[Batch * 128];
        uint[] results = new uint[Batch];
        new Random(3).NextBytes(events);
        ulong batch = 0;
        for (long done = 0; done < Size; done += Batch)
        {
            int count = (int)Math.Min(Batch, Size - done);
            _log.AppendBatch(++batch, BatchOperation.CreateTransfers, (ulong)done + 1, events.AsMemory(0, count * 128), 128, results.AsMemory(0, count));
        }

        for (long i = 0; i < Size; i++)
        {
            LeafLocation at = _log.LocateLeaf(i);
            _memory.AppendLeaf(AuditLog.BuildLeaf(at, events.AsSpan(at.EventIndex * 128, 128)));
        }

        _log.GetRoot(Size, _root);
        _index = Size / 3;
        LeafLocation located = _log.LocateLeaf(_index);
        AuditLeaf.TryParse(AuditLog.BuildLeaf(located, events.AsSpan(located.EventIndex * 128, 128)), out AuditLeaf leaf, out _);
        leaf.ComputeHash(_leafHash);
        _inclusion = _log.GetInclusionProof(_index, Size);
        _older = Size / 2 + 1;
        _log.GetRoot(_older, _olderRoot);
        _consistency = _log.GetConsistencyProof(_older, Size);
    }

    /// <summary>Deletes the tiles.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _log?.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>An inclusion proof of a random leaf from the tiles on disk.</summary>
    [Benchmark]
    public int Tiles_InclusionProof() => _log!.GetInclusionProof(_random.NextInt64(Size), Size).Length;

    /// <summary>The same from the in-memory tree.</summary>
    [Benchmark]
    public int Memory_InclusionProof() => _memory!.GetInclusionProof(_random.NextInt64(Size), Size).Length;

    /// <summary>A consistency proof from a random older size, from the tiles on disk.</summary>
    [Benchmark]
    public int Tiles_ConsistencyProof() => _log!.GetConsistencyProof(1 + _random.NextInt64(Size - 1), Size).Length;

    /// <summary>Verifying an inclusion proof (RFC 9162 2.1.3.2).</summary>
    [Benchmark]
    public bool VerifyInclusion() => MerkleProofs.VerifyInclusion(_index, Size, _leafHash, _inclusion, _root);

    /// <summary>Verifying a consistency proof (RFC 9162 2.1.4.2).</summary>
    [Benchmark]
    public bool VerifyConsistency() => MerkleProofs.VerifyConsistency(_older, Size, _olderRoot, _root, _consistency);
}
