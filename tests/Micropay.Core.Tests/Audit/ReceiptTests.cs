using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Audit;
using static Micropay.Core.Tests.Audit.ReceiptTestKit;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// Receipts: their byte table round-trips, the framing parser rejects each malformed field, and the offline verifier
/// gives each of its outcomes for a receipt crafted to have exactly that fault; no single flipped bit anywhere in a
/// valid receipt verifies with another leaf.
/// </summary>
public sealed class ReceiptTests
{
    [Fact]
    public void Verify_EveryLeafAtEverySize_IsOkWithThatLeaf()
    {
        for (long size = 1; size <= TreeSize; size++)
        {
            for (long index = 0; index < size; index++)
            {
                AuditReceipt receipt = Valid(index, size);
                Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt, Verifier, out AuditLeaf leaf));
                Assert.Equal(Leaves[index], leaf.ToBytes());
                Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt.ToBytes(), Verifier, out AuditLeaf fromBytes));
                Assert.Equal(Leaves[index], fromBytes.ToBytes());
            }
        }
    }

    [Fact]
    public void ToBytes_ThenTryParse_RoundTripsAndFollowsTheByteTable()
    {
        AuditReceipt receipt = Valid(5);
        byte[] bytes = receipt.ToBytes();
        int proofLength = receipt.Proof.Length;
        int noteLength = Encoding.UTF8.GetByteCount(receipt.CheckpointNote);

        Assert.Equal("MPRC"u8.ToArray(), bytes[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(proofLength / 32, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(5, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(Leaves[5].Length, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(noteLength, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(Leaves[5], bytes.AsSpan(24, Leaves[5].Length).ToArray());
        Assert.Equal(receipt.Proof.ToArray(), bytes.AsSpan(24 + Leaves[5].Length, proofLength).ToArray());
        Assert.Equal(receipt.CheckpointNote, Encoding.UTF8.GetString(bytes.AsSpan(24 + Leaves[5].Length + proofLength)));
        Assert.Equal(24 + Leaves[5].Length + proofLength + noteLength, bytes.Length);

        Assert.True(AuditReceipt.TryParse(bytes, out AuditReceipt? parsed, out string? error), error);
        Assert.Null(error);
        Assert.Equal(receipt.LeafIndex, parsed.LeafIndex);
        Assert.Equal(receipt.LeafBytes.ToArray(), parsed.LeafBytes.ToArray());
        Assert.Equal(receipt.Proof.ToArray(), parsed.Proof.ToArray());
        Assert.Equal(receipt.CheckpointNote, parsed.CheckpointNote);
        Assert.Equal(bytes, parsed.ToBytes());
        Assert.True(parsed.TryGetLeaf(out AuditLeaf leaf));
        Assert.Equal(Leaves[5], leaf.ToBytes());

        // A tree of one leaf: an empty proof.
        AuditReceipt single = Valid(0, 1);
        Assert.Equal(0, single.Proof.Length);
        Assert.True(AuditReceipt.TryParse(single.ToBytes(), out AuditReceipt? parsedSingle, out _));
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(parsedSingle, Verifier));
    }

    public static TheoryData<string, int, int, long> MalformedFraming => new()
    {
        // what, offset, width, value
        { "magic", 0, 4, 0x4352504E },
        { "version 0", 4, 2, 0 },
        { "version 2", 4, 2, 2 },
        { "64 proof hashes", 6, 2, 64 },
        { "65535 proof hashes", 6, 2, 65535 },
        { "negative index", 8, 8, -1 },
        { "leaf shorter than a leaf header", 16, 4, 31 },
        { "negative leaf length", 16, 4, -1 },
        { "leaf longer than the largest leaf", 16, 4, 32 + (64 * 1024) + 1 },
        { "note of 0 bytes", 20, 4, 0 },
        { "negative note length", 20, 4, -5 },
        { "note over 1 MiB", 20, 4, (1 << 20) + 1 },
        { "leaf length off by one", 16, 4, 161 },
        { "note length off by one", 20, 4, -2 },
        { "one proof hash fewer", 6, 2, -1 },
    };

    [Theory]
    [MemberData(nameof(MalformedFraming))]
    public void TryParse_AMalformedHeaderField_IsRejectedWithAReason(string what, int offset, int width, long value)
    {
        byte[] bytes = Valid(5).ToBytes();
        switch (what)
        {
            case "note length off by one":
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)) + 1);
                break;
            case "one proof hash fewer":
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)) - 1));
                break;
            default:
                switch (width)
                {
                    case 2: BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), (ushort)value); break;
                    case 4: BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), (int)value); break;
                    default: BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value); break;
                }

                break;
        }

        Assert.False(AuditReceipt.TryParse(bytes, out AuditReceipt? receipt, out string? error), what);
        Assert.Null(receipt);
        Assert.NotNull(error);
        Assert.Equal(ReceiptResult.Malformed, ReceiptVerifier.Verify(bytes, Verifier, out AuditLeaf leaf));
        Assert.Equal(default, leaf);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(23)]
    [InlineData(-1)]
    [InlineData(1)]
    public void TryParse_TheWrongLength_IsRejected(int change)
    {
        byte[] valid = Valid(5).ToBytes();
        byte[] bytes = change switch
        {
            -1 => valid[..^1],
            1 => [.. valid, 0x0A],
            _ => valid[..change],
        };

        Assert.False(AuditReceipt.TryParse(bytes, out _, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TryParse_ANoteThatIsNotUtf8_IsRejected()
    {
        byte[] bytes = Valid(5).ToBytes();
        bytes[^3] = 0xFF;
        Assert.False(AuditReceipt.TryParse(bytes, out _, out string? error));
        Assert.Contains("UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BadParts_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>("leafIndex", () => new AuditReceipt(-1, Leaves[0], [], Note()));
        Assert.Throws<ArgumentNullException>("checkpointNote", () => new AuditReceipt(0, Leaves[0], [], null!));
        Assert.Throws<ArgumentException>("proof", () => new AuditReceipt(0, Leaves[0], new byte[33], Note()));
        Assert.Throws<ArgumentException>("proof", () => new AuditReceipt(0, Leaves[0], new byte[32 * 64], Note()));
        _ = new AuditReceipt(0, Leaves[0], new byte[32 * 63], Note());
    }

    [Fact]
    public void Verify_ALeafThatDoesNotParse_IsMalformed()
    {
        byte[] leaf = [.. Leaves[5]];
        leaf[0] = 9;
        var receipt = new AuditReceipt(5, leaf, Log.GetInclusionProof(5, TreeSize), Note());
        Assert.Equal(ReceiptResult.Malformed, ReceiptVerifier.Verify(receipt, Verifier));
        Assert.False(receipt.TryGetLeaf(out _));
    }

    [Fact]
    public void Verify_ASignedNoteThatIsNotACheckpoint_IsMalformed()
    {
        string note = SignedNote.Sign("ledger.example/receipts\nnot a size\n", Origin, LedgerKey);
        var receipt = new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), note);
        Assert.Equal(ReceiptResult.Malformed, ReceiptVerifier.Verify(receipt, Verifier));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no blank line\n")]
    [InlineData("ledger.example/receipts\n13\nAAAA\n\n\u2014 not-a-signature-line\n")]
    public void Verify_ANoteThatIsNotASignedNote_IsMalformed(string note)
    {
        // The framing needs a note of at least one byte; the empty one is a receipt whose bytes do not frame.
        if (note.Length == 0)
        {
            byte[] bytes = Valid(5).ToBytes();
            int noteLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20));
            bytes = bytes[..^noteLength];
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), 0);
            Assert.Equal(ReceiptResult.Malformed, ReceiptVerifier.Verify(bytes, Verifier, out _));
            return;
        }

        var receipt = new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), note);
        Assert.Equal(ReceiptResult.Malformed, ReceiptVerifier.Verify(receipt, Verifier));
    }

    [Fact]
    public void Verify_ACheckpointSignedByAnotherKey_IsNotSignedByLedger()
    {
        // Another key under the ledger's name (another key id), and the ledger's key under another name.
        AuditReceipt otherKey = new(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), Note(key: OtherKey));
        Assert.Equal(ReceiptResult.NotSignedByLedger, ReceiptVerifier.Verify(otherKey, Verifier));
        AuditReceipt otherName = new(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), Note(name: "someone.else/log"));
        Assert.Equal(ReceiptResult.NotSignedByLedger, ReceiptVerifier.Verify(otherName, Verifier));

        // A verifier holding another ledger's key.
        Assert.Equal(ReceiptResult.NotSignedByLedger, ReceiptVerifier.Verify(Valid(5), NoteVerifierKey.Create(Origin, OtherKey.VerificationKey)));
    }

    [Fact]
    public void Verify_ACheckpointChangedAfterSigning_IsBadSignature()
    {
        // The size line changed from 13 to 12, root and signature kept; and the root replaced by the size-12 root.
        string note = Note();
        string smaller = note.Replace("\n13\n", "\n12\n", StringComparison.Ordinal);
        Assert.NotEqual(note, smaller);
        Assert.Equal(ReceiptResult.BadSignature, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, 12), smaller), Verifier));

        string rootLine = Convert.ToBase64String(Root(TreeSize));
        string otherRoot = note.Replace(rootLine, Convert.ToBase64String(Root(12)), StringComparison.Ordinal);
        Assert.NotEqual(note, otherRoot);
        Assert.Equal(ReceiptResult.BadSignature, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), otherRoot), Verifier));
    }

    [Fact]
    public void Verify_ACheckpointOfAnotherOrigin_IsWrongOrigin()
    {
        // The ledger's key signed it under its name, but the body names another log.
        var receipt = new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, TreeSize), Note(origin: "another.example/log"));
        Assert.Equal(ReceiptResult.WrongOrigin, ReceiptVerifier.Verify(receipt, Verifier));
    }

    [Fact]
    public void Verify_ALeafIndexAtOrPastTheTreeSize_IsLeafOutsideTree()
    {
        Assert.Equal(ReceiptResult.LeafOutsideTree, ReceiptVerifier.Verify(new AuditReceipt(12, Leaves[12], Log.GetInclusionProof(11, 12), Note(12)), Verifier));
        Assert.Equal(ReceiptResult.LeafOutsideTree, ReceiptVerifier.Verify(new AuditReceipt(long.MaxValue, Leaves[0], [], Note()), Verifier));
        Assert.Equal(ReceiptResult.LeafOutsideTree, ReceiptVerifier.Verify(new AuditReceipt(0, Leaves[0], [], Note(0)), Verifier));
    }

    [Fact]
    public void Verify_AProofOrLeafThatDoesNotLeadToTheRoot_IsProofInvalid()
    {
        byte[] proof = Log.GetInclusionProof(5, TreeSize);

        // A changed proof hash; another leaf's proof; another leaf's bytes at this index; a leaf whose result was changed
        // (it still parses); a proof for the tree at another size; a proof cut short or padded.
        byte[] tampered = [.. proof];
        tampered[40] ^= 1;
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], tampered, Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(4, TreeSize), Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[6], proof, Note()), Verifier));
        byte[] otherResult = [.. Leaves[5]];
        otherResult[4] ^= 1;
        Assert.True(AuditLeaf.TryParse(otherResult, out _, out _));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, otherResult, proof, Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], Log.GetInclusionProof(5, 12), Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], proof.AsSpan(32).ToArray(), Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(5, Leaves[5], [.. proof, .. proof.AsSpan(0, 32)], Note()), Verifier));
        Assert.Equal(ReceiptResult.ProofInvalid, ReceiptVerifier.Verify(new AuditReceipt(4, Leaves[5], proof, Note()), Verifier));
    }

    [Fact]
    public void Verify_ABitFlippedAnywhereInAValidReceipt_NeverVerifiesWithAnotherLeaf()
    {
        foreach (long index in new long[] { 0, 5, 12 })
        {
            byte[] bytes = Valid(index).ToBytes();
            int ok = 0;
            for (int bit = 0; bit < bytes.Length * 8; bit++)
            {
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                ReceiptResult result = ReceiptVerifier.Verify(bytes, Verifier, out AuditLeaf leaf);
                if (result == ReceiptResult.Ok)
                {
                    // Only where the bytes carry no meaning (the unused low bits of the signature's last base64 digit).
                    ok++;
                    Assert.Equal(Leaves[index], leaf.ToBytes());
                    Assert.True(AuditReceipt.TryParse(bytes, out AuditReceipt? parsed, out _));
                    Assert.Equal(index, parsed.LeafIndex);
                }

                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.True(ok <= 8, $"{ok} flipped bits still verified");
        }
    }

    [Fact]
    public void Verify_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>("receipt", () => ReceiptVerifier.Verify(null!, Verifier));
        Assert.Throws<ArgumentNullException>("ledgerKey", () => ReceiptVerifier.Verify(Valid(0), null!));
    }
}
