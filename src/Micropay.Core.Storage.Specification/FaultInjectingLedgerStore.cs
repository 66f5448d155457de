using System.Buffers;

namespace Micropay.Core.Storage.Specification;

/// <summary>
/// An <see cref="ILedgerStore"/> that wraps another and makes chosen appends fail or stall in the wrapper, to prove
/// that a failed append is never reported durable and that retrying the identical batch resolves its unknown outcome;
/// it can also make snapshot writes fail (<see cref="FailSnapshotWrites"/>).
/// </summary>
/// <remarks>
/// <para><b>What it models.</b> The faults happen above the inner store, which never fails and stays healthy: the
/// wrapper throws before passing an append on, or after the inner store made it durable, like a transport that loses a
/// request or its reply. Retrying through the same wrapper is then legitimate, and the inner store must answer it
/// idempotently. A real failure of the inner store's own write is a different case: that instance must refuse further
/// appends until it is reopened (see <see cref="ILedgerStore"/>), which <see cref="LedgerStoreSpecification"/> checks
/// through its <c>FailNextDurableWriteAsync</c> hook, not with this wrapper.</para>
/// <para>Program it per append with <see cref="InjectFault"/>: each call to <see cref="AppendAsync"/> or
/// <see cref="AppendEncoded"/> takes the oldest queued <see cref="AppendFault"/> (or <see cref="AppendFault.None"/> when
/// the queue is empty). <see cref="WriteSnapshotAsync"/> fails while <see cref="FailSnapshotWrites"/> is set. Every other
/// member passes straight through to <see cref="Inner"/>.</para>
/// <para><b>A decorator that keeps the fast paths.</b> It is also an example of how to wrap a store without costing the
/// engine anything: snapshots of any size and the inner store's own snapshot reads (a file store's memory mapping) pass
/// through <see cref="ILedgerStore"/> unchanged, and the encoded append (<see cref="IEncodedBatchAppender"/>) is
/// forwarded when the inner store offers it: <see cref="Capabilities"/> then reports
/// <see cref="LedgerStoreCapabilities.EncodedAppend"/>, and the engine appends through this wrapper's
/// <see cref="AppendEncoded"/>, where the same queued faults apply. Without it on the inner store the wrapper does not
/// report the flag and the engine uses <see cref="AppendAsync"/>.</para>
/// <para>The wrapper owns the inner store: disposing it disposes the inner store. Like any store, it expects one
/// appender at a time; the fault queue itself is thread-safe.</para>
/// </remarks>
public sealed class FaultInjectingLedgerStore : ILedgerStore, IEncodedBatchAppender
{
    // Protected by locking _faults itself: tests queue faults on one thread and append on another.
    private readonly Queue<AppendFault> _faults = new();

    // Read and written with Interlocked/Volatile: tests poll them from other threads.
    private int _appendCalls;
    private int _encodedAppendCalls;
    private int _faultsInjected;
    private long _delayTicks = TimeSpan.FromSeconds(30).Ticks;
    private int _snapshotWriteCalls;
    private volatile bool _failSnapshotWrites;

    /// <summary>Wraps a store.</summary>
    /// <param name="inner">The store to pass calls to; the wrapper disposes it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public FaultInjectingLedgerStore(ILedgerStore inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>The wrapped store.</summary>
    public ILedgerStore Inner { get; }

