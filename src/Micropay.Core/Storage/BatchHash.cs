using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Micropay.Core.Storage;

/// <summary>A 32-byte SHA-256 digest: the hash of an encoded <see cref="CommitBatch"/>, which chains batches together.</summary>
public readonly struct BatchHash : IEquatable<BatchHash>
{
    /// <summary>The size of the digest in bytes: 32.</summary>
    public const int Size = 32;

    // Four words, so the struct is a value with no heap allocation; bytes are kept in order (little-endian words).
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    /// <summary>Creates a hash from its 32 bytes.</summary>
    /// <param name="bytes">Exactly <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 32 bytes long.</exception>
    public BatchHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A batch hash is exactly {Size} bytes.", nameof(bytes));
        }

        _a = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
    }

    /// <summary>The all-zero hash: the "previous batch hash" of batch 1, and an unset audit root.</summary>
    public static BatchHash Zero => default;

    /// <summary>Whether this is <see cref="Zero"/>.</summary>
    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>SHA-256 of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes to hash (an encoded batch).</param>
    /// <returns>The digest.</returns>
    public static BatchHash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Size];
        SHA256.HashData(data, digest);
        return new BatchHash(digest);
    }

    /// <summary>Writes the 32 bytes.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination must hold at least {Size} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    /// <inheritdoc />
    public bool Equals(BatchHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BatchHash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    /// <summary>Compares two hashes.</summary>
    public static bool operator ==(BatchHash left, BatchHash right) => left.Equals(right);

    /// <summary>Compares two hashes.</summary>
    public static bool operator !=(BatchHash left, BatchHash right) => !left.Equals(right);

    /// <summary>The hash in lowercase hexadecimal.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
