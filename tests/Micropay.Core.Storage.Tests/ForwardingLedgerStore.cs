using System.Buffers;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// A store that passes every <see cref="ILedgerStore"/> call to <see cref="Inner"/>: a test's wrapper derives from it and
/// overrides only the members it changes. Also compiled into Micropay.Core.Tests.
/// </summary>
/// <remarks>
/// It does not implement <see cref="IEncodedBatchAppender"/>, so it does not report
/// <see cref="LedgerStoreCapabilities.EncodedAppend"/> either (a flag without the interface is the bug the conformance kit
/// catches), and every append goes through <see cref="AppendAsync"/>, which a wrapper can override. A wrapper that offers
/// the encoded append implements the interface itself and overrides <see cref="Capabilities"/> to say so.
/// </remarks>
internal abstract class ForwardingLedgerStore(ILedgerStore inner) : ILedgerStore
{
    /// <summary>The store the calls go to; disposed with this one.</summary>
    public ILedgerStore Inner { get; } = inner;

    public virtual LedgerStoreCapabilities Capabilities => Inner.Capabilities & ~LedgerStoreCapabilities.EncodedAppend;

    public virtual ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default) => Inner.OpenAsync(cancellationToken);

    public virtual ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default) => Inner.AppendAsync(batch, cancellationToken);

    public virtual IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default) =>
        Inner.ReadBatchesAsync(fromBatchNumber, cancellationToken);

    public virtual ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default) =>
        Inner.WriteSnapshotAsync(batchNumber, state, cancellationToken);

    public virtual ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default) =>
        Inner.ReadLatestSnapshotAsync(cancellationToken);

    public virtual ValueTask DisposeAsync() => Inner.DisposeAsync();
}