    /// <summary>How long <see cref="AppendFault.DelayBeforeWrite"/> and <see cref="AppendFault.DelayAfterWrite"/>
    /// wait; 30 seconds by default, so a test cancels the wait rather than sitting it out.
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _delayTicks));
        set
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The delay must be zero or more, or infinite.");
            }

            Volatile.Write(ref _delayTicks, value.Ticks);
        }
    }

    /// <summary>How many times <see cref="AppendAsync"/> or <see cref="AppendEncoded"/> was called.</summary>
    public int AppendCalls => Volatile.Read(ref _appendCalls);

    /// <summary>How many of <see cref="AppendCalls"/> came through <see cref="AppendEncoded"/>, the engine's fast path.</summary>
    public int EncodedAppendCalls => Volatile.Read(ref _encodedAppendCalls);

    /// <summary>How many queued faults other than <see cref="AppendFault.None"/> have taken effect. For the delays it
    /// counts when the wait starts (after the inner append, for <see cref="AppendFault.DelayAfterWrite"/>), so a test
    /// can wait for it and then cancel the append during the wait.</summary>
    public int FaultsInjected => Volatile.Read(ref _faultsInjected);

    /// <summary>
    /// Whether <see cref="WriteSnapshotAsync"/> throws <see cref="LedgerStoreException"/> without writing anything (the
    /// store keeps its previous snapshots). Off by default; may be switched from any thread, and applies to the calls
    /// that start after the switch.
    /// </summary>
    public bool FailSnapshotWrites
    {
        get => _failSnapshotWrites;
        set => _failSnapshotWrites = value;
    }

    /// <summary>How many times <see cref="WriteSnapshotAsync"/> was called, failed ones included.</summary>
    public int SnapshotWriteCalls => Volatile.Read(ref _snapshotWriteCalls);

    /// <summary>How many queued faults no append has taken yet.</summary>
    public int PendingFaults
    {
        get
        {
            lock (_faults)
            {
                return _faults.Count;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>The inner store's capabilities, except <see cref="LedgerStoreCapabilities.EncodedAppend"/> when the inner
    /// store does not implement <see cref="IEncodedBatchAppender"/> (which this wrapper could not forward).</remarks>
    public LedgerStoreCapabilities Capabilities =>
        Inner is IEncodedBatchAppender ? Inner.Capabilities : Inner.Capabilities & ~LedgerStoreCapabilities.EncodedAppend;

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The inner store does not offer the encoded append.</exception>
    public int RecordPrefixSize => InnerAppender.RecordPrefixSize;

    /// <summary>Queues a fault for a coming append: the first queued fault applies to the next append, the second
    /// to the one after, and so on; <see cref="AppendFault.None"/> lets an append through.</summary>
    /// <param name="fault">What to do to that append.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fault"/> is not a defined value.</exception>
    public void InjectFault(AppendFault fault)
    {
        if (!Enum.IsDefined(fault))
        {
            throw new ArgumentOutOfRangeException(nameof(fault), fault, "Not an AppendFault value.");
        }

        lock (_faults)
        {
            _faults.Enqueue(fault);
        }
    }

    /// <inheritdoc />
    public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default) =>
        Inner.OpenAsync(cancellationToken);

    /// <inheritdoc />
    /// <remarks>Applies the next queued <see cref="AppendFault"/>; see <see cref="InjectFault"/>.</remarks>
    public async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _appendCalls);
        switch (TakeFault())
        {
            case AppendFault.FailBeforeWrite:
                Interlocked.Increment(ref _faultsInjected);
                throw new LedgerStoreException(
                    $"Injected fault: the append of batch {batch.BatchNumber} failed before writing (it is not durable).");

            case AppendFault.FailAfterWrite:
                await Inner.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _faultsInjected);
                throw new LedgerStoreException(
                    $"Injected fault: the append of batch {batch.BatchNumber} was written but its acknowledgement was lost (outcome unknown).");

            case AppendFault.DelayBeforeWrite:
                Interlocked.Increment(ref _faultsInjected);
                await Task.Delay(Delay, cancellationToken).ConfigureAwait(false);
                await Inner.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                return;

            case AppendFault.DelayAfterWrite:
                await Inner.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _faultsInjected);

                // The caller's token cancels the wait: the append then throws although the inner store made the
                // batch durable, which is exactly the "not reported durable, outcome unknown" case to test.
                await Task.Delay(Delay, cancellationToken).ConfigureAwait(false);
                return;

            default:
                await Inner.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Applies the next queued <see cref="AppendFault"/>, as <see cref="AppendAsync"/> does, then passes the append to the
    /// inner store's <see cref="IEncodedBatchAppender.AppendEncoded"/>. This path has no cancellation token, so the delays
    /// wait for the whole <see cref="Delay"/> (blocking the calling thread, which the engine dedicates to appending).
    /// </remarks>
    /// <exception cref="NotSupportedException">The inner store does not offer the encoded append; nothing is counted.</exception>
    public BatchHash AppendEncoded(in CommitBatchHeader header, byte[] record, int payloadLength, IAppendOverlap? overlap)
    {
        IEncodedBatchAppender inner = InnerAppender;
        Interlocked.Increment(ref _appendCalls);
        Interlocked.Increment(ref _encodedAppendCalls);
        ulong number = header.BatchNumber;
        BatchHash hash;
        switch (TakeFault())
        {
            case AppendFault.FailBeforeWrite:
                Interlocked.Increment(ref _faultsInjected);
                throw new LedgerStoreException($"Injected fault: the append of batch {number} failed before writing (it is not durable).");

            case AppendFault.FailAfterWrite:
                inner.AppendEncoded(header, record, payloadLength, overlap);
                Interlocked.Increment(ref _faultsInjected);
                throw new LedgerStoreException(
                    $"Injected fault: the append of batch {number} was written but its acknowledgement was lost (outcome unknown).");

            case AppendFault.DelayBeforeWrite:
                Interlocked.Increment(ref _faultsInjected);
                Thread.Sleep(Delay);
                return inner.AppendEncoded(header, record, payloadLength, overlap);

            case AppendFault.DelayAfterWrite:
                hash = inner.AppendEncoded(header, record, payloadLength, overlap);
                Interlocked.Increment(ref _faultsInjected);
                Thread.Sleep(Delay);
                return hash;

            default:
                return inner.AppendEncoded(header, record, payloadLength, overlap);
        }
    }

    /// <inheritdoc />
    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default) =>
        Inner.ReadBatchesAsync(fromBatchNumber, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Fails without calling the inner store while <see cref="FailSnapshotWrites"/> is set; otherwise passes the
    /// state, whatever its length and segments, to the inner store.</remarks>
    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _snapshotWriteCalls);
        if (_failSnapshotWrites)
        {
            return ValueTask.FromException(new LedgerStoreException($"Injected fault: the snapshot of batch {batchNumber} was not written."));
        }

        return Inner.WriteSnapshotAsync(batchNumber, state, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The inner store's snapshot itself, so whatever it lends (a file store's mapping) reaches the caller, who
    /// disposes it.</remarks>
    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default) =>
        Inner.ReadLatestSnapshotAsync(cancellationToken);

    /// <summary>Disposes the inner store.</summary>
    /// <returns>A task that completes when the inner store is disposed.</returns>
    public ValueTask DisposeAsync() => Inner.DisposeAsync();

    private IEncodedBatchAppender InnerAppender =>
        Inner as IEncodedBatchAppender ?? throw new NotSupportedException(
            $"The inner store ({Inner.GetType().Name}) does not offer the encoded append (IEncodedBatchAppender), so this wrapper does not report LedgerStoreCapabilities.EncodedAppend.");

    // The oldest queued fault, or None.
    private AppendFault TakeFault()
    {
        lock (_faults)
        {
            return _faults.Count == 0 ? AppendFault.None : _faults.Dequeue();
        }
    }
}
