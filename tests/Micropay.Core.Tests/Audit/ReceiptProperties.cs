using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Audit;
using static Micropay.Core.Tests.Audit.ReceiptTestKit;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The receipt and leaf parsers and the offline verifier over arbitrary bytes (they never throw, and nothing arbitrary
/// verifies), and valid receipts with bits flipped or bytes replaced anywhere (they never verify with another leaf).
/// </summary>
public sealed class ReceiptProperties
{
    private static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(b => (byte)b);

    [Property(MaxTest = 500)]
    public Property Parsers_ArbitraryBytes_NeverThrowAndNeverVerify() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            bytes ??= [];
            bool receipt = AuditReceipt.TryParse(bytes, out AuditReceipt? parsed, out string? error);
            bool leaf = AuditLeaf.TryParse(bytes, out AuditLeaf parsedLeaf, out string? leafError);
            ReceiptResult result = ReceiptVerifier.Verify(bytes, Verifier, out AuditLeaf verified);
            return (receipt ? parsed is not null && error is null : parsed is null && error is not null) &&
                (leaf ? leafError is null && parsedLeaf.ToBytes().AsSpan().SequenceEqual(bytes) : leafError is not null) &&
                result != ReceiptResult.Ok && verified.Equals(default(AuditLeaf));
        });

    [Property(MaxTest = 500)]
    public Property Parsers_BytesWithAReceiptsHeader_NeverThrow() =>
        Prop.ForAll(FramedNoise().ToArbitrary(), bytes =>
        {
            // A header whose lengths add up, over random contents: the parsers and the verifier get past the framing.
            bool framed = AuditReceipt.TryParse(bytes, out AuditReceipt? parsed, out _);
            ReceiptResult result = ReceiptVerifier.Verify(bytes, Verifier, out _);
            if (framed)
            {
                _ = parsed!.TryGetLeaf(out _);
                _ = ReceiptVerifier.Verify(parsed, Verifier);
            }

            return result != ReceiptResult.Ok;
        });

    [Property(MaxTest = 500)]
    public Property Parsers_BytesWithALeafsHeader_NeverThrowAndWhatParsesRoundTrips() =>
        Prop.ForAll(LeafNoise().ToArbitrary(), bytes =>
        {
            bool parsed = AuditLeaf.TryParse(bytes, out AuditLeaf leaf, out string? error);
            return parsed ? error is null && leaf.ToBytes().AsSpan().SequenceEqual(bytes) : error is not null;
        });

    [Property(MaxTest = 300)]
    public Property Verify_AValidReceiptWithBitsFlipped_NeverVerifiesWithAnotherLeaf() =>
        Prop.ForAll(Flipped().ToArbitrary(), c =>
        {
            ReceiptResult result = ReceiptVerifier.Verify(c.Bytes, Verifier, out AuditLeaf leaf);
            return result != ReceiptResult.Ok || (leaf.ToBytes().AsSpan().SequenceEqual(Leaves[c.Index]) &&
                AuditReceipt.TryParse(c.Bytes, out AuditReceipt? parsed, out _) && parsed.LeafIndex == c.Index);
        });

    /// <summary>A valid receipt of a random leaf with one to three bits flipped, or one to four bytes replaced.</summary>
    private static Gen<(long Index, byte[] Bytes)> Flipped() =>
        from index in Gen.Choose(0, TreeSize - 1)
        from size in Gen.Choose(index + 1, TreeSize)
        let valid = Valid(index, size).ToBytes()
        from flips in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, (valid.Length * 8) - 1), n))
        from replace in ArbMap.Default.GeneratorFor<bool>()
        from values in Gen.ArrayOf(Byte, flips.Length)
        select ((long)index, Edit(valid, flips, replace, values));

    private static byte[] Edit(byte[] valid, int[] bits, bool replace, byte[] values)
    {
        byte[] copy = [.. valid];
        for (int i = 0; i < bits.Length; i++)
        {
            if (replace)
            {
                copy[bits[i] / 8] = values[i];
            }
            else
            {
                copy[bits[i] / 8] ^= (byte)(1 << (bits[i] % 8));
            }
        }

        return copy;
    }

    /// <summary>"MPRC", version 1, a proof count, an index and lengths that frame exactly the random bytes after them.</summary>
    private static Gen<byte[]> FramedNoise() =>
        from hashes in Gen.Choose(0, 70)
        from index in ArbMap.Default.GeneratorFor<long>()
        from leafLength in Gen.Choose(0, 300)
        from noteLength in Gen.Choose(0, 300)
        from body in Gen.ArrayOf(Byte, leafLength + (hashes * 32) + noteLength)
        select Frame(hashes, index, leafLength, noteLength, body);

    private static byte[] Frame(int hashes, long index, int leafLength, int noteLength, byte[] body)
    {
        byte[] bytes = new byte[24 + body.Length];
        "MPRC"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)hashes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), index);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), leafLength);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), noteLength);
        body.CopyTo(bytes, 24);
        return bytes;
    }

    /// <summary>A leaf header with random fields (version 1 mostly, sizes near the length that follows) and random bytes after it.</summary>
    private static Gen<byte[]> LeafNoise() =>
        from header in Gen.ArrayOf(Byte, 32)
        from version in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(0, 3)))
        from eventLength in Gen.Choose(0, 40).Select(n => n * 4)
        from declared in Gen.Frequency((3, Gen.Constant(eventLength)), (1, Gen.Choose(-16, 200)))
        from tail in Gen.ArrayOf(Byte, eventLength)
        select Leaf(header, version, declared, tail);

    private static byte[] Leaf(byte[] header, int version, int declared, byte[] tail)
    {
        byte[] bytes = [.. header, .. tail];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(28), declared);
        return bytes;
    }
}
