using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// The thread-safe, durable ledger users embed: any number of threads submit accounts and transfers; a single
/// writer thread applies them in batches to a <see cref="LedgerStateMachine"/>, a publisher thread makes each batch
/// durable in the <see cref="ILedgerStore"/> (group commit) and then releases its results; reads run lock-free
/// on any thread.
/// </summary>
/// <remarks>
/// <para>Data flow (see docs/ARCHITECTURE.md, "Engine"):</para>
/// <code>
/// callers ──► ingress ring (lock-free MPSC) ──► apply loop: Ledger batch ──► publisher: append (fsync), publish reads, complete
/// </code>
/// <para>
/// Results: every submission completes with the ledger's status (business outcomes are never exceptions). It
/// throws or completes with an exception only for caller bugs (<see cref="ArgumentException"/>), cancellation before
/// the engine accepted the events (<see cref="OperationCanceledException"/>), an engine that was disposed
/// (<see cref="ObjectDisposedException"/>), or one that stopped because its store failed
/// (<see cref="LedgerEngineException"/>: the outcome is unknown until reopen, which recovers exactly the durable state).
/// </para>
/// <para>
/// Batching: single submissions are gathered into batches of up to <see cref="LedgerEngineOptions.MaxBatchSize"/>
/// events; a batch submission is applied whole inside one ledger batch (its linked chains stay intact). A
/// submission whose last event is flagged Linked ends its ledger batch, where the ledger fails the open chain.
/// </para>
/// </remarks>
public sealed partial class LedgerEngine : IAsyncDisposable
{
    /// <summary>Batches in flight between the apply loop and the publisher: one being made durable, one being applied.</summary>
    internal const int PipelineDepth = 2;

    private const int StateOpen = 0;
    private const int StateDisposing = 1;
    private const int StateDisposed = 2;

    private readonly LedgerEngineOptions _options;
    private readonly DurabilityMode _mode;
    private readonly ILedgerStore? _store;

    // The store's fast path (a store reporting LedgerStoreCapabilities.EncodedAppend, such as FileLedgerStore, or a
    // decorator passing it on), or null: appends the batch from InFlightBatch.Encoded and hashes it.
    private readonly IEncodedBatchAppender? _fastStore;

    // Publisher thread only: the work it does while the fast path's device writes.
    private readonly AppendOverlap _overlap;
    private readonly bool _storeSnapshots;
    private readonly int _maxBatchSize;
    private readonly TimeProvider _clock;

    // The writer's ledger: touched only by the apply loop after open (and the publisher reads published transfer rows).
    private readonly LedgerStateMachine _ledger;

    // The ledger instance's id: read from the recovered ledger in the constructor, or set by OpenAsync once the new
    // ledger's first batch is released; fixed before OpenAsync returns the engine, so any thread reads it plainly.
    private UInt128 _instanceId;

    // The states a snapshot holds, one section each, in name order (SnapshotEnvelope): the one place a state joins snapshots.
    private readonly SnapshotSection[] _snapshotSections;

    // The operations this engine applies and replays (OperationRegistry.Default, or a test's extension of it).
    private readonly OperationRegistry _operations;

    private readonly IngressRing _ring;
    private readonly InFlightBatch[] _batches;
    private readonly SemaphoreSlim _freeBatches = new(PipelineDepth, PipelineDepth);
    private readonly SemaphoreSlim _filledBatches = new(0, PipelineDepth);
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly AccountMirror _accounts;
    private readonly PublishedIndex _transfers;
    private readonly Thread _applyThread;
    private readonly Thread _publishThread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // StateOpen -> StateDisposing -> StateDisposed; written by DisposeAsync, read by submitters.
    private int _state;

    // Callers between their state check and their enqueue; DisposeAsync waits for 0 before stopping the loop.
    private int _activeSubmitters;

    // Submissions that found the ring full: a lock-free stack linked through Submission.Next (push: callers;
    // take-all: the apply loop).
    private Submission? _waiters;

