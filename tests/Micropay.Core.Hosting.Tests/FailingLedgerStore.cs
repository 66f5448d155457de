using System.Buffers;
using Micropay.Core.Storage;

using Micropay.Core.Storage.Tests;

namespace Micropay.Core.Hosting.Tests;

/// <summary>A store whose appends or snapshot writes fail on demand, as a full or failing disk would.</summary>
internal sealed class FailingLedgerStore(ILedgerStore inner) : ForwardingLedgerStore(inner)
{
    private volatile bool _failAppends;
    private volatile bool _failSnapshots;

    public bool FailAppends { get => _failAppends; set => _failAppends = value; }

    public bool FailSnapshots { get => _failSnapshots; set => _failSnapshots = value; }

    public override ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default) =>
        _failAppends ? ValueTask.FromException(new IOException("No space left on device (injected).")) : base.AppendAsync(batch, cancellationToken);

    public override ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default) =>
        _failSnapshots ? ValueTask.FromException(new IOException("Snapshot write failed (injected).")) : base.WriteSnapshotAsync(batchNumber, state, cancellationToken);
}
