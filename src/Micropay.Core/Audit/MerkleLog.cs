namespace Micropay.Core.Audit;

/// <summary>
/// An append-only RFC 9162 Merkle tree held in memory: the hash of every complete subtree, level by level (the leaves,
/// then pairs, then fours, ...), so the root at any size, an inclusion proof and a consistency proof each cost O(log n)
/// stored hashes and O(log n) hashing, never a rescan. The levels are what C2SP's tlog-tiles cuts into tiles.
/// </summary>
/// <remarks>
/// <para>Memory: about two 32-byte hashes per leaf (n leaves, n/2 pairs, n/4 fours, ...).</para>
/// <para>Not thread-safe: one writer appends; proofs and roots are read by that writer or under the caller's lock.</para>
/// </remarks>
public sealed class MerkleLog : ISubtreeHashes
{
    // _levels[k] holds the hashes of the complete subtrees of 2^k leaves, left to right: _counts[k] of them.
    private readonly List<byte[]> _levels = [];
    private readonly List<long> _counts = [];

    /// <summary>The number of leaves.</summary>
    public long Size { get; private set; }

    /// <summary>Appends a leaf: its hash is <see cref="MerkleHashes.Leaf"/> of <paramref name="data"/>.</summary>
    /// <param name="data">The leaf's bytes.</param>
    public void AppendLeaf(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[MerkleHashes.Size];
        MerkleHashes.Leaf(data, hash);
        AppendLeafHash(hash);
    }

    /// <summary>Appends a leaf by its hash.</summary>
    /// <param name="leafHash">The leaf's 32-byte hash.</param>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not 32 bytes.</exception>
    public void AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHashes.Size)
        {
            throw new ArgumentException($"A leaf hash is {MerkleHashes.Size} bytes.", nameof(leafHash));
        }

        Span<byte> carry = stackalloc byte[MerkleHashes.Size];
        leafHash.CopyTo(carry);
        Push(0, carry);
        Size++;

        // Each level whose count became even completes a subtree one level up (the binary carry of the size).
        for (int level = 0; (_counts[level] & 1) == 0; level++)
        {
            long count = _counts[level];
            ReadOnlySpan<byte> left = Stored(level, count - 2);
            ReadOnlySpan<byte> right = Stored(level, count - 1);
            MerkleHashes.Node(left, right, carry);
            Push(level + 1, carry);
        }
    }

    /// <summary>Writes the root of the current tree.</summary>
    /// <param name="destination">At least 32 bytes.</param>
    public void GetRoot(Span<byte> destination) => GetRoot(Size, destination);

    /// <summary>Writes the root of the tree of the first <paramref name="size"/> leaves.</summary>
    /// <param name="size">0 to <see cref="Size"/>.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or past <see cref="Size"/>.</exception>
    public void GetRoot(long size, Span<byte> destination)
    {
        CheckSize(size, nameof(size));
        if (destination.Length < MerkleHashes.Size)
        {
            throw new ArgumentException($"A hash takes {MerkleHashes.Size} bytes.", nameof(destination));
        }

        if (size == 0)
        {
            MerkleHashes.EmptyRoot.CopyTo(destination);
            return;
        }

        MerkleProofBuilder.RangeHash(this, 0, size, destination);
    }

    /// <summary>The inclusion proof (RFC 9162 PATH) of leaf <paramref name="index"/> in the tree of <paramref name="treeSize"/> leaves.</summary>
    /// <param name="index">The leaf, below <paramref name="treeSize"/>.</param>
    /// <param name="treeSize">1 to <see cref="Size"/>.</param>
    /// <returns>The proof's hashes, concatenated, the leaf's sibling first.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size or index is out of range.</exception>
    public byte[] GetInclusionProof(long index, long treeSize)
    {
        CheckSize(treeSize, nameof(treeSize));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);
        return MerkleProofBuilder.Inclusion(this, index, treeSize);
    }

    /// <summary>The consistency proof (RFC 9162 PROOF) between the trees of <paramref name="size1"/> and <paramref name="size2"/> leaves.</summary>
    /// <param name="size1">0 to <paramref name="size2"/>.</param>
    /// <param name="size2">Up to <see cref="Size"/>.</param>
    /// <returns>The proof's hashes, concatenated (empty when a size is 0 or the sizes are equal).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public byte[] GetConsistencyProof(long size1, long size2)
    {
        CheckSize(size2, nameof(size2));
        ArgumentOutOfRangeException.ThrowIfNegative(size1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size1, size2);
        return MerkleProofBuilder.Consistency(this, size1, size2);
    }

    void ISubtreeHashes.Perfect(int height, long index, Span<byte> destination) => Stored(height, index).CopyTo(destination);

    private ReadOnlySpan<byte> Stored(int level, long index) =>
        _levels[level].AsSpan(checked((int)(index * MerkleHashes.Size)), MerkleHashes.Size);

    private void Push(int level, ReadOnlySpan<byte> hash)
    {
        if (level == _levels.Count)
        {
            _levels.Add(new byte[MerkleHashes.Size * 16]);
            _counts.Add(0);
        }

        long count = _counts[level];
        byte[] row = _levels[level];
        if ((count + 1) * MerkleHashes.Size > row.Length)
        {
            Array.Resize(ref row, checked(row.Length * 2));
            _levels[level] = row;
        }

        hash.CopyTo(row.AsSpan(checked((int)(count * MerkleHashes.Size))));
        _counts[level] = count + 1;
    }

    private void CheckSize(long size, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, Size, name);
    }
}