    // 1 while the apply loop sleeps on _wake; callers that publish work set it to 0 and signal.
    private int _applySleeping;

    // Set by DisposeAsync after every submitter has left; read by the apply loop.
    private volatile bool _stopRequested;

    // The failure that stopped the engine; written once (compare-and-swap), read by every thread.
    private Exception? _fault;

    // The last batch whose results were released (published); written by the publisher.
    private ulong _releasedBatchNumber;

    // The newest snapshot in the store (recovered or written since) and why the latest attempt failed, if it did;
    // written by the publisher (and the constructor), read by any thread.
    private ulong _latestSnapshotBatchNumber;
    private Exception? _lastSnapshotError;

    private LedgerEngine(
        LedgerEngineOptions options, LedgerStateMachine ledger, LedgerStoreState storeState, PublishedIndex? transfers = null, Type? snapshotOwner = null, Audit.AuditLog? audit = null)
    {
        RecoveredSnapshotOwner = snapshotOwner;
        _options = options;
        _mode = options.Durability;
        _store = _mode == DurabilityMode.InMemory ? null : options.Store;
        _storeSnapshots = _store is not null && (_store.Capabilities & LedgerStoreCapabilities.Snapshots) != 0;
        _fastStore = EncodedAppenderOf(_store);
        int recordPrefixSize = _fastStore?.RecordPrefixSize ?? 0;
        _overlap = new AppendOverlap(this);
        _maxBatchSize = options.MaxBatchSize;
        _clock = options.TimeProvider;
        _ledger = ledger;
        _instanceId = ledger.InstanceId;
        _operations = options.Operations;
        _audit = audit;
        _auditOptions = audit is null ? null : options.Audit;
        _snapshotSections = [new AuditSnapshotSection(() => (_lastAppliedBatchNumber, _audit)), .. SnapshotSectionsOf(ledger)];
        _ring = new IngressRing(options.IngressCapacity);
        _batches = new InFlightBatch[PipelineDepth];
        for (int i = 0; i < _batches.Length; i++)
        {
            _batches[i] = new InFlightBatch(_maxBatchSize, recordPrefixSize, _operations);
        }

        _lastAppliedBatchNumber = storeState.LastBatchNumber;
        if (audit is not null)
        {
            // Recovered batches are durable: checkpoints may cover them at once.
            _durableBatch = storeState.LastBatchNumber;
            _durableSize = audit.Size;
            audit.GetCurrentRoot(_durableRoot);
            _lastCheckpointTicks = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        _lastBatchHash = storeState.LastBatchHash;
        _releasedBatchNumber = storeState.LastBatchNumber;
        _latestSnapshotBatchNumber = _store is null ? 0 : storeState.LatestSnapshotBatchNumber;
        DiscardedTailAtOpen = _store is null ? null : storeState.DiscardedTail;
        if (options.AccountHistory)
        {
            // Derived state, never in snapshots: built here from the recovered rows (snapshot and replay alike), then
            // kept by the writer. Before the threads start, which publishes it to them and to readers.
            ledger.EnableAccountHistory();
        }

        _accounts = new AccountMirror(Math.Max(options.AccountCapacity, ledger.AccountCount));
        TransfersIndexedFromSnapshot = transfers is not null;
        _transfers = transfers ?? new PublishedIndex(Math.Max(options.TransferCapacity, ledger.TransferCount));
        PublishRecoveredState();
        TrackChannelConfigs();
        TrackRegisteredKeys();

        _applyThread = new Thread(ApplyLoop) { IsBackground = true, Name = "Micropay.Core apply" };
        _publishThread = new Thread(PublishLoop) { IsBackground = true, Name = "Micropay.Core publish" };
        _applyThread.Start();
        _publishThread.Start();
    }

    /// <summary>Whether batches go to the store through its <see cref="IEncodedBatchAppender"/> fast path; for tests.</summary>
    internal bool AppendsEncoded => _fastStore is not null;

    /// <summary>
    /// The type of what the snapshot recovery read had lent it (<see cref="LedgerSnapshot"/>'s owner: the file store's
    /// mapping), or null; for tests that check a store's mapped read reached the engine through a decorator.
    /// </summary>
    internal Type? RecoveredSnapshotOwner { get; }

    /// <summary>Whether recovery built the transfer read index from the snapshot's rows while the ledger was read; for tests.</summary>
    internal bool TransfersIndexedFromSnapshot { get; }

    /// <summary>
    /// The ledger instance's id: random (or <see cref="LedgerEngineOptions.InstanceId"/>) when the ledger was first
    /// created, journaled as its first batch and kept in snapshots, so it never changes. Every signed message (vouchers,
    /// channel opens and closes, certificates) binds it, so a signature made for one deployment is worthless on another.
    /// </summary>
    public UInt128 InstanceId => _instanceId;

    /// <summary>The durability mode the engine runs in.</summary>
    public DurabilityMode Durability => _mode;

    /// <summary>
    /// The number of the last batch whose results were released (durable in <see cref="DurabilityMode.Durable"/>
    /// mode); reads reflect exactly the batches up to it. 0 before the first batch.
    /// </summary>
    public ulong ReleasedBatchNumber => Volatile.Read(ref _releasedBatchNumber);

    /// <summary>
    /// The batch number of the newest snapshot the store holds for this engine: the one the engine recovered from when
    /// it opened, or the last one it wrote since (periodically or through <see cref="TakeSnapshotAsync"/>). 0 when there
    /// is none, and always in <see cref="DurabilityMode.InMemory"/> mode.
    /// </summary>
    /// <remarks>
    /// Reopening replays the journal from this batch on, so the distance from it to <see cref="ReleasedBatchNumber"/>
    /// is roughly what the next open has to replay. A distance that keeps growing means snapshots are failing: see
    /// <see cref="LastSnapshotError"/>.
    /// </remarks>
    public ulong LatestSnapshotBatchNumber => Volatile.Read(ref _latestSnapshotBatchNumber);

    /// <summary>
    /// Why the engine's most recent snapshot attempt failed, or <see langword="null"/> when it succeeded or none was
    /// made. Covers periodic snapshots (<see cref="LedgerEngineOptions.SnapshotIntervalBatches"/>), which have no caller
    /// to report to, as well as <see cref="TakeSnapshotAsync"/>.
    /// </summary>
    /// <remarks>
    /// A failed snapshot loses nothing: the journal holds every batch, and the engine keeps running. What it costs is
    /// open time, since recovery replays the journal from the last snapshot that succeeded. The error is a
    /// <see cref="LedgerEngineException"/> wrapping the store's exception when the store failed to write it. A state of any
    /// size goes to any store that keeps snapshots (past what one array holds, about 2 GiB or some 16M transfers, in
    /// segments).
    /// </remarks>
    public Exception? LastSnapshotError => Volatile.Read(ref _lastSnapshotError);

    /// <summary>
    /// What the store cut from the end of its journal when this engine opened it, or <see langword="null"/> when it cut
    /// nothing (always null in <see cref="DurabilityMode.InMemory"/> mode, and with stores that never cut bytes).
    /// </summary>
    /// <remarks>
    /// <para>
    /// A crash in the middle of an append leaves a partial last record, which the store drops on open. In
    /// <see cref="DurabilityMode.Durable"/> mode that is safe: results are released only after the append completed, so a
    /// torn batch was never acknowledged (<see cref="DurabilityMode.Buffered"/> releases earlier, as it documents). But a flipped
    /// bit in the last record that <em>was</em> acknowledged (damage on the disk, not a crash) looks exactly like a torn
    /// write, and is dropped the same way: the engine then opens without a batch whose callers were told it succeeded.
    /// Neither the store nor the engine can tell the two apart; whoever knows what was acknowledged can. In
    /// <see cref="DurabilityMode.Durable"/> mode, a <see cref="DiscardedJournalTail.BatchNumber"/> at or below the
    /// <see cref="ReleasedBatchNumber"/> the previous process last reported means an acknowledged batch was lost; and any
    /// cut after a clean shutdown points at the disk, since a clean shutdown leaves no append half done.
    /// </para>
    /// <para>
    /// So the cut is never silent: besides this property, opening logs it as a warning through the
    /// <see cref="System.Diagnostics.Tracing.EventSource"/> named "Micropay.Core" (event <c>JournalTailDiscarded</c>, id 1,
    /// with the location, offset, length, batch number or 0, and reason), before the journal is replayed.
    /// </para>
    /// </remarks>
    public DiscardedJournalTail? DiscardedTailAtOpen { get; }

    /// <summary>Creates an account. Completes once the account's batch is released (durable in the default mode).</summary>
    /// <param name="account">The account (balances and timestamp zero, as for <see cref="LedgerStateMachine.CreateAccounts"/>).</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event; after that the event is applied regardless.</param>
    /// <returns>The ledger's result for the account.</returns>
    public ValueTask<CreateAccountResult> CreateAccountAsync(Account account, CancellationToken cancellationToken = default)
    {
        return SubmitOne(OperationRegistry.CreateAccounts, account, cancellationToken);
    }

    /// <summary>Creates a transfer. Completes once the transfer's batch is released (durable in the default mode).</summary>
    /// <param name="transfer">The transfer (timestamp zero).</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the event; after that the event is applied regardless.</param>
    /// <returns>The ledger's result for the transfer.</returns>
    public ValueTask<CreateTransferResult> CreateTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        return SubmitOne(OperationRegistry.CreateTransfers, transfer, cancellationToken);
    }

