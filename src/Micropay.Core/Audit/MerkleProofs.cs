namespace Micropay.Core.Audit;

/// <summary>
/// Checks RFC 9162 proofs against tree heads: an inclusion proof (section 2.1.3.2: a leaf is in the tree a root
/// commits to) and a consistency proof (section 2.1.4.2: a later tree extends an earlier one, so history was not
/// rewritten). A proof is the concatenation of its 32-byte hashes, in the order the RFC's PATH and PROOF produce them.
/// Never throws on any input; allocates nothing.
/// </summary>
public static class MerkleProofs
{
    /// <summary>The most hashes a proof of a tree of up to 2^63 leaves can hold.</summary>
    public const int MaxProofHashes = 126;

    /// <summary>Whether <paramref name="proof"/> proves that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="treeSize"/> leaves whose root is <paramref name="root"/>.</summary>
    /// <param name="index">The leaf's index, from 0.</param>
    /// <param name="treeSize">The tree's size; more than <paramref name="index"/>.</param>
    /// <param name="leafHash">The leaf's hash (<see cref="MerkleHashes.Leaf"/>).</param>
    /// <param name="proof">The audit path: 32-byte hashes, the leaf's sibling first.</param>
    /// <param name="root">The tree's root.</param>
    /// <returns>True when the proof is valid; false for any malformed input.</returns>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= treeSize || leafHash.Length != MerkleHashes.Size || root.Length != MerkleHashes.Size ||
            proof.Length % MerkleHashes.Size != 0 || proof.Length / MerkleHashes.Size > MaxProofHashes)
        {
            return false;
        }

        ulong fn = (ulong)index;
        ulong sn = (ulong)treeSize - 1;
        Span<byte> r = stackalloc byte[MerkleHashes.Size];
        leafHash.CopyTo(r);
        for (int at = 0; at < proof.Length; at += MerkleHashes.Size)
        {
            ReadOnlySpan<byte> p = proof.Slice(at, MerkleHashes.Size);
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHashes.Node(p, r, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHashes.Node(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.SequenceEqual(root);
    }

    /// <summary>
    /// Whether <paramref name="proof"/> proves that the tree of <paramref name="size1"/> leaves with root
    /// <paramref name="root1"/> is a prefix of the tree of <paramref name="size2"/> leaves with root <paramref name="root2"/>.
    /// Equal sizes need an empty proof and equal roots; a first tree of size 0 is a prefix of any tree (empty proof).
    /// </summary>
    /// <param name="size1">The earlier tree's size.</param>
    /// <param name="size2">The later tree's size; at least <paramref name="size1"/>.</param>
    /// <param name="root1">The earlier root.</param>
    /// <param name="root2">The later root.</param>
    /// <param name="proof">The consistency proof: 32-byte hashes as RFC 9162's PROOF produces them.</param>
    /// <returns>True when the proof is valid; false for any malformed input.</returns>
    public static bool VerifyConsistency(long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, ReadOnlySpan<byte> proof)
    {
        if (size1 < 0 || size2 < size1 || root1.Length != MerkleHashes.Size || root2.Length != MerkleHashes.Size ||
            proof.Length % MerkleHashes.Size != 0 || proof.Length / MerkleHashes.Size > MaxProofHashes)
        {
            return false;
        }

        if (size1 == size2)
        {
            return proof.IsEmpty && root1.SequenceEqual(root2);
        }

        if (size1 == 0)
        {
            return proof.IsEmpty && root1.SequenceEqual(MerkleHashes.EmptyRoot);
        }

        if (proof.IsEmpty)
        {
            return false;
        }

        // A first tree whose size is a power of two is a whole subtree of the second: its root starts the path.
        bool prepend = (size1 & (size1 - 1)) == 0;
        int count = (proof.Length / MerkleHashes.Size) + (prepend ? 1 : 0);
        ulong fn = (ulong)size1 - 1;
        ulong sn = (ulong)size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHashes.Size];
        Span<byte> sr = stackalloc byte[MerkleHashes.Size];
        Item(proof, root1, prepend, 0).CopyTo(fr);
        fr.CopyTo(sr);
        for (int i = 1; i < count; i++)
        {
            ReadOnlySpan<byte> c = Item(proof, root1, prepend, i);
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHashes.Node(c, fr, fr);
                MerkleHashes.Node(c, sr, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHashes.Node(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.SequenceEqual(root1) && sr.SequenceEqual(root2);
    }

    // Hash i of the path, where the path is the proof with root1 in front when it was prepended.
    private static ReadOnlySpan<byte> Item(ReadOnlySpan<byte> proof, ReadOnlySpan<byte> root1, bool prepend, int i) =>
        prepend ? (i == 0 ? root1 : proof.Slice((i - 1) * MerkleHashes.Size, MerkleHashes.Size)) : proof.Slice(i * MerkleHashes.Size, MerkleHashes.Size);
}
