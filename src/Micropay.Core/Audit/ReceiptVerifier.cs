using System.Text;

namespace Micropay.Core.Audit;

/// <summary>The outcome of checking a receipt (<see cref="ReceiptVerifier.Verify(AuditReceipt, NoteVerifierKey)"/>).</summary>
public enum ReceiptResult : byte
{
    /// <summary>The ledger's key signed a checkpoint whose tree holds this leaf at this index.</summary>
    Ok = 0,

    /// <summary>The receipt's bytes, its leaf or its checkpoint body do not parse.</summary>
    Malformed = 1,

    /// <summary>The checkpoint note carries no signature by the ledger's key.</summary>
    NotSignedByLedger = 2,

    /// <summary>The ledger key's signature on the checkpoint does not verify: the checkpoint was altered.</summary>
    BadSignature = 3,

    /// <summary>The checkpoint's origin is not the ledger key's name: a checkpoint of another log.</summary>
    WrongOrigin = 4,

    /// <summary>The leaf's index is not inside the checkpoint's tree.</summary>
    LeafOutsideTree = 5,

    /// <summary>The inclusion proof does not lead from the leaf to the checkpoint's root: the leaf or the proof was altered.</summary>
    ProofInvalid = 6,

    /// <summary>Fewer of the trusted witnesses than required co-signed the checkpoint (C2SP tlog-cosignature), or one's cosignature does not verify.</summary>
    TooFewCosignatures = 7,
}

/// <summary>
/// Checks a receipt offline, with nothing but the ledger's verifier key: the checkpoint's signature, its origin, and the
/// leaf's inclusion proof against the checkpoint's root (RFC 9162 section 2.1.3.2). Never throws on bad input.
/// </summary>
public static class ReceiptVerifier
{
    /// <summary>Checks an encoded receipt.</summary>
    /// <param name="receipt">The receipt's bytes (<see cref="AuditReceipt.ToBytes"/>).</param>
    /// <param name="ledgerKey">The ledger's checkpoint verifier key (its name is the log's origin).</param>
    /// <param name="leaf">The verified leaf, when the result is <see cref="ReceiptResult.Ok"/>.</param>
    /// <returns>The outcome.</returns>
    public static ReceiptResult Verify(ReadOnlySpan<byte> receipt, NoteVerifierKey ledgerKey, out AuditLeaf leaf)
    {
        leaf = default;
        return AuditReceipt.TryParse(receipt, out AuditReceipt? parsed, out _) ? Verify(parsed, ledgerKey, out leaf) : ReceiptResult.Malformed;
    }

    /// <summary>Checks a receipt.</summary>
    /// <param name="receipt">The receipt.</param>
    /// <param name="ledgerKey">The ledger's checkpoint verifier key (its name is the log's origin).</param>
    /// <returns>The outcome.</returns>
    public static ReceiptResult Verify(AuditReceipt receipt, NoteVerifierKey ledgerKey) => Verify(receipt, ledgerKey, out _);

    /// <summary>
    /// Checks a receipt whose checkpoint must also be co-signed by at least <paramref name="required"/> of
    /// <paramref name="witnesses"/> (C2SP tlog-cosignature): witnesses vouch that the ledger showed them the same tree, so
    /// it cannot give this payer a history it hides from others. A witness's bad cosignature fails the receipt.
    /// </summary>
    /// <param name="receipt">The receipt (its checkpoint note with the witnesses' lines: <see cref="AuditReceipt.WithCheckpointNote"/>).</param>
    /// <param name="ledgerKey">The ledger's checkpoint verifier key.</param>
    /// <param name="witnesses">The witnesses the caller trusts.</param>
    /// <param name="required">How many of them must have co-signed.</param>
    /// <param name="leaf">The verified leaf, when the result is <see cref="ReceiptResult.Ok"/>.</param>
    /// <returns>The outcome.</returns>
    public static ReceiptResult Verify(AuditReceipt receipt, NoteVerifierKey ledgerKey, IReadOnlyList<CosignerKey> witnesses, int required, out AuditLeaf leaf)
    {
        ArgumentNullException.ThrowIfNull(witnesses);
        ArgumentOutOfRangeException.ThrowIfNegative(required);
        ReceiptResult result = Verify(receipt, ledgerKey, out leaf);
        if (result != ReceiptResult.Ok)
        {
            return result;
        }

        byte[] note = Encoding.UTF8.GetBytes(receipt.CheckpointNote);
        int cosigned = 0;
        foreach (CosignerKey witness in witnesses)
        {
            switch (Cosignature.TryVerify(note, witness, out _))
            {
                case CosignatureResult.Ok:
                    cosigned++;
                    break;
                case CosignatureResult.NotCosigned:
                    break;
                default:
                    leaf = default;
                    return ReceiptResult.TooFewCosignatures;
            }
        }

        if (cosigned < required)
        {
            leaf = default;
            return ReceiptResult.TooFewCosignatures;
        }

        return ReceiptResult.Ok;
    }

    /// <summary>Checks a receipt.</summary>
    /// <param name="receipt">The receipt.</param>
    /// <param name="ledgerKey">The ledger's checkpoint verifier key (its name is the log's origin).</param>
    /// <param name="leaf">The verified leaf, when the result is <see cref="ReceiptResult.Ok"/>.</param>
    /// <returns>The outcome.</returns>
    public static ReceiptResult Verify(AuditReceipt receipt, NoteVerifierKey ledgerKey, out AuditLeaf leaf)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(ledgerKey);
        leaf = default;
        if (!AuditLeaf.TryParse(receipt.LeafBytes, out AuditLeaf parsedLeaf, out _))
        {
            return ReceiptResult.Malformed;
        }

        NoteResult opened = SignedNote.TryOpen(Encoding.UTF8.GetBytes(receipt.CheckpointNote), [ledgerKey], out string? text, out _);
        switch (opened)
        {
            case NoteResult.Ok:
                break;
            case NoteResult.NoKnownSignature:
                return ReceiptResult.NotSignedByLedger;
            case NoteResult.BadSignature:
                return ReceiptResult.BadSignature;
            default:
                return ReceiptResult.Malformed;
        }

        if (!Checkpoint.TryParse(text, out Checkpoint? checkpoint, out _))
        {
            return ReceiptResult.Malformed;
        }

        if (!string.Equals(checkpoint.Origin, ledgerKey.Name, StringComparison.Ordinal))
        {
            return ReceiptResult.WrongOrigin;
        }

        if (receipt.LeafIndex >= checkpoint.Size)
        {
            return ReceiptResult.LeafOutsideTree;
        }

        Span<byte> leafHash = stackalloc byte[MerkleHashes.Size];
        MerkleHashes.Leaf(receipt.LeafBytes.Span, leafHash);
        if (!MerkleProofs.VerifyInclusion(receipt.LeafIndex, checkpoint.Size, leafHash, receipt.Proof.Span, checkpoint.RootHash))
        {
            return ReceiptResult.ProofInvalid;
        }

        leaf = parsedLeaf;
        return ReceiptResult.Ok;
    }
}