    /// <summary>
    /// Creates a batch of accounts, applied together in one ledger batch (linked chains stay intact). Completes
    /// once that batch is released; <paramref name="results"/> is written just before completion.
    /// </summary>
    /// <param name="accounts">1 to <see cref="LedgerEngineOptions.MaxBatchSize"/> accounts; must not change until completion.</param>
    /// <param name="results">Receives one result per account; at least as long as <paramref name="accounts"/>.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of accounts that were not created (0 when all succeeded).</returns>
    /// <exception cref="ArgumentException">The batch is empty or too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> CreateAccountsAsync(ReadOnlyMemory<Account> accounts, Memory<CreateAccountResult> results, CancellationToken cancellationToken = default)
    {
        return SubmitMany(OperationRegistry.CreateAccounts, accounts, results, nameof(accounts), cancellationToken);
    }

    /// <summary>
    /// Creates a batch of transfers, applied together in one ledger batch (linked chains stay intact). Completes
    /// once that batch is released; <paramref name="results"/> is written just before completion.
    /// </summary>
    /// <param name="transfers">1 to <see cref="LedgerEngineOptions.MaxBatchSize"/> transfers; must not change until completion.</param>
    /// <param name="results">Receives one result per transfer; at least as long as <paramref name="transfers"/>.</param>
    /// <param name="cancellationToken">Honoured until the engine accepts the batch.</param>
    /// <returns>The number of transfers that failed (0 when all succeeded).</returns>
    /// <exception cref="ArgumentException">The batch is empty or too large, or <paramref name="results"/> is too short.</exception>
    public ValueTask<int> CreateTransfersAsync(ReadOnlyMemory<Transfer> transfers, Memory<CreateTransferResult> results, CancellationToken cancellationToken = default)
    {
        return SubmitMany(OperationRegistry.CreateTransfers, transfers, results, nameof(transfers), cancellationToken);
    }

