using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Micropay.Core.Storage;

namespace Micropay.Core.Audit;

/// <summary>
/// One thread's share of hashing a batch's leaves: the leaf hashes of a range of the batch's events, and the roots of
/// the complete, aligned 256-leaf blocks inside it (255 inner nodes each). Neither depends on the tree before the batch,
/// so two hashers split a large batch across two cores; the writer then only joins the blocks' roots into the tree.
/// </summary>
/// <remarks>
/// Zero allocation per batch: each hasher owns its SHA-256 context (reused: OpenSSL's one-shot digest sets up a context
/// per call, which costs more than hashing a leaf) and its buffers, and runs on the thread pool as its own work item.
/// </remarks>
internal sealed class LeafHasher : IThreadPoolWorkItem, IDisposable
{
    /// <summary>The leaves of a tile: 256.</summary>
    public const int BlockLeaves = 1 << AuditLog.TileHeight;

    private const int HashSize = MerkleHashes.Size;

    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _node = new byte[1 + (2 * HashSize)];
    private readonly byte[] _block = new byte[BlockLeaves * HashSize];
    private readonly ManualResetEventSlim _done = new(true);
    private byte[] _leaf = new byte[1 + AuditLeaf.HeaderSize + 256];
    private LeafJob _job;
    private Exception? _error;

    public LeafHasher()
    {
        _node[0] = 0x01;
    }

    /// <summary>Hashes <paramref name="job"/> on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Hash(in LeafJob job)
    {
        int entrySize = AuditLeaf.HeaderSize + job.EventSize;
        if (_leaf.Length < 1 + entrySize)
        {
            _leaf = new byte[1 + entrySize];
        }

        Span<byte> leaf = _leaf.AsSpan(0, 1 + entrySize);
        leaf[0] = 0x00;
        ReadOnlySpan<byte> events = job.Events.Span;
        ReadOnlySpan<uint> results = job.Results.Span;
        Span<byte> hashes = job.LeafHashes;
        for (int i = job.From; i < job.To; i++)
        {
            AuditLeaf.WriteHeader(leaf[1..], job.Operation, results[i], job.FirstTimestamp + (ulong)i, job.BatchNumber, i, job.EventSize);
            events.Slice(i * job.EventSize, job.EventSize).CopyTo(leaf[(1 + AuditLeaf.HeaderSize)..]);
            _sha.AppendData(leaf);
            _sha.GetHashAndReset(hashes.Slice(i * HashSize, HashSize));
        }

        // The complete blocks inside [From, To): block b covers the batch's events [FirstBlock + 256 b, FirstBlock + 256 (b + 1)).
        for (int b = 0; ; b++)
        {
            int start = job.FirstBlock + (b * BlockLeaves);
            if (start + BlockLeaves > job.To)
            {
                break;
            }

            if (start < job.From)
            {
                continue;
            }

            hashes.Slice(start * HashSize, BlockLeaves * HashSize).CopyTo(_block);
            for (int width = BlockLeaves; width > 1; width /= 2)
            {
                for (int k = 0; k < width / 2; k++)
                {
                    _block.AsSpan(2 * k * HashSize, 2 * HashSize).CopyTo(_node.AsSpan(1));
                    _sha.AppendData(_node);
                    _sha.GetHashAndReset(_block.AsSpan(k * HashSize, HashSize));
                }
            }

            _block.AsSpan(0, HashSize).CopyTo(job.BlockRoots.AsSpan(b * HashSize, HashSize));
        }
    }

    /// <summary>Starts <paramref name="job"/> on the thread pool; <see cref="Wait"/> for it.</summary>
    public void Start(in LeafJob job)
    {
        _job = job;
        _error = null;
        _done.Reset();
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>Waits for the job <see cref="Start"/> queued, and rethrows its failure.</summary>
    public void Wait()
    {
        _done.Wait();
        _job = default;
        if (_error is { } error)
        {
            throw new InvalidOperationException("Hashing the audit log's leaves failed.", error);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        try
        {
            Hash(_job);
        }
        catch (Exception e)
        {
            _error = e;
        }
        finally
        {
            _done.Set();
        }
    }

    public void Dispose()
    {
        _sha.Dispose();
        _done.Dispose();
    }
}

/// <summary>
/// A range [From, To) of a batch's events to hash (<see cref="LeafHasher"/>): the events, their results, the leaf fields,
/// where to write each leaf hash (at its index) and each complete block's root (at its block index, counted from
/// <see cref="FirstBlock"/>, the batch index where the first complete, aligned block starts).
/// </summary>
internal readonly record struct LeafJob(
    ReadOnlyMemory<byte> Events,
    ReadOnlyMemory<uint> Results,
    int EventSize,
    BatchOperation Operation,
    ulong BatchNumber,
    ulong FirstTimestamp,
    int From,
    int To,
    int FirstBlock,
    byte[] LeafHashes,
    byte[] BlockRoots);
