using System.Buffers;

namespace Micropay.Core.Storage;

/// <summary>
/// A snapshot of the ledger's state after a given batch, as <see cref="ILedgerStore.ReadLatestSnapshotAsync"/> returns
/// it: bytes the engine produced and will read back, which the store keeps opaque and guarantees only to come back
/// intact or not at all. The caller owns it and disposes it once it no longer reads <see cref="State"/>.
/// </summary>
/// <remarks>
/// <para><b>Any size.</b> <see cref="State"/> is a <see cref="ReadOnlySequence{T}"/>: one segment, or as many as the store
/// keeps (chunks of a database blob, arrays of an in-memory store, windows of a memory-mapped file), so a snapshot may be
/// larger than one array or span can hold (about 2 GiB, some 16M transfers).</para>
/// <para><b>Ownership.</b> A store may lend memory it must take back: <see cref="FileLedgerStore"/> returns a large state
/// as a mapping of its file, with the mapping as the <c>owner</c> passed to the constructor. <see cref="Dispose"/> disposes
/// that owner once; until then the state stays valid, whatever the store does meanwhile (writes newer snapshots, deletes
/// this one, is disposed). After it, <see cref="State"/> throws <see cref="ObjectDisposedException"/>, and memory taken
/// from the state before must not be used any more. There is deliberately no finalizer: a span over the state does not
/// keep this object reachable, so a finalizer could release memory a span still reads; a snapshot nobody disposes keeps
/// its memory until the process ends.</para>
/// </remarks>
public sealed class LedgerSnapshot : IDisposable
{
    private readonly ReadOnlySequence<byte> _state;
    private readonly IDisposable? _owner;

    // 0 until Dispose, then 1 (Interlocked), so the owner is disposed once whichever thread disposes.
    private int _disposed;

    /// <summary>Creates a snapshot over <paramref name="state"/>.</summary>
    /// <param name="batchNumber">The last batch whose effects the snapshot includes; replay continues from the next one.</param>
    /// <param name="state">The snapshot's bytes, in one or more segments; they must stay valid and unchanged until <see cref="Dispose"/>.</param>
    /// <param name="owner">What <see cref="Dispose"/> releases (for example the memory <paramref name="state"/> lies in), or null.</param>
    public LedgerSnapshot(ulong batchNumber, ReadOnlySequence<byte> state, IDisposable? owner = null)
    {
        BatchNumber = batchNumber;
        _state = state;
        _owner = owner;
    }

    /// <summary>
    /// Creates a snapshot over consecutive buffers the caller gives away (arrays read from a database's rows, for
    /// example), which become the segments of <see cref="State"/>, in order; disposing it releases nothing.
    /// </summary>
    /// <param name="batchNumber">The last batch whose effects the snapshot includes; replay continues from the next one.</param>
    /// <param name="segments">The snapshot's bytes, buffer after buffer (empty ones are allowed); they must stay unchanged
    /// while the snapshot is in use.</param>
    /// <exception cref="ArgumentNullException"><paramref name="segments"/> is null.</exception>
    public LedgerSnapshot(ulong batchNumber, IEnumerable<ReadOnlyMemory<byte>> segments)
        : this(batchNumber, JoinSegments(segments), owner: null)
    {
    }

    /// <summary>The last batch whose effects the snapshot includes; replay continues from the next one.</summary>
    public ulong BatchNumber { get; }

    /// <summary>What <see cref="Dispose"/> releases; for the file store's tests (is the state a mapping?).</summary>
    internal IDisposable? Owner => _owner;

    /// <summary>The snapshot's bytes, valid until <see cref="Dispose"/>.</summary>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public ReadOnlySequence<byte> State
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _state;
        }
    }

    private static ReadOnlySequence<byte> JoinSegments(IEnumerable<ReadOnlyMemory<byte>> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        return Sequences.Join(segments as IReadOnlyList<ReadOnlyMemory<byte>> ?? [.. segments]);
    }

    /// <summary>Releases the memory the state lies in, when the store lent it (see the remarks). Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner?.Dispose();
        }
    }
}
