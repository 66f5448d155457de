using Micropay.Core.Audit;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The RFC 9162 Merkle tree against the test data every Certificate Transparency implementation shares (the eight leaves
/// of certificate-transparency's merkle_tree_test and their roots and proofs), and exhaustively on small trees against
/// <see cref="Rfc9162Reference"/>, the RFC's recursive definitions written out.
/// </summary>
public sealed class MerkleLogTests
{
    // Every leaf and every pair of sizes up to this many leaves is checked (issue 14: up to 64).
    private const int Exhaustive = 64;

    private static readonly string[] Leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

    // The roots of the first n leaves, n = 0 to 8.
    private static readonly string[] Roots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    public static readonly TheoryData<long, long, string> InclusionVectors = new()
    {
        { 0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7" + "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" + "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" },
        { 5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" + "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0" + "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
        { 2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
        { 1, 5, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" + "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" + "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" },
        { 0, 1, "" },
    };

    public static readonly TheoryData<long, long, string> ConsistencyVectors = new()
    {
        { 1, 1, "" },
        { 1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7" + "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" + "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" },
        { 6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a" + "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0" + "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
        { 2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" + "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" },
    };

    [Fact]
    public void GetRoot_TheCertificateTransparencyLeaves_GivesTheirRootAtEverySize()
    {
        MerkleLog log = VectorLog();
        for (int n = 0; n <= Leaves.Length; n++)
        {
            Assert.Equal(Roots[n], Root(log, n));
        }

        var growing = new MerkleLog();
        Assert.Equal(Roots[0], Root(growing, 0));
        foreach (string leaf in Leaves)
        {
            growing.AppendLeaf(Convert.FromHexString(leaf));
            Assert.Equal(Roots[growing.Size], Root(growing, growing.Size));
        }
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void GetInclusionProof_TheVectors_MatchesAndVerifies(long index, long size, string expected)
    {
        MerkleLog log = VectorLog();
        byte[] proof = log.GetInclusionProof(index, size);

        Assert.Equal(expected, Convert.ToHexStringLower(proof));
        Span<byte> leaf = stackalloc byte[MerkleHashes.Size];
        MerkleHashes.Leaf(Convert.FromHexString(Leaves[index]), leaf);
        Assert.True(MerkleProofs.VerifyInclusion(index, size, leaf, proof, Convert.FromHexString(Roots[size])));
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void GetConsistencyProof_TheVectors_MatchesAndVerifies(long size1, long size2, string expected)
    {
        MerkleLog log = VectorLog();
        byte[] proof = log.GetConsistencyProof(size1, size2);

        Assert.Equal(expected, Convert.ToHexStringLower(proof));
        Assert.True(MerkleProofs.VerifyConsistency(size1, size2, Convert.FromHexString(Roots[size1]), Convert.FromHexString(Roots[size2]), proof));
    }

    [Fact]
    public void Proofs_EveryLeafAndPairOfSizesUpTo64_VerifyAndEveryTamperingFails()
    {
        var log = new MerkleLog();
        var leaves = new List<byte[]>();
        for (int i = 0; i < Exhaustive; i++)
        {
            byte[] hash = new byte[MerkleHashes.Size];
            MerkleHashes.Leaf(BitConverter.GetBytes(i * 7919), hash);
            leaves.Add(hash);
            log.AppendLeafHash(hash);
        }

        var roots = new byte[Exhaustive + 1][];
        for (int n = 0; n <= Exhaustive; n++)
        {
            roots[n] = new byte[MerkleHashes.Size];
            log.GetRoot(n, roots[n]);
        }

        for (int n = 1; n <= Exhaustive; n++)
        {
            for (int i = 0; i < n; i++)
            {
                byte[] proof = log.GetInclusionProof(i, n);
                Assert.True(MerkleProofs.VerifyInclusion(i, n, leaves[i], proof, roots[n]), $"leaf {i} of {n}");
                Assert.False(MerkleProofs.VerifyInclusion(i, n, leaves[(i + 1) % Exhaustive], proof, roots[n]), $"another leaf at {i} of {n}");
                if ((i ^ 1) < n)
                {
                    Assert.False(MerkleProofs.VerifyInclusion(i ^ 1, n, leaves[i], proof, roots[n]), $"leaf {i} of {n} claimed at {i ^ 1}");
                }
                if (proof.Length != 0)
                {
                    proof[^1] ^= 1;
                    Assert.False(MerkleProofs.VerifyInclusion(i, n, leaves[i], proof, roots[n]), $"tampered proof of {i} in {n}");
                    Assert.False(MerkleProofs.VerifyInclusion(i, n, leaves[i], proof.AsSpan(0, proof.Length - MerkleHashes.Size), roots[n]), $"short proof of {i} in {n}");
                }
            }

            for (int m = 0; m <= n; m++)
            {
                byte[] proof = log.GetConsistencyProof(m, n);
                Assert.True(MerkleProofs.VerifyConsistency(m, n, roots[m], roots[n], proof), $"{m} to {n}");
                if (m > 0 && m < n)
                {
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, roots[m - 1], roots[n], proof), $"{m} to {n} with another first root");
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, roots[m], roots[n - 1], proof), $"{m} to {n} with another second root");
                    proof[0] ^= 1;
                    Assert.False(MerkleProofs.VerifyConsistency(m, n, roots[m], roots[n], proof), $"tampered {m} to {n}");
                }
            }
        }
    }

    [Fact]
    public void Rfc9162Reference_TheCertificateTransparencyLeaves_GivesTheirRootsAndProofs()
    {
        // The reference is itself checked against the shared vectors before it judges anything.
        byte[][] leaves = [.. Leaves.Select(Convert.FromHexString)];
        for (int n = 0; n <= leaves.Length; n++)
        {
            Assert.Equal(Roots[n], Convert.ToHexStringLower(Rfc9162Reference.Root(leaves, n)));
        }

        foreach (object[] vector in InclusionVectors)
        {
            Assert.Equal((string)vector[2], Convert.ToHexStringLower(Rfc9162Reference.Path(leaves, (int)(long)vector[0], (int)(long)vector[1])));
        }

        foreach (object[] vector in ConsistencyVectors)
        {
            Assert.Equal((string)vector[2], Convert.ToHexStringLower(Rfc9162Reference.Proof(leaves, (int)(long)vector[0], (int)(long)vector[1])));
        }
    }

    [Fact]
    public void Proofs_EveryLeafAndPairOfSizesUpTo64_AreTheRecursiveDefinitionsBytes()
    {
        var leaves = new List<byte[]>();
        var log = new MerkleLog();
        for (int i = 0; i < Exhaustive; i++)
        {
            // Leaves of varied lengths, the empty one included.
            byte[] leaf = [.. Enumerable.Range(0, i % 37).Select(b => unchecked((byte)((b * 31) + i)))];
            leaves.Add(leaf);
            log.AppendLeaf(leaf);
        }

        byte[] root = new byte[MerkleHashes.Size];
        for (int n = 0; n <= Exhaustive; n++)
        {
            log.GetRoot(n, root);
            Assert.Equal(Rfc9162Reference.Root(leaves, n), root);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(Rfc9162Reference.Path(leaves, i, n), log.GetInclusionProof(i, n));
            }

            for (int m = 0; m <= n; m++)
            {
                Assert.Equal(Rfc9162Reference.Proof(leaves, m, n), log.GetConsistencyProof(m, n));
            }
        }
    }

    [Fact]
    public void Verify_MalformedInput_IsFalseAndNeverThrows()
    {
        byte[] root = Convert.FromHexString(Roots[8]);
        byte[] leaf = new byte[MerkleHashes.Size];
        Assert.False(MerkleProofs.VerifyInclusion(-1, 8, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(8, 8, leaf, [], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 8, leaf.AsSpan(1), new byte[96], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, 8, leaf, new byte[95], root));
        Assert.False(MerkleProofs.VerifyInclusion(0, long.MaxValue, leaf, new byte[32 * 127], root));
        Assert.False(MerkleProofs.VerifyConsistency(5, 4, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(4, 8, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(4, 8, root, root, new byte[33]));
        Assert.True(MerkleProofs.VerifyConsistency(0, 8, MerkleHashes.EmptyRoot, root, []));
    }

    // A property that returns nothing passes when no call throws; random proofs of a real root must also fail.
    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void Verify_ArbitraryBytes_NeverThrowsAndNeverProvesARealRoot(long index, long size, byte[] proof, byte[] leaf)
    {
        byte[] root = Convert.FromHexString(Roots[8]);
        Assert.False(MerkleProofs.VerifyInclusion(index, size, leaf ?? [], proof ?? [], root));
        Assert.False(MerkleProofs.VerifyConsistency(index, size, leaf ?? [], root, proof ?? []));
    }

    private static MerkleLog VectorLog()
    {
        var log = new MerkleLog();
        foreach (string leaf in Leaves)
        {
            log.AppendLeaf(Convert.FromHexString(leaf));
        }

        return log;
    }

    private static string Root(MerkleLog log, long size)
    {
        byte[] root = new byte[MerkleHashes.Size];
        log.GetRoot(size, root);
        return Convert.ToHexStringLower(root);
    }
}
