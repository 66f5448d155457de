using System.Buffers;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Storage;

/// <summary>
/// An <see cref="ILedgerStore"/> that keeps the journal and snapshots in memory: for tests, and for users who want
/// no durability. It implements the whole contract (sequence and hash-chain checks, idempotent retries, concurrent
/// readers, snapshots), with "durable" meaning "in the store's memory".
/// </summary>
/// <remarks>
/// <para><b>Lifetime of the data.</b> The journal and snapshots live as long as the store: disposing it discards them.
/// Use <see cref="FileLedgerStore"/> when they must survive the process. (The library's own tests reopen an in-memory
/// store through an internal constructor, to run the same restart checks as for the file store.)</para>
/// <para><b>Allocation.</b> An append copies the batch into a shared chunk of memory that grows by doubling up to 4 MiB
/// per chunk, so in steady state an append allocates nothing (amortized: one chunk per several thousand events and,
/// rarely, a larger index array). Reads return slices of that memory without copying. Writing a snapshot allocates one
/// copy of its bytes, in arrays of up to 1 GiB, so a snapshot of any length fits; reading it returns those arrays as the
/// segments of its state, without copying.</para>
/// <para><b>Failed appends.</b> Nothing in memory fails the way a disk or a connection does, but the contract's rule
/// holds here too: should an append's write fail, the store refuses every later append with
/// <see cref="LedgerStoreException"/> until it is disposed. (The tests make such a failure happen through an internal
/// switch; a conflicting retry, a full journal or a caller bug writes nothing and leaves the store usable.)</para>
/// <para><b>Lifetime.</b> Call <see cref="OpenAsync"/> once before anything else (otherwise
/// <see cref="InvalidOperationException"/>); after <see cref="DisposeAsync"/>, members throw
/// <see cref="ObjectDisposedException"/>. Disposing is idempotent.</para>
/// </remarks>
public sealed class InMemoryLedgerStore : ILedgerStore
{
    private const int Created = 0;
    private const int Opened = 1;
    private const int Disposed = 2;

    // Created -> Opened -> Disposed (or Created -> Disposed); changed with Interlocked, read with Volatile.Read.
    private int _lifecycle;

    // The failure FailNextDurableWrite armed for the next append (a WriteFailure value), taken with Interlocked.Exchange
    // by that append, so it fires once.
    private int _pendingWriteFailure;

    // Set when an append's write failed; from then on appends throw (one appender at a time, so no lock is needed, and
    // volatile so that the append after a failure sees it from whichever thread runs it).
    private volatile bool _broken;

    /// <summary>The most bytes one array of a stored snapshot holds: 1 GiB, well under what an array may hold.</summary>
    internal const int DefaultSnapshotSegmentBytes = 1 << 30;

    /// <summary>Where <see cref="FailNextDurableWrite"/> makes the next append's write fail.</summary>
    internal enum WriteFailure
    {
        /// <summary>No failure armed.</summary>
        None = 0,

        /// <summary>The write fails before the batch reaches the backing: a new store over it will not have it.</summary>
        BeforeBacking = 1,

        /// <summary>The batch reaches the backing, then the write reports failure (as an fsync error can after the bytes
        /// reached the disk): a new store over the backing will have it.</summary>
        AfterBacking = 2,
    }

    /// <summary>Creates a store over a new, empty backing.</summary>
    public InMemoryLedgerStore()
        : this(new InMemoryLedgerStoreBacking())
    {
    }

    // Tests reopen a store by creating another over the same backing (the data outlives the store, as a file store's
    // directory does); users who need a journal that survives use FileLedgerStore.
    internal InMemoryLedgerStore(InMemoryLedgerStoreBacking backing)
    {
        ArgumentNullException.ThrowIfNull(backing);
        Backing = backing;
    }

    /// <summary>The data behind this store; tests pass it to a new store to "reopen" this one.</summary>
    internal InMemoryLedgerStoreBacking Backing { get; }

    /// <summary>
    /// The most bytes one array of a snapshot this store writes holds (<see cref="DefaultSnapshotSegmentBytes"/>); tests
    /// lower it so that small snapshots are kept in several arrays, as large ones are.
    /// </summary>
    internal int SnapshotSegmentBytes { get; set; } = DefaultSnapshotSegmentBytes;

    /// <summary>Always <see cref="LedgerStoreCapabilities.Snapshots"/>.</summary>
    public LedgerStoreCapabilities Capabilities => LedgerStoreCapabilities.Snapshots;

