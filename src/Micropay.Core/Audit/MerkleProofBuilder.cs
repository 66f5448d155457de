using System.Numerics;

namespace Micropay.Core.Audit;

/// <summary>Where a Merkle tree's complete subtrees come from: memory (<see cref="MerkleLog"/>) or tiles on disk (<see cref="AuditLog"/>).</summary>
internal interface ISubtreeHashes
{
    /// <summary>Writes the hash of the complete subtree of 2^<paramref name="height"/> leaves starting at leaf <c>index * 2^height</c>.</summary>
    void Perfect(int height, long index, Span<byte> destination);
}

/// <summary>
/// RFC 9162's tree hash, inclusion path and consistency proof (sections 2.1.1, 2.1.3.1, 2.1.4.1) over any source of
/// complete subtrees: every range the algorithms ask for splits into O(log n) complete subtrees.
/// </summary>
internal static class MerkleProofBuilder
{
    /// <summary>MTH(D[0:size]); the empty tree's hash for 0.</summary>
    public static void Root<T>(T source, long size, Span<byte> destination)
        where T : ISubtreeHashes
    {
        if (size == 0)
        {
            MerkleHashes.EmptyRoot.CopyTo(destination);
            return;
        }

        RangeHash(source, 0, size, destination);
    }

    /// <summary>PATH(index, D[0:size]): the sibling hashes, deepest first, concatenated.</summary>
    public static byte[] Inclusion<T>(T source, long index, long size)
        where T : ISubtreeHashes
    {
        var proof = new List<byte>(MerkleHashes.Size * 64);
        Path(source, index, 0, size, proof);
        return [.. proof];
    }

    /// <summary>PROOF(size1, D[0:size2]), concatenated; empty when size1 is 0 or equals size2.</summary>
    public static byte[] Consistency<T>(T source, long size1, long size2)
        where T : ISubtreeHashes
    {
        var proof = new List<byte>(MerkleHashes.Size * 64);
        if (size1 != 0 && size1 != size2)
        {
            SubProof(source, size1, 0, size2, true, proof);
        }

        return [.. proof];
    }

    // PATH(m, D[start:end]) of RFC 9162 section 2.1.3.1, appended to proof (deepest sibling first).
    private static void Path<T>(T source, long m, long start, long end, List<byte> proof)
        where T : ISubtreeHashes
    {
        long n = end - start;
        if (n == 1)
        {
            return;
        }

        long k = LargestPowerOfTwoBelow(n);
        Span<byte> sibling = stackalloc byte[MerkleHashes.Size];
        if (m < k)
        {
            Path(source, m, start, start + k, proof);
            RangeHash(source, start + k, end, sibling);
        }
        else
        {
            Path(source, m - k, start + k, end, proof);
            RangeHash(source, start, start + k, sibling);
        }

        proof.AddRange(sibling);
    }

    // SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1, appended to proof.
    private static void SubProof<T>(T source, long m, long start, long end, bool whole, List<byte> proof)
        where T : ISubtreeHashes
    {
        long n = end - start;
        Span<byte> hash = stackalloc byte[MerkleHashes.Size];
        if (m == n)
        {
            if (!whole)
            {
                RangeHash(source, start, end, hash);
                proof.AddRange(hash);
            }

            return;
        }

        long k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            SubProof(source, m, start, start + k, whole, proof);
            RangeHash(source, start + k, end, hash);
        }
        else
        {
            SubProof(source, m - k, start + k, end, false, proof);
            RangeHash(source, start, start + k, hash);
        }

        proof.AddRange(hash);
    }

    /// <summary>MTH(D[start:end]): a complete subtree when the range is one, else the RFC's split.</summary>
    public static void RangeHash<T>(T source, long start, long end, Span<byte> destination)
        where T : ISubtreeHashes
    {
        long n = end - start;
        if (BitOperations.IsPow2(n) && start % n == 0)
        {
            source.Perfect(BitOperations.Log2((ulong)n), start / n, destination);
            return;
        }

        long k = LargestPowerOfTwoBelow(n);
        Span<byte> left = stackalloc byte[MerkleHashes.Size];
        Span<byte> right = stackalloc byte[MerkleHashes.Size];
        RangeHash(source, start, start + k, left);
        RangeHash(source, start + k, end, right);
        MerkleHashes.Node(left, right, destination);
    }

    // The largest power of two strictly below n (n >= 2).
    private static long LargestPowerOfTwoBelow(long n) => 1L << BitOperations.Log2((ulong)(n - 1));
}
