using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The PayWord hash chain of a hash-chain channel: w_n = seed, w_(i-1) = BLAKE2b-256(w_i), root w_0. Revealing w_i pays i
/// units in total; a verifier holding any earlier word w_j (j &lt; i) checks BLAKE2b-256 applied i − j times to w_i gives w_j.
/// </summary>
public static class HashChain
{
    /// <summary>The size of a word (and of the root): 32 bytes.</summary>
    public const int WordSize = Blake2b256.Size;

    /// <summary>Computes a chain's root, H^n(seed): <paramref name="length"/> hashes.</summary>
    /// <param name="seed">The secret 32-byte seed (w_n).</param>
    /// <param name="length">n, the number of units the chain can pay.</param>
    /// <param name="root">Receives the 32-byte root.</param>
    /// <exception cref="ArgumentException">The seed or root is not 32 bytes.</exception>
    public static void ComputeRoot(ReadOnlySpan<byte> seed, uint length, Span<byte> root)
    {
        if (seed.Length != WordSize || root.Length < WordSize)
        {
            throw new ArgumentException("A chain's seed and root are 32 bytes.", seed.Length != WordSize ? nameof(seed) : nameof(root));
        }

        Blake2b256.Iterate(seed, length, root);
    }

    /// <summary>
    /// Whether <paramref name="word"/> is the chain's word at <paramref name="index"/>, given the word
    /// <paramref name="anchorWord"/> at a lower <paramref name="anchorIndex"/>: index − anchorIndex hashes. Never throws.
    /// </summary>
    /// <param name="word">The revealed 32-byte word.</param>
    /// <param name="index">Its index.</param>
    /// <param name="anchorWord">A word already trusted (the root, or the last accepted tick's).</param>
    /// <param name="anchorIndex">Its index (0 for the root).</param>
    /// <returns>False for wrong lengths, an index not above the anchor's, or a word that does not hash to the anchor.</returns>
    public static bool Verify(ReadOnlySpan<byte> word, uint index, ReadOnlySpan<byte> anchorWord, uint anchorIndex)
    {
        if (word.Length != WordSize || anchorWord.Length != WordSize || index <= anchorIndex)
        {
            return false;
        }

        // A plain (vectorised) compare, not a constant-time one: both sides are public (the anchor is the signed root or a
        // word already revealed), so timing tells nothing; CryptographicOperations.FixedTimeEquals, compiled without
        // optimisation on purpose, cost about 100 ns here, half a hash (benchmarks/README.md, "Channels").
        Span<byte> hashed = stackalloc byte[WordSize];
        Blake2b256.Iterate(word, index - anchorIndex, hashed);
        return hashed.SequenceEqual(anchorWord);
    }

    /// <summary>Whether <paramref name="word"/> is the word at <paramref name="index"/> of the chain with this root: <paramref name="index"/> hashes.</summary>
    /// <param name="word">The revealed 32-byte word.</param>
    /// <param name="index">Its index, at least 1.</param>
    /// <param name="root">The chain's root (from the channel config).</param>
    /// <returns>Whether it is.</returns>
    public static bool VerifyAgainstRoot(ReadOnlySpan<byte> word, uint index, ReadOnlySpan<byte> root) => Verify(word, index, root, 0);
}