    /// <inheritdoc />
    public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerStoreState>(cancellationToken);
        }

        int previous = Interlocked.CompareExchange(ref _lifecycle, Opened, Created);
        ObjectDisposedException.ThrowIf(previous == Disposed, this);
        if (previous == Opened)
        {
            throw new InvalidOperationException("The in-memory ledger store is already open; OpenAsync is called once.");
        }

        // Nothing to recover: a batch is in the backing whole or not at all.
        return ValueTask.FromResult(Backing.GetState());
    }

    /// <inheritdoc />
    /// <remarks>Completes synchronously. Allocates nothing in steady state (see the type's remarks).</remarks>
    public ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        if (cancellationToken.IsCancellationRequested)
        {
            // Checked before anything is written, so a cancelled append leaves no trace.
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_broken)
        {
            return ValueTask.FromException(new LedgerStoreException(
                "An earlier append to this in-memory ledger store failed, so it refuses appends; its data is lost with it (use FileLedgerStore for a journal that survives)."));
        }

        WriteFailure failure = WriteFailure.None;
        if (Volatile.Read(ref _pendingWriteFailure) != 0)
        {
            // Only tests arm a failure: the steady-state append pays a plain read, not an interlocked exchange.
            failure = (WriteFailure)Interlocked.Exchange(ref _pendingWriteFailure, 0);
        }

        try
        {
            if (failure == WriteFailure.BeforeBacking)
            {
                return FailWrite(batch.BatchNumber, durable: false);
            }

            Backing.Append(in batch, nameof(batch));
        }
        catch (LedgerStoreException exception)
        {
            // Failures of the store itself travel in the task, like an I/O error would; caller bugs throw directly.
            return ValueTask.FromException(exception);
        }

        return failure == WriteFailure.AfterBacking ? FailWrite(batch.BatchNumber, durable: true) : default;
    }

    /// <summary>
    /// For tests: makes this store's next append fail as a failed write would, with <see cref="LedgerStoreException"/>,
    /// after which the store refuses appends (see the type's remarks). Only this instance and only its next append: a
    /// store created over the same backing afterwards writes normally.
    /// </summary>
    /// <param name="failure">Whether the batch reaches the backing before the failure is reported.</param>
    internal void FailNextDurableWrite(WriteFailure failure)
    {
        if (!Enum.IsDefined(failure) || failure == WriteFailure.None)
        {
            throw new ArgumentOutOfRangeException(nameof(failure), failure, "Arm BeforeBacking or AfterBacking.");
        }

        Volatile.Write(ref _pendingWriteFailure, (int)failure);
    }

    /// <inheritdoc />
    /// <remarks>The enumeration covers the batches durable when it starts. The returned events stay valid (they are
    /// never overwritten), though the contract only promises them until the enumerator moves on.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromBatchNumber"/> is 0.</exception>
    public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(fromBatchNumber);
        ThrowIfNotOpen();
        return ReadBatchesCore(Backing.GetJournal(), fromBatchNumber, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchNumber"/> is 0 or not durable.</exception>
    public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Backing.WriteSnapshot(batchNumber, state, SnapshotSegmentBytes, nameof(batchNumber));
        return default;
    }

    /// <inheritdoc />
    /// <remarks>The state is the backing's own copy, in the arrays it was written into and never changed, so disposing the
    /// snapshot releases nothing.</remarks>
    public ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<LedgerSnapshot?>(cancellationToken);
        }

        return ValueTask.FromResult(Backing.ReadLatestSnapshot());
    }

    /// <summary>Closes this store; the backing keeps its data for stores created over it later.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _lifecycle, Disposed);
        return default;
    }

    private static async IAsyncEnumerable<CommitBatch> ReadBatchesCore(
        InMemoryLedgerStoreBacking.JournalView journal,
        ulong fromBatchNumber,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Nothing here waits; the await only makes this an async iterator (the interface is asynchronous).
        await Task.CompletedTask.ConfigureAwait(false);
        for (ulong number = fromBatchNumber; number <= (ulong)journal.Count; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return journal[(int)(number - 1)];
        }

        // Also for an empty range, so that a cancelled token always cancels.
        cancellationToken.ThrowIfCancellationRequested();
    }

    private ValueTask FailWrite(ulong batchNumber, bool durable)
    {
        _broken = true;
        return ValueTask.FromException(new LedgerStoreException(
            $"In-memory ledger store: the write of batch {batchNumber} failed (injected, {(durable ? "after" : "before")} the batch reached the backing); whether it is durable is unknown until a new store opens the backing."));
    }

    private void ThrowIfNotOpen()
    {
        int lifecycle = Volatile.Read(ref _lifecycle);
        if (lifecycle != Opened)
        {
            ObjectDisposedException.ThrowIf(lifecycle == Disposed, this);
            throw new InvalidOperationException("Call OpenAsync before using the in-memory ledger store.");
        }
    }
}
