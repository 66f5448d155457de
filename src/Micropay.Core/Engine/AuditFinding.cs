namespace Micropay.Core.Engine;

/// <summary>One thing <see cref="AuditVerifier"/> found wrong: what, in which batch, and where in which file.</summary>
public sealed class AuditFinding
{
    /// <summary>Creates a finding.</summary>
    /// <param name="kind">What is wrong.</param>
    /// <param name="batchNumber">The journal batch concerned, or 0 when none is.</param>
    /// <param name="location">The file (a full path), or empty when none is.</param>
    /// <param name="offset">The byte offset in <paramref name="location"/>.</param>
    /// <param name="message">What is wrong, for a person.</param>
    public AuditFinding(AuditFindingKind kind, ulong batchNumber, string location, long offset, string message)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(message);
        Kind = kind;
        BatchNumber = batchNumber;
        Location = location;
        Offset = offset;
        Message = message;
    }

    /// <summary>What is wrong.</summary>
    public AuditFindingKind Kind { get; }

    /// <summary>The journal batch concerned (for a checkpoint, the last batch it covers), or 0 when none is.</summary>
    public ulong BatchNumber { get; }

    /// <summary>The file where it was found (a full path: a segment, an audit file, a snapshot), or empty.</summary>
    public string Location { get; }

    /// <summary>The byte offset in <see cref="Location"/> where it was found.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, for a person.</summary>
    public string Message { get; }

    /// <inheritdoc />
    public override string ToString() =>
        Location.Length == 0 ? $"{Kind} (batch {BatchNumber}): {Message}" : $"{Kind} (batch {BatchNumber}) at {Location}:{Offset}: {Message}";
}
