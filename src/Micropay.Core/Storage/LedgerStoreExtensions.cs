using System.Buffers;

namespace Micropay.Core.Storage;

/// <summary>Conveniences over <see cref="ILedgerStore"/> for callers that hold a snapshot in one buffer.</summary>
public static class LedgerStoreExtensions
{
    /// <summary>
    /// <see cref="ILedgerStore.WriteSnapshotAsync"/> for a state in one buffer: the same call with a single-segment
    /// sequence, so the same guarantees and exceptions.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="batchNumber">The last batch included; it must be durable.</param>
    /// <param name="state">The snapshot's bytes; the store reads them only during the call.</param>
    /// <param name="cancellationToken">Cancels writing; a cancelled snapshot is absent.</param>
    /// <returns>A task that completes when the snapshot is durable.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="store"/> is null.</exception>
    public static ValueTask WriteSnapshotAsync(this ILedgerStore store, ulong batchNumber, ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.WriteSnapshotAsync(batchNumber, new ReadOnlySequence<byte>(state), cancellationToken);
    }
}
