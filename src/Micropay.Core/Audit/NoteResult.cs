namespace Micropay.Core.Audit;

/// <summary>The outcome of opening a C2SP signed note (<see cref="SignedNote.TryOpen"/>).</summary>
public enum NoteResult : byte
{
    /// <summary>At least one signature by a known key verifies, and none by a known key fails.</summary>
    Ok = 0,

    /// <summary>The note breaks the format: not UTF-8, no blank line before the signatures, a malformed signature line, or text with a control character.</summary>
    Malformed = 1,

    /// <summary>The note carries more than <see cref="SignedNote.MaxSignatures"/> signature lines, or is over <see cref="SignedNote.MaxNoteBytes"/>.</summary>
    TooLarge = 2,

    /// <summary>No signature line names a known key (name and key id): the note is unverified, not necessarily forged.</summary>
    NoKnownSignature = 3,

    /// <summary>A signature by a known key does not verify: the whole note is rejected, whatever the other lines say.</summary>
    BadSignature = 4,
}
