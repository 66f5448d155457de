using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Channels.Formats;

/// <summary>FsCheck generators for the format properties: field values with their edge cases, and hostile byte strings.</summary>
internal static class FormatGenerators
{
    public static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(b => (byte)b);

    public static Gen<byte[]> Bytes(int length) => Gen.ArrayOf(Byte, length);

    public static readonly Gen<uint> UInt32 = Gen.OneOf(
        Gen.Elements(0u, 1u, 2u, uint.MaxValue - 1, uint.MaxValue),
        Bytes(4).Select(b => BinaryPrimitives.ReadUInt32LittleEndian(b)));

    public static readonly Gen<ulong> UInt64 = Gen.OneOf(
        Gen.Elements(0UL, 1UL, 2UL, ulong.MaxValue - 1, ulong.MaxValue),
        Gen.Choose(0, 1_000_000).Select(i => (ulong)i),
        Bytes(8).Select(b => BinaryPrimitives.ReadUInt64LittleEndian(b)));

    public static readonly Gen<UInt128> UInt128 = Gen.OneOf(
        Gen.Elements(System.UInt128.Zero, System.UInt128.One, System.UInt128.MaxValue - 1, System.UInt128.MaxValue, ReservedIds.First - 1, ReservedIds.First),
        Gen.Choose(0, 1_000_000).Select(i => (UInt128)i),
        Bytes(16).Select(b => BinaryPrimitives.ReadUInt128LittleEndian(b)));

    public static Gen<uint> NonZeroUInt32 => UInt32.Where(v => v != 0);

    public static Gen<ulong> NonZeroUInt64 => UInt64.Where(v => v != 0);

    public static Gen<UInt128> NonZeroUInt128 => UInt128.Where(v => v != System.UInt128.Zero);

    /// <summary>An id an ordinary account may have: not 0, not reserved.</summary>
    public static Gen<UInt128> AccountId => UInt128.Where(v => v != System.UInt128.Zero && !ReservedIds.IsReserved(v));

    /// <summary>
    /// Byte strings a parser may meet: any length up to 600, exactly the record's size, and a valid record with a few
    /// bytes overwritten (which reaches the field rules behind the version and reserved-byte checks).
    /// </summary>
    public static Gen<byte[]> Hostile(int size, byte[] valid) => Gen.OneOf(
        Gen.Choose(0, 600).SelectMany(Bytes),
        Bytes(size),
        Gen.Choose(1, 4).SelectMany(n =>
            Gen.ArrayOf(Gen.Choose(0, size - 1), n).SelectMany(positions =>
                Bytes(n).Select(values =>
                {
                    byte[] mutated = (byte[])valid.Clone();
                    for (int i = 0; i < n; i++)
                    {
                        mutated[positions[i]] = values[i];
                    }

                    return mutated;
                }))),
        Gen.Choose(0, size - 1).Select(bit =>
        {
            byte[] flipped = (byte[])valid.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            return flipped;
        }),
        Gen.Constant(valid));
}
