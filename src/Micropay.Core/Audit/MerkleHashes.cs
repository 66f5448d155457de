using System.Security.Cryptography;

namespace Micropay.Core.Audit;

/// <summary>
/// The hashes of an RFC 9162 (section 2.1.1) Merkle tree over SHA-256: a leaf is <c>SHA-256(0x00 || data)</c>, an inner
/// node <c>SHA-256(0x01 || left || right)</c>, and the empty tree's root is <c>SHA-256()</c>. The prefixes keep a leaf
/// from ever being taken for a node (a second-preimage defence).
/// </summary>
public static class MerkleHashes
{
    /// <summary>The size of every hash: 32 bytes.</summary>
    public const int Size = SHA256.HashSizeInBytes;

    // Leaves up to this size are hashed from a stack buffer.
    private const int StackLeafLimit = 1024;

    /// <summary>The root of the empty tree: SHA-256 of nothing.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary>Writes the leaf hash of <paramref name="data"/>.</summary>
    /// <param name="data">The leaf's bytes.</param>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public static void Leaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        CheckDestination(destination);
        if (data.Length <= StackLeafLimit)
        {
            // The common case (a ledger's leaves are a few hundred bytes) allocates nothing.
            Span<byte> input = stackalloc byte[1 + StackLeafLimit];
            input[0] = 0x00;
            data.CopyTo(input[1..]);
            SHA256.HashData(input[..(1 + data.Length)], destination);
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(data);
        hash.GetHashAndReset(destination);
    }

    /// <summary>Writes the hash of an inner node over its two children's hashes.</summary>
    /// <param name="left">The left child's 32-byte hash.</param>
    /// <param name="right">The right child's 32-byte hash.</param>
    /// <param name="destination">At least 32 bytes; may be either child's buffer.</param>
    /// <exception cref="ArgumentException">A child is not 32 bytes, or <paramref name="destination"/> is shorter.</exception>
    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        if (left.Length != Size || right.Length != Size)
        {
            throw new ArgumentException($"A node's children are {Size}-byte hashes.", left.Length != Size ? nameof(left) : nameof(right));
        }

        CheckDestination(destination);
        Span<byte> input = stackalloc byte[1 + (2 * Size)];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + Size)..]);
        SHA256.HashData(input, destination);
    }

    private static void CheckDestination(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A hash takes {Size} bytes.", nameof(destination));
        }
    }
}
