namespace Micropay.Core.Crypto;

/// <summary>BLAKE2b with a 32-byte output (unkeyed), through NSec (libsodium): the hash of hash-chain ticks.</summary>
internal static class Blake2b256
{
    /// <summary>The output size: 32 bytes.</summary>
    public const int Size = 32;

    private static readonly NSec.Cryptography.HashAlgorithm Algorithm = NSec.Cryptography.HashAlgorithm.Blake2b_256;

    /// <summary>Hashes <paramref name="source"/> into the first 32 bytes of <paramref name="destination"/>. Allocates nothing.</summary>
    public static void Hash(ReadOnlySpan<byte> source, Span<byte> destination) => Algorithm.Hash(source, destination[..Size]);

    /// <summary>
    /// Applies the hash <paramref name="count"/> times to a 32-byte <paramref name="start"/> (0 times copies it), into
    /// <paramref name="destination"/>, which may be the same memory. Allocates nothing and copies nothing: every step
    /// hashes the destination in place (libsodium's BLAKE2b reads its whole input before it writes the digest).
    /// </summary>
    public static void Iterate(ReadOnlySpan<byte> start, long count, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Span<byte> output = destination[..Size];
        if (count == 0)
        {
            start[..Size].CopyTo(output);
            return;
        }

        Algorithm.Hash(start[..Size], output);
        for (long i = 1; i < count; i++)
        {
            Algorithm.Hash(output, output);
        }
    }
}
