using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Audit;

/// <summary>
/// Appending leaves to the engine's audit log (<c>AuditLog.AppendBatch</c>, the apply thread's call per batch: encode
/// each leaf, hash it, extend the compact range, write the leaves, tile hashes and batch record to the page cache),
/// against the RFC 9162 minimum for the same leaves in the same run: two SHA-256 computations per leaf, the leaf's
/// (<c>0x00 || 160-byte leaf</c>) and one inner node's (<c>0x01 || 64 bytes</c>), which is what any RFC 9162 log pays
/// per leaf on average.
/// </summary>
/// <remarks>
/// Batches of 8,192 transfer records (128 bytes, random), results 0, consecutive timestamps. The log's files are in a
/// temporary directory; each iteration starts from an empty log (unmeasured setup) so the files stay small. The
/// target: <c>AppendBatch</c> at least 0.8 × the baseline's leaves per second (a <c>Ratio</c> of at most 1.25), and
/// 0 B allocated.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(64)]
public class AuditAppendBenchmarks
{
    private const int Leaves = 8_192;
    private const int EventSize = 128;

    private readonly byte[] _events = new byte[Leaves * EventSize];
    private readonly uint[] _results = new uint[Leaves];
    private readonly byte[] _leafInput = new byte[1 + AuditLeaf.HeaderSize + EventSize];
    private readonly byte[] _nodeInput = new byte[1 + 64];
    private readonly byte[] _hash = new byte[32];
    private string _directory = "";
    private AuditLog? _log;
    private ulong _batch;
    private ulong _timestamp = 1;

    /// <summary>Random event records and a new log directory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_events);
        _directory = Path.Combine(Path.GetTempPath(), "micropay-audit-bench-" + Guid.NewGuid().ToString("N"));
        _log = AuditLog.Open(_directory, StoreFileSystem.Os);
    }

    /// <summary>Empties the log (not measured).</summary>
    [IterationSetup(Target = nameof(AuditLog_AppendBatch))]
    public void EmptyLog()
    {
        _log!.Restore(AuditSnapshotState.Empty);
        _batch = 0;
    }

    /// <summary>Deletes the log.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _log?.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>The RFC 9162 minimum: one leaf hash and one node hash per leaf, nothing else.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Leaves)]
    public byte Baseline_TwoSha256PerLeaf()
    {
        byte[] leaf = _leafInput;
        byte[] node = _nodeInput;
        byte[] hash = _hash;
        for (int i = 0; i < Leaves; i++)
        {
            _events.AsSpan(i * EventSize, EventSize).CopyTo(leaf.AsSpan(1 + AuditLeaf.HeaderSize));
            SHA256.HashData(leaf, hash);
            hash.CopyTo(node.AsSpan(1 + 32));
            SHA256.HashData(node, node.AsSpan(1, 32));
        }

        return node[1];
    }

    /// <summary>The audit log's append of one batch of leaves.</summary>
    [Benchmark(OperationsPerInvoke = Leaves)]
    public long AuditLog_AppendBatch()
    {
        _log!.AppendBatch(++_batch, BatchOperation.CreateTransfers, _timestamp, _events, EventSize, _results);
        _timestamp += Leaves;
        return _log.Size;
    }
}
