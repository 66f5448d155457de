namespace Micropay.Core.Audit;

/// <summary>
/// A checkpoint the ledger signed: a C2SP tlog-checkpoint body (origin, tree size, root hash) in a C2SP signed note,
/// covering only durable batches. Its <see cref="Note"/> is the text any C2SP verifier checks with the ledger's
/// verifier key.
/// </summary>
public sealed class SignedCheckpoint
{
    internal SignedCheckpoint(string note, Checkpoint checkpoint, ulong batchNumber)
    {
        Note = note;
        Checkpoint = checkpoint;
        BatchNumber = batchNumber;
    }

    /// <summary>The signed note: the checkpoint body, a blank line, and the signature lines.</summary>
    public string Note { get; }

    /// <summary>The checkpoint body.</summary>
    public Checkpoint Checkpoint { get; }

    /// <summary>The tree size the checkpoint commits to.</summary>
    public long Size => Checkpoint.Size;

    /// <summary>The last journal batch the checkpoint covers.</summary>
    public ulong BatchNumber { get; }

    /// <inheritdoc />
    public override string ToString() => Note;
}
