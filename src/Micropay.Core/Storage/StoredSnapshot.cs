using System.Buffers;

namespace Micropay.Core.Storage;

/// <summary>
/// A snapshot as <see cref="FileLedgerStore"/> reads it, for itself and for the engine: the state as a sequence (one
/// array, or the windows of a <see cref="SnapshotMapping"/> of the file, of any length) and that mapping, which the one
/// owner of this object must <see cref="Release"/> once nothing reads the state any more.
/// </summary>
internal sealed class StoredSnapshot(ulong batchNumber, ReadOnlySequence<byte> state, SnapshotMapping? mapping)
{
    public ulong BatchNumber { get; } = batchNumber;

    public ReadOnlySequence<byte> State { get; } = state;

    /// <summary>The mapping the state lies in, or null when it is an array.</summary>
    public SnapshotMapping? Mapping { get; } = mapping;

    /// <summary>Unmaps the state if it is a mapping. Idempotent.</summary>
    public void Release() => Mapping?.Dispose();
}
