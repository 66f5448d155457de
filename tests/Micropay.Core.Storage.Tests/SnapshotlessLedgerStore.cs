using System.Buffers;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// A store without snapshots, made of one with them: reports <see cref="LedgerStoreCapabilities.None"/>, refuses
/// snapshot writes with <see cref="NotSupportedException"/> and reads no snapshot, as the contract asks of such a
/// store; the journal passes straight through. No store in this repository lacks snapshots, and the kit's tests for
/// that case need one to run against.
/// </summary>
internal sealed class SnapshotlessLedgerStore(ILedgerStore inner) : ForwardingLedgerStore(inner)
{
    public override LedgerStoreCapabilities Capabilities => LedgerStoreCapabilities.None;

    public override ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default) =>
        ValueTask.FromException(new NotSupportedException("This store does not keep snapshots (LedgerStoreCapabilities.None)."));

    public override ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<LedgerSnapshot?>(null);
}
