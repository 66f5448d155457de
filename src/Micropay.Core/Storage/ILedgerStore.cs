using System.Buffers;

namespace Micropay.Core.Storage;

/// <summary>
/// Where the ledger's journal (and, optionally, its snapshots) lives: the plug between the engine and a storage
/// technology. Implemented by <c>InMemoryLedgerStore</c>, <see cref="FileLedgerStore"/> (the embedded
/// default) and by integrators' adapters, which the conformance kit (Micropay.Core.Storage.Specification) checks.
/// </summary>
/// <remarks>
/// <para><b>Open first.</b> <see cref="OpenAsync"/> is called once, before any other member; it recovers from a
/// crash (e.g. drops a torn, never-acknowledged tail) and reports what is durable. A store that finds damage it
/// cannot attribute to a crash throws <see cref="LedgerStoreCorruptedException"/> and changes nothing.</para>
/// <para><b>Batches are strictly sequential.</b> Batch numbers start at 1 and have no gaps: the batch appended
/// next must be <c>LastBatchNumber + 1</c> and carry <c>LastBatchHash</c> as its previous batch hash
/// (otherwise <see cref="ArgumentException"/>). Appending batch N+1 starts only after the append of N completed.</para>
/// <para><b>Durable means acknowledged.</b> <see cref="AppendAsync"/> completes only when the batch is durable:
/// it survives the process being killed and the machine losing power (for a file, written and fsync'd). A store
/// never reports a batch durable that is not: neither by completing its append nor by returning it from
/// <see cref="ReadBatchesAsync"/>.</para>
/// <para><b>A failed append is decided by reopening.</b> When <see cref="AppendAsync"/> throws
/// <see cref="LedgerStoreException"/>, the batch may or may not be durable, and the instance may not know which
/// either (a failed write or fsync may still have reached the disk; a commit whose connection dropped may have
/// happened). So the caller must not go on with that instance as if nothing happened, neither retrying the batch on
/// it nor appending the next one: it disposes the instance and opens a new one over the same storage, whose
/// <see cref="OpenAsync"/> decides the outcome by reporting the batches before the failed one, or those and the
/// failed batch, whole. The caller then appends the failed batch again (an idempotent retry, below, if it turned out
/// durable) and goes on. The engine does not retry at all: a failed append stops it (that batch's callers and all
/// later ones get <see cref="Engine.LedgerEngineException"/>), and opening the engine again recovers what is
/// durable.</para>
/// <para><b>A store whose durable write failed refuses further appends</b> with <see cref="LedgerStoreException"/>
/// until it is disposed, rather than guess what its storage holds (<see cref="FileLedgerStore"/> marks itself
/// broken). Until it is reopened, its reads show the failed batch only if that batch is durable. Failures that wrote
/// nothing leave a store usable: an <see cref="ArgumentException"/>, a token cancelled before writing began, a retry
/// refused because its bytes differ from the durable batch.</para>
/// <para><b>Retries are idempotent.</b> Appending a batch whose number is already durable completes at once when
/// its encoded bytes are identical to the stored batch, and throws <see cref="LedgerStoreException"/> when they
/// differ. This is how a caller resolves an outcome it did not learn, on an instance whose own write did not fail:
/// a new instance after reopening, or the same one when the failure happened above the store (a transport that lost
/// the request or its reply, a caller that stopped waiting).</para>
/// <para><b>Thread-safety.</b> One appender at a time. <see cref="ReadBatchesAsync"/> and
/// <see cref="ReadLatestSnapshotAsync"/> may run concurrently with an append, from other threads; a reader sees
/// whole batches only, a prefix of the journal as of some moment during its enumeration.</para>
/// <para><b>Cancellation.</b> A token cancelled before an append starts writing cancels it with nothing written;
/// once writing has begun the append completes or fails on its own, because a half-cancelled write would leave
/// its durability unknown anyway.</para>
/// <para><b>Snapshots are optional</b> (<see cref="Capabilities"/>): without <see cref="LedgerStoreCapabilities.Snapshots"/>,
/// <see cref="WriteSnapshotAsync"/> throws <see cref="NotSupportedException"/> and
/// <see cref="ReadLatestSnapshotAsync"/> returns null; the engine then recovers by replaying the whole journal. A store
/// that keeps snapshots keeps them of any length: a state comes as a <see cref="ReadOnlySequence{T}"/> and goes back as
/// one (in a <see cref="LedgerSnapshot"/>), so neither side is bound by what one array holds (about 2 GiB, which a
/// ledger of some 16M transfers outgrows). Store it in pieces (rows, chunks, files) if the storage has its own limits.</para>
/// <para><b>Fast paths are capabilities.</b> What goes beyond this interface is offered through another interface and a
/// flag in <see cref="Capabilities"/> (<see cref="IEncodedBatchAppender"/> and
/// <see cref="LedgerStoreCapabilities.EncodedAppend"/>), never by the engine knowing a store's type, so a decorator that
/// wraps a store can pass each one on.</para>
/// </remarks>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>The optional features this store offers.</summary>
    LedgerStoreCapabilities Capabilities { get; }

    /// <summary>Opens the store: recovers from any crash and reports what is durable.</summary>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The last durable batch, its hash, and the latest snapshot's batch number.</returns>
    /// <exception cref="LedgerStoreCorruptedException">Durable data is damaged; nothing was changed.</exception>
    /// <exception cref="LedgerStoreException">The store cannot be opened (for example another process holds it).</exception>
    ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>Appends the next batch and completes when it is durable.</summary>
    /// <param name="batch">Batch <c>LastBatchNumber + 1</c>, chained to the last batch's hash (or a retry of a durable batch).</param>
    /// <param name="cancellationToken">Cancels the append if it has not started writing.</param>
    /// <returns>A task that completes when the batch is durable.</returns>
    /// <exception cref="ArgumentException">The batch number leaves a gap or the previous batch hash does not match.</exception>
    /// <exception cref="LedgerStoreException">The write failed: the outcome is unknown until the store is reopened, and this
    /// instance refuses further appends. Also thrown when an earlier write of this instance failed, and (with nothing
    /// written, the instance still usable) when a retried batch differs from the durable one.</exception>
    ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Reads durable batches in order, from <paramref name="fromBatchNumber"/> to the last one.</summary>
    /// <param name="fromBatchNumber">The first batch to return (1 for the whole journal). Batches below a compaction point are gone.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The batches. A batch's <see cref="CommitBatch.Events"/> is valid until the enumerator moves on: copy what you keep.</returns>
    /// <exception cref="LedgerStoreCorruptedException">A batch read back fails its checksum.</exception>
    IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default);

    /// <summary>Stores a snapshot of the ledger after <paramref name="batchNumber"/>, atomically: after a crash it is wholly there or absent.</summary>
    /// <param name="batchNumber">The last batch included; it must be durable.</param>
    /// <param name="state">
    /// The snapshot's bytes, of any length, in one or more segments (the engine passes one array, or segments of 256 MiB
    /// past what one array holds). The store reads them only during the call and keeps its own copy: the caller may reuse
    /// the memory once the task completes.
    /// </param>
    /// <param name="cancellationToken">Cancels writing; a cancelled snapshot is absent.</param>
    /// <returns>A task that completes when the snapshot is durable.</returns>
    /// <exception cref="NotSupportedException">The store lacks <see cref="LedgerStoreCapabilities.Snapshots"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="batchNumber"/> is 0 or not durable; nothing is stored.</exception>
    /// <exception cref="LedgerStoreException">The snapshot cannot be written; the previous snapshots and the journal are unharmed.</exception>
    ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default);

    /// <summary>Reads the latest intact snapshot (a damaged one is skipped in favour of the one before).</summary>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <returns>
    /// The snapshot, or null when there is none (or the store lacks snapshots). The caller owns it and disposes it once done
    /// with its <see cref="LedgerSnapshot.State"/>, which stays valid until then whatever happens to the store meanwhile
    /// (newer snapshots, deletion of this one, the store's own disposal): a store may lend memory it must take back, such
    /// as a mapping of a file.
    /// </returns>
    ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default);
}
