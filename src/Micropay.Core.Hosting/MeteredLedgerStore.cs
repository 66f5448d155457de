using System.Buffers;
using System.Diagnostics;
using Micropay.Core.Storage;

namespace Micropay.Core.Hosting;

/// <summary>
/// Wraps the engine's store to measure each append (batch size, operation, duration, failures): the engine itself
/// exposes no per-batch statistics, and every batch it makes durable passes through here. Passes the store's encoded
/// fast path (<see cref="IEncodedBatchAppender"/>) on, so measuring does not cost the engine its fast appends.
/// </summary>
internal sealed class MeteredLedgerStore : ILedgerStore, IEncodedBatchAppender
{
    private readonly ILedgerStore _inner;
    private readonly IEncodedBatchAppender? _fast;
    private readonly MicropayMetrics _metrics;

    public MeteredLedgerStore(ILedgerStore inner, MicropayMetrics metrics)
    {
        _inner = inner;
        _metrics = metrics;
        _fast = inner is IEncodedBatchAppender fast && (inner.Capabilities & LedgerStoreCapabilities.EncodedAppend) != 0 ? fast : null;
    }

    public LedgerStoreCapabilities Capabilities =>
        _fast is null ? _inner.Capabilities & ~LedgerStoreCapabilities.EncodedAppend : _inner.Capabilities;

    public int RecordPrefixSize => _fast?.RecordPrefixSize ?? 0;

    public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default) => _inner.OpenAsync(cancellationToken);

    public async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await _inner.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _metrics.AppendFailed(batch.Header.Operation);
            throw;
        }

        _metrics.BatchAppended(batch.Header, start);
    }

    public BatchHash AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap)
    {
        // Capabilities hides EncodedAppend when the inner store lacks it, so the engine only calls this when _fast is set.
        IEncodedBatchAppender fast = _fast ?? throw new NotSupportedException("The wrapped store has no encoded append.");
        long start = Stopwatch.GetTimestamp();
        BatchHash hash;
        try
        {
            hash = fast.AppendEncoded(header, record, payloadLength, overlap);
        }
        catch
        {
            _metrics.AppendFailed(header.Operation);
            throw;
        }

        _metrics.BatchAppended(header, start);
        return hash;
    }

    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default) =>
        _inner.ReadBatchesAsync(fromBatchNumber, cancellationToken);

    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default) =>
        _inner.WriteSnapshotAsync(batchNumber, state, cancellationToken);

    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default) =>
        _inner.ReadLatestSnapshotAsync(cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
