using System.Buffers;
using Micropay.Core.Storage;

using Micropay.Core.Storage.Tests;

namespace Micropay.Core.Hosting.Tests;

/// <summary>A store whose appends or snapshot writes fail on demand, as a full or failing disk would, or whose appends stall.</summary>
internal sealed class FailingLedgerStore(ILedgerStore inner) : ForwardingLedgerStore(inner)
{
    private volatile bool _failAppends;
    private volatile bool _failSnapshots;

    // Completed: appends go through; pending: they wait for Release (a disk that has stopped answering).
    private volatile TaskCompletionSource _gate = CompletedGate();

    public bool FailAppends { get => _failAppends; set => _failAppends = value; }

    public bool FailSnapshots { get => _failSnapshots; set => _failSnapshots = value; }

    public void Stall() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public override async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        await _gate.Task.ConfigureAwait(false);
        if (_failAppends)
        {
            throw new IOException("No space left on device (injected).");
        }

        await base.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    public override ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default) =>
        _failSnapshots ? ValueTask.FromException(new IOException("Snapshot write failed (injected).")) : base.WriteSnapshotAsync(batchNumber, state, cancellationToken);

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }
}