    /// <summary>
    /// Takes a snapshot of the ledger right after the batches submitted before this call, and writes it to the store
    /// once that batch is durable. Submissions pause only while the state is copied.
    /// </summary>
    /// <param name="cancellationToken">Honoured until the engine accepts the request.</param>
    /// <returns>The batch number the snapshot was taken at (0 when no batch was ever applied: nothing is written).</returns>
    /// <exception cref="NotSupportedException">The engine runs <see cref="DurabilityMode.InMemory"/> or its store does not support snapshots.</exception>
    public ValueTask<ulong> TakeSnapshotAsync(CancellationToken cancellationToken = default)
    {
        if (!_storeSnapshots)
        {
            throw new NotSupportedException(_store is null
                ? "An in-memory engine has no store to write snapshots to."
                : "The engine's store does not support snapshots (see ILedgerStore.Capabilities).");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ulong>(cancellationToken);
        }

        Submission submission = SubmissionPool.Rent();
        submission.Kind = SubmissionKind.Snapshot;
        return Start<ulong>(submission, cancellationToken);
    }

    /// <summary>
    /// Applies a batch now, even an empty one: a clock pulse that releases every hold whose timeout has passed by the
    /// engine's clock. The engine pulses by itself when it is idle and a hold falls due; this is for callers that
    /// need it to have happened (for example before reading balances after moving a test clock).
    /// </summary>
    /// <param name="cancellationToken">Honoured until the engine accepts the request.</param>
    /// <returns>The number of the batch that carried the pulse (released like any other batch).</returns>
    public ValueTask<ulong> PulseAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ulong>(cancellationToken);
        }

        Submission submission = SubmissionPool.Rent();
        submission.Kind = SubmissionKind.Pulse;
        return Start<ulong>(submission, cancellationToken);
    }

    /// <summary>Submits one event of an operation this engine knows; completes with its result once its batch is released.</summary>
    internal ValueTask<TResult> SubmitOne<TEvent, TResult>(Operation<TEvent, TResult> operation, in TEvent e, CancellationToken cancellationToken)
        where TEvent : struct
        where TResult : unmanaged, Enum
    {
        CheckOperation(operation);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResult>(cancellationToken);
        }

        Submission submission = SubmissionPool.Rent();
        SubmissionPayload<TEvent, TResult> payload = submission.PayloadFor(operation);
        payload.Single = e;
        submission.Kind = SubmissionKind.Events;
        submission.Operation = operation;
        submission.Payload = payload;
        submission.Count = 1;
        submission.EndsWithOpenChain = operation.IsLinked(e);
        short version = submission.Version;
        Exception? refused = Submit(submission, cancellationToken);
        return refused is null ? new ValueTask<TResult>(payload, version) : ValueTask.FromException<TResult>(refused);
    }

    /// <summary>Submits a batch of events of one operation, applied together in one ledger batch; completes with the failed count.</summary>
    internal ValueTask<int> SubmitMany<TEvent, TResult>(Operation<TEvent, TResult> operation, ReadOnlyMemory<TEvent> events, Memory<TResult> results, string eventsName, CancellationToken cancellationToken)
        where TEvent : struct
        where TResult : unmanaged, Enum
    {
        CheckOperation(operation);
        CheckBatch(events.Length, results.Length, eventsName, nameof(results));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        Submission submission = SubmissionPool.Rent();
        SubmissionPayload<TEvent, TResult> payload = submission.PayloadFor(operation);
        payload.Events = events;
        payload.Results = results;
        submission.Kind = SubmissionKind.Events;
        submission.Operation = operation;
        submission.Payload = payload;
        submission.IsBatch = true;
        submission.Count = events.Length;
        submission.EndsWithOpenChain = operation.IsLinked(events.Span[^1]);
        return Start<int>(submission, cancellationToken);
    }

    private void CheckOperation(Operation operation)
    {
        if (!_operations.Contains(operation))
        {
            throw new ArgumentException($"{operation} is not one of this engine's operations ({_operations.Describe()}).", nameof(operation));
        }
    }

    /// <summary>Hands a filled submission to the engine and returns the caller's view of it (or of the refusal).</summary>
    private ValueTask<TResult> Start<TResult>(Submission submission, CancellationToken cancellationToken)
    {
        short version = submission.Version;
        Exception? refused = Submit(submission, cancellationToken);
        return refused is null
            ? new ValueTask<TResult>((System.Threading.Tasks.Sources.IValueTaskSource<TResult>)(object)submission, version)
            : ValueTask.FromException<TResult>(refused);
    }

    private void CheckBatch(int count, int resultCount, string eventsName, string resultsName)
    {
        if (count == 0)
        {
            throw new ArgumentException("The batch is empty.", eventsName);
        }

        if (count > _maxBatchSize)
        {
            throw new ArgumentException($"The batch holds {count} events; the engine applies at most {_maxBatchSize} per batch (LedgerEngineOptions.MaxBatchSize).", eventsName);
        }

        if (resultCount < count)
        {
            throw new ArgumentException("The results must be at least as long as the batch (one result per event).", resultsName);
        }
    }

    /// <summary>
    /// Hands a filled submission to the apply loop: into the ring, or onto the wait list when the ring is full.
    /// Returns why it was refused (and returns it to the pool), or null when accepted for processing.
    /// </summary>
    private Exception? Submit(Submission submission, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activeSubmitters);
        try
        {
            Exception? refused = Volatile.Read(ref _state) != StateOpen
                ? new ObjectDisposedException(nameof(LedgerEngine), "The engine was disposed; it accepts no more work.")
                : Volatile.Read(ref _fault) is { } fault ? Stopped(fault) : null;
            if (refused is not null)
            {
                submission.ClearEvents();
                SubmissionPool.Return(submission);
                return refused;
            }

            if (!_ring.TryEnqueue(submission))
            {
                // No room: wait on the list (no spinning, no allocation but the cancellation registration).
                submission.BeginWaiting(cancellationToken);
                Submission? head;
                do
                {
                    head = Volatile.Read(ref _waiters);
                    submission.Next = head;
                }
                while (Interlocked.CompareExchange(ref _waiters, submission, head) != head);
            }

            // The enqueue's interlocked exchange (or the compare-and-swap above) is a full fence, so this read
            // cannot move before the publish: either the loop sees the work, or we see it asleep and wake it.
            if (Volatile.Read(ref _applySleeping) != 0 && Interlocked.Exchange(ref _applySleeping, 0) != 0)
            {
                _wake.Set();
            }

            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _activeSubmitters);
        }
    }

    private static LedgerEngineException Stopped(Exception fault) =>
        new("The ledger engine stopped after a failure and accepts no more work; dispose it and open it again to recover the durable state.", fault);

    /// <summary>Stops the engine for good after a failure: later and in-flight submissions get a <see cref="LedgerEngineException"/>.</summary>
    private void Fault(Exception error) => Interlocked.CompareExchange(ref _fault, error, null);

    /// <summary>
    /// Stops accepting work (later calls fail with <see cref="ObjectDisposedException"/>), lets every submission
    /// already accepted finish (applied, made durable, results released), then disposes the store.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _state, StateDisposing, StateOpen) != StateOpen)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }

        // Submitters that passed the state check before it changed finish their enqueue first; after that nothing
        // new can arrive, so the loop may stop once the ring and the wait list are empty.
        SpinWait spin = default;
        while (Volatile.Read(ref _activeSubmitters) != 0)
        {
            spin.SpinOnce();
        }

        _stopRequested = true;
        Interlocked.Exchange(ref _applySleeping, 0);
        _wake.Set();
        try
        {
            await _stopped.Task.ConfigureAwait(false);
        }
        finally
        {
            try
            {
                if (_store is not null)
                {
                    await _store.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                _audit?.Dispose();
            }

            Volatile.Write(ref _state, StateDisposed);
        }
    }
}
