using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Micropay.Core.Audit;

/// <summary>
/// Proof that the ledger recorded an event with a given result at a given time: the leaf (the journaled event, its
/// result and its timestamp), the RFC 9162 inclusion proof of the leaf in a tree, and the ledger's signed checkpoint of
/// that tree. Anyone holding the ledger's verifier key checks it offline (<see cref="ReceiptVerifier"/>).
/// </summary>
/// <remarks>
/// <para>Byte layout (little-endian):</para>
/// <code>
/// offset size field
///      0    4 Magic        "MPRC"
///      4    2 Version      1
///      6    2 ProofHashes  k, 0 to 63
///      8    8 LeafIndex    the leaf's index in the tree
///     16    4 LeafLength   L
///     20    4 NoteLength   C, up to 1 MiB
///     24    L Leaf         the encoded AuditLeaf
///      .   32k Proof       the inclusion proof's hashes, the leaf's sibling first
///      .    C Checkpoint   the signed checkpoint note, UTF-8
/// </code>
/// </remarks>
public sealed class AuditReceipt
{
    /// <summary>The most proof hashes a receipt holds (a tree of at most 2^63 leaves).</summary>
    public const int MaxProofHashes = 63;

    private const int HeaderSize = 24;
    private const ushort Version = 1;

    private readonly byte[] _leaf;
    private readonly byte[] _proof;

    /// <summary>Creates a receipt from its parts (the ledger's engine does; a verifier reads one with <see cref="TryParse"/>).</summary>
    /// <param name="leafIndex">The leaf's index.</param>
    /// <param name="leaf">The encoded leaf.</param>
    /// <param name="proof">The inclusion proof's hashes, concatenated.</param>
    /// <param name="checkpointNote">The signed checkpoint.</param>
    /// <exception cref="ArgumentException">The proof is not a whole number of hashes, or too long.</exception>
    public AuditReceipt(long leafIndex, ReadOnlySpan<byte> leaf, ReadOnlySpan<byte> proof, string checkpointNote)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentNullException.ThrowIfNull(checkpointNote);
        if (proof.Length % MerkleHashes.Size != 0 || proof.Length / MerkleHashes.Size > MaxProofHashes)
        {
            throw new ArgumentException($"A proof is up to {MaxProofHashes} hashes of {MerkleHashes.Size} bytes.", nameof(proof));
        }

        LeafIndex = leafIndex;
        _leaf = leaf.ToArray();
        _proof = proof.ToArray();
        CheckpointNote = checkpointNote;
    }

    /// <summary>The leaf's index in the tree.</summary>
    public long LeafIndex { get; }

    /// <summary>The encoded leaf (<see cref="AuditLeaf"/>).</summary>
    public ReadOnlyMemory<byte> LeafBytes => _leaf;

    /// <summary>The inclusion proof's hashes, concatenated, the leaf's sibling first.</summary>
    public ReadOnlyMemory<byte> Proof => _proof;

    /// <summary>The ledger's signed checkpoint of the tree the proof is for.</summary>
    public string CheckpointNote { get; }

    /// <summary>
    /// The same receipt under another note of the same checkpoint: the ledger's note with witnesses' cosignature lines
    /// added (a witness co-signs the checkpoint's text; the ledger's signature and the proof stay valid).
    /// </summary>
    /// <param name="checkpointNote">The signed note.</param>
    /// <returns>The receipt with that note.</returns>
    public AuditReceipt WithCheckpointNote(string checkpointNote) => new(LeafIndex, _leaf, _proof, checkpointNote);

    /// <summary>The leaf, read (a receipt whose leaf does not parse never verifies).</summary>
    /// <param name="leaf">The leaf.</param>
    /// <returns>Whether the leaf bytes parse.</returns>
    public bool TryGetLeaf(out AuditLeaf leaf) => AuditLeaf.TryParse(_leaf, out leaf, out _);

    /// <summary>The encoded receipt.</summary>
    public byte[] ToBytes()
    {
        byte[] note = Encoding.UTF8.GetBytes(CheckpointNote);
        byte[] bytes = new byte[HeaderSize + _leaf.Length + _proof.Length + note.Length];
        "MPRC"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), Version);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)(_proof.Length / MerkleHashes.Size));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), LeafIndex);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), _leaf.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), note.Length);
        _leaf.CopyTo(bytes, HeaderSize);
        _proof.CopyTo(bytes, HeaderSize + _leaf.Length);
        note.CopyTo(bytes, HeaderSize + _leaf.Length + _proof.Length);
        return bytes;
    }

    /// <summary>Reads an encoded receipt; never throws. Only the framing is checked here; <see cref="ReceiptVerifier"/> checks the rest.</summary>
    /// <param name="bytes">The encoded receipt.</param>
    /// <param name="receipt">The receipt, or null.</param>
    /// <param name="error">What is wrong with the bytes, or null.</param>
    /// <returns>Whether the bytes frame a receipt.</returns>
    public static bool TryParse(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out AuditReceipt? receipt, out string? error)
    {
        receipt = null;
        if (bytes.Length < HeaderSize || !bytes[..4].SequenceEqual("MPRC"u8))
        {
            error = "not a receipt (no \"MPRC\" header)";
            return false;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]);
        int hashes = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]);
        long index = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        int leafLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        int noteLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
        error = version != Version ? $"the receipt's version is {version}; this build reads version {Version}"
            : hashes > MaxProofHashes ? $"the receipt's proof has {hashes} hashes; at most {MaxProofHashes}"
            : index < 0 ? "the receipt's leaf index is negative"
            : leafLength is < AuditLeaf.HeaderSize or > AuditLeaf.HeaderSize + Storage.CommitBatchHeader.MaxEventSize ? $"the receipt's leaf length {leafLength} is out of range"
            : noteLength is < 1 or > SignedNote.MaxNoteBytes ? $"the receipt's checkpoint length {noteLength} is out of range"
            : bytes.Length != (long)HeaderSize + leafLength + ((long)hashes * MerkleHashes.Size) + noteLength ? "the receipt's length does not match its header"
            : null;
        if (error is not null)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = bytes[HeaderSize..];
        ReadOnlySpan<byte> leaf = rest[..leafLength];
        ReadOnlySpan<byte> proof = rest.Slice(leafLength, hashes * MerkleHashes.Size);
        ReadOnlySpan<byte> note = rest[(leafLength + proof.Length)..];
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(note);
        }
        catch (DecoderFallbackException)
        {
            error = "the receipt's checkpoint is not UTF-8";
            return false;
        }

        receipt = new AuditReceipt(index, leaf, proof, text);
        return true;
    }
}
