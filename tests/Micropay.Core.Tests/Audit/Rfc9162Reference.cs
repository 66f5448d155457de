using System.Security.Cryptography;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// RFC 9162's Merkle tree written out as the RFC states it (section 2.1.1 MTH, 2.1.3.1 PATH, 2.1.4.1 PROOF and SUBPROOF),
/// recursively over the leaves' bytes and with <see cref="SHA256"/> directly: slow and obviously right, the reference the
/// library's trees (<c>MerkleLog</c>, <c>AuditLog</c>) are compared with byte for byte. Shares no code with them.
/// </summary>
internal static class Rfc9162Reference
{
    /// <summary>MTH(D[start:end]).</summary>
    public static byte[] Mth(IReadOnlyList<byte[]> leaves, int start, int end)
    {
        int n = end - start;
        if (n == 0)
        {
            return SHA256.HashData(ReadOnlySpan<byte>.Empty);
        }

        if (n == 1)
        {
            return SHA256.HashData([0x00, .. leaves[start]]);
        }

        int k = LargestPowerOfTwoBelow(n);
        return SHA256.HashData([0x01, .. Mth(leaves, start, start + k), .. Mth(leaves, start + k, end)]);
    }

    /// <summary>MTH(D[0:n]).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves, int n) => Mth(leaves, 0, n);

    /// <summary>The leaf hash of one leaf: SHA-256(0x00 || leaf).</summary>
    public static byte[] LeafHash(byte[] leaf) => SHA256.HashData([0x00, .. leaf]);

    /// <summary>PATH(m, D[0:n]), the hashes concatenated in the RFC's order (the leaf's sibling first).</summary>
    public static byte[] Path(IReadOnlyList<byte[]> leaves, int m, int n) => [.. PathOf(leaves, m, 0, n).SelectMany(h => h)];

    /// <summary>PROOF(m, D[0:n]), the hashes concatenated; empty for m = 0 or m = n.</summary>
    public static byte[] Proof(IReadOnlyList<byte[]> leaves, int m, int n) =>
        m == 0 || m == n ? [] : [.. SubProof(leaves, m, 0, n, true).SelectMany(h => h)];

    private static List<byte[]> PathOf(IReadOnlyList<byte[]> leaves, int m, int start, int end)
    {
        int n = end - start;
        if (n == 1)
        {
            return [];
        }

        int k = LargestPowerOfTwoBelow(n);
        if (m < k)
        {
            List<byte[]> path = PathOf(leaves, m, start, start + k);
            path.Add(Mth(leaves, start + k, end));
            return path;
        }
        else
        {
            List<byte[]> path = PathOf(leaves, m - k, start + k, end);
            path.Add(Mth(leaves, start, start + k));
            return path;
        }
    }

    private static List<byte[]> SubProof(IReadOnlyList<byte[]> leaves, int m, int start, int end, bool b)
    {
        int n = end - start;
        if (m == n)
        {
            return b ? [] : [Mth(leaves, start, end)];
        }

        int k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            List<byte[]> proof = SubProof(leaves, m, start, start + k, b);
            proof.Add(Mth(leaves, start + k, end));
            return proof;
        }
        else
        {
            List<byte[]> proof = SubProof(leaves, m - k, start + k, end, false);
            proof.Add(Mth(leaves, start, start + k));
            return proof;
        }
    }

    // The largest power of two smaller than n (n >= 2), as the RFC defines k.
    private static int LargestPowerOfTwoBelow(int n)
    {
        int k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }
}
