namespace Micropay.Core.Audit;

/// <summary>
/// Turns on a ledger engine's audit log (<see cref="Engine.LedgerEngineOptions.Audit"/>): an RFC 9162 Merkle tree over
/// every committed event, its tiles kept in <see cref="Directory"/>, and C2SP checkpoints signed with the engine's
/// <see cref="Engine.LedgerEngineOptions.OperatorKey"/>.
/// </summary>
public sealed class AuditOptions
{
    /// <summary>
    /// Where the tree's tiles, the leaves and the signed checkpoints are kept (created if missing). Keep it with the
    /// journal: after the journal is compacted, it is what still proves the compacted events. Required.
    /// </summary>
    public string Directory { get; init; } = "";

    /// <summary>
    /// The checkpoints' origin line and key name, or <see langword="null"/> (the default) for
    /// <c>micropay/ledger/&lt;instance id in 32 lowercase hex digits&gt;</c>, which names the ledger instance. A key name:
    /// no spaces, '+' or control characters.
    /// </summary>
    public string? Origin { get; init; }

    /// <summary>Sign a checkpoint after this many durable batches since the last one; 0: never by count. Default 1,000.</summary>
    public int CheckpointEveryBatches { get; init; } = 1000;

    /// <summary>
    /// Sign a checkpoint when durable batches have waited this long without one (also while the engine is idle);
    /// <see cref="TimeSpan.Zero"/>: never by time. Default one second.
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The file system the log's files live on: a simulated disk in the power-loss tests.</summary>
    internal Storage.StoreFileSystem FileSystem { get; init; } = Storage.StoreFileSystem.Os;

    /// <summary>Checks the options, naming the first one that is wrong.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("The audit log needs a directory (AuditOptions.Directory).", nameof(Directory));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointEveryBatches);
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointInterval, TimeSpan.Zero);
        if (Origin is not null && !NoteVerifierKey.IsValidName(Origin))
        {
            throw new ArgumentException($"The audit origin \"{Origin}\" is not a valid key name (no spaces, '+' or control characters).", nameof(Origin));
        }
    }
}
