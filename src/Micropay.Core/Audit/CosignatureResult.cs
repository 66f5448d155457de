namespace Micropay.Core.Audit;

/// <summary>The outcome of checking one witness's cosignature on a signed checkpoint (<see cref="Cosignature.TryVerify"/>).</summary>
public enum CosignatureResult : byte
{
    /// <summary>The note carries exactly one line by the witness (its name and key id), and it verifies.</summary>
    Ok = 0,

    /// <summary>
    /// The note breaks the signed-note format, its text is not a checkpoint body, or the witness's line is not a
    /// cosignature/v1 one: not exactly key id, 8-byte timestamp and 64-byte signature, or a timestamp over
    /// <see cref="Cosignature.MaxTimestamp"/>.
    /// </summary>
    Malformed = 1,

    /// <summary>The note carries more than <see cref="SignedNote.MaxSignatures"/> signature lines, or is over <see cref="SignedNote.MaxNoteBytes"/>.</summary>
    TooLarge = 2,

    /// <summary>No line carries the witness's name and key id: the witness has not cosigned this note (lines by others are ignored).</summary>
    NotCosigned = 3,

    /// <summary>The witness's line does not verify over this checkpoint at its timestamp: forged, or the note was changed.</summary>
    BadSignature = 4,

    /// <summary>
    /// Two or more lines carry the witness's name and key id. A witness writes one line per checkpoint, and two would
    /// leave the cosigned time ambiguous, so the note is refused rather than one line picked.
    /// </summary>
    DuplicateCosignature = 5,
}
