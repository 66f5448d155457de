using System.Buffers;
using System.Runtime.CompilerServices;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The apply loop: the single writer. It gathers submissions into batches, applies them to the ledger, copies out
// what the publisher needs, and hands each batch over. Everything here runs on _applyThread only.
public sealed partial class LedgerEngine
{
    /// <summary>Batch submissions at least this large are applied from the caller's memory instead of being copied.</summary>
    private const int DirectBatchThreshold = 256;

    // Apply loop only.
    private ulong _lastAppliedBatchNumber;
    private ulong _lastBatchTimestamp;
    private Submission? _carry;
    private Submission? _waitQueue;
    private int _batchesSinceSnapshot;

    private void ApplyLoop()
    {
        int next = 0;
        while (true)
        {
            _freeBatches.Wait();
            InFlightBatch batch = _batches[next];
            next = (next + 1) % PipelineDepth;
            batch.Reset();
            bool stop = false;
            try
            {
                stop = Gather(batch);
                if (batch.Count > 0 || batch.Pulse)
                {
                    Apply(batch);
                }

                if (batch.SnapshotRequests is not null || SnapshotDue(batch))
                {
                    TakeSnapshot(batch);
                }
            }
            catch (Exception e)
            {
                // A bug in the engine or the ledger (including a ledger exception that was not a refusal before any
                // change, see Apply). Stop as after a store failure: the ledger's memory may be ahead of the journal, so
                // the publisher fails this batch's members (the fault is set before it sees the batch) and Gather fails
                // every later submission until disposal; reopening recovers the durable state.
                // An I/O failure of the audit log arrives as a LedgerEngineException that says so; anything else is a bug.
                Fault(e as LedgerEngineException ?? (Exception)new InvalidOperationException(
                    "The ledger engine's apply loop failed; the ledger's memory may be ahead of the journal, so the engine stopped. This is a bug in Micropay.Core.", e));
            }

            batch.Stop = stop;
            _filledBatches.Release();
            if (stop)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The operation of a batch that carries only a clock pulse: an empty CreateTransfers batch (the ledger expires due
    /// holds at the start of any batch), journaled so that replay expires them at the same point.
    /// </summary>
    private static Operation PulseOperation => OperationRegistry.CreateTransfers;

    /// <summary>Fills a batch with the next submissions; true when the engine is stopping and nothing is left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Gather(InFlightBatch batch)
    {
        while (true)
        {
            Submission? submission = _carry ?? TakeNext();
            _carry = null;
            if (submission is null)
            {
                if (batch.MemberCount > 0)
                {
                    return false;
                }

                if (_stopRequested && !_ring.HasClaims && Volatile.Read(ref _waiters) is null && _waitQueue is null)
                {
                    return true;
                }

                if (PulseDue())
                {
                    // Idle with a hold due: an empty batch releases it now rather than at the next submission.
                    batch.Operation = PulseOperation;
                    batch.Pulse = true;
                    return false;
                }

                WaitForWork();
                continue;
            }

            if (Volatile.Read(ref _fault) is { } fault)
            {
                submission.Fail(Stopped(fault));
                continue;
            }

            if (submission.Kind == SubmissionKind.Pulse)
            {
                // Ends the batch, which is applied (and journaled) even if empty, so due holds are released.
                batch.Operation ??= PulseOperation;
                batch.Pulse = true;
                batch.AddMember(submission);
                return false;
            }

            if (submission.Kind == SubmissionKind.Snapshot)
            {
                // The snapshot is taken right after this batch (after the events submitted before the request).
                submission.Next = batch.SnapshotRequests;
                batch.SnapshotRequests = submission;
                return false;
            }

            Operation operation = submission.Operation!;
            int count = submission.Count;
            if ((batch.Operation is not null && batch.Operation != operation) || batch.Count + count > _maxBatchSize)
            {
                _carry = submission;
                return false;
            }

            batch.Operation = operation;
            submission.Offset = batch.Count;
            if (batch.Count == 0 && count >= DirectBatchThreshold && submission.IsBatch)
            {
                // A large batch submission is applied straight from the caller's memory (which must stay unchanged
                // until completion, as documented), saving a copy of up to 1 MiB; it makes up the batch on its own.
                submission.Payload!.LendTo(batch.Staging);
                batch.Count = count;
                batch.AddMember(submission);
                return false;
            }

            submission.Payload!.CopyTo(batch.Staging, batch.Count);
            batch.Count += count;
            batch.AddMember(submission);
            if (batch.Count == _maxBatchSize || submission.EndsWithOpenChain)
            {
                return false;
            }
        }
    }

    /// <summary>The next accepted submission: earlier waiters first, then the ring, then new waiters; null when none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Submission? TakeNext()
    {
        while (true)
        {
            Submission? submission = _waitQueue;
            if (submission is not null)
            {
                _waitQueue = submission.Next;
                submission.Next = null;
            }
            else if (!_ring.TryDequeue(out submission))
            {
                Submission? waiters = Volatile.Read(ref _waiters) is null ? null : Interlocked.Exchange(ref _waiters, null);
                if (waiters is null)
                {
                    return null;
                }

                // The list is newest first; reverse it so waiters are served in arrival order.
                Submission? reversed = null;
                while (waiters is not null)
                {
                    Submission following = waiters.Next!;
                    waiters.Next = reversed;
                    reversed = waiters;
                    waiters = following;
                }

                _waitQueue = reversed;
                continue;
            }

            if (submission!.TryAccept())
            {
                return submission;
            }

            // Cancelled while it waited for room: already completed with OperationCanceledException.
        }
    }

    /// <summary>Sleeps until a caller publishes work or the engine stops.</summary>
    private void WaitForWork()
    {
        // Spin briefly first: under load the next submission is microseconds away, and a sleep costs a wake-up.
        for (int i = 0; i < 64; i++)
        {
            if (_ring.HasItem || Volatile.Read(ref _waiters) is not null || _stopRequested)
            {
                return;
            }

            Thread.SpinWait(20);
        }

        _wake.Reset();
        Interlocked.Exchange(ref _applySleeping, 1);

        // Re-check after announcing the sleep (the exchange is a full fence): a caller that published before it
        // is seen here; one that publishes after it sees _applySleeping and sets _wake.
        if (_ring.HasItem || Volatile.Read(ref _waiters) is not null || _stopRequested)
        {
            Volatile.Write(ref _applySleeping, 0);
            return;
        }

        _wake.Wait(SleepMilliseconds());
        Volatile.Write(ref _applySleeping, 0);
    }

    /// <summary>Whether a hold may be due while the engine is idle (never when the engine has failed).</summary>
    private bool PulseDue() =>
        _options.ClockPulses && Volatile.Read(ref _fault) is null && _ledger.TryPeekNextExpiry(out ulong expiresAt) && expiresAt <= Math.Max(Now(), _ledger.LastTimestamp + 1);

    /// <summary>How long an idle apply loop sleeps: until the next expiry, at most 100 ms (the clock may be a test's).</summary>
    private int SleepMilliseconds()
    {
        if (!_options.ClockPulses || !_ledger.TryPeekNextExpiry(out ulong expiresAt))
        {
            return 100;
        }

        ulong now = Now();
        return expiresAt <= now ? 0 : (int)Math.Min(100UL, ((expiresAt - now) / 1_000_000UL) + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Apply(InFlightBatch batch)
    {
        ulong timestamp = Now();
        int accountsBefore = _ledger.AccountCount;
        int transfersBefore = _ledger.TransferCount;
        ulong lastTimestampBefore = _ledger.LastTimestamp;
        _ledger.AccountChanges = batch.Images;
        _channelBook.Changes = batch.ChannelChanges;
        _identityBook.Changes = batch.KeyChanges;
        try
        {
            batch.Staging.Apply(_ledger, timestamp, batch.Count);

            AfterLedgerBatchForTests?.Invoke();
        }
        catch (Exception e) when (e is LedgerFullException or ArgumentOutOfRangeException { ParamName: "timestamp" })
        {
            // The types (and, for the clock, the parameter name: an out-of-range slice names another) of the ledger's
            // refusals; the state check below proves the refusal came before any change.
            if (!LedgerUnchangedSince(batch, accountsBefore, transfersBefore, lastTimestampBefore))
            {
                // The refusal's exception type, thrown after the ledger had changed (a bug): its memory is now ahead of
                // the journal, so going on would acknowledge later batches on top of state no replay reproduces. The
                // apply loop faults the engine, as after a store failure.
                throw;
            }

            // Refused whole before anything changed: the batch is not journaled, its callers get the reason, and the
            // engine goes on.
            batch.Error = e;
            return;
        }

        batch.Timestamp = timestamp;
        batch.BatchNumber = ++_lastAppliedBatchNumber;
        _lastBatchTimestamp = timestamp;
        _batchesSinceSnapshot++;

        batch.AccountsStart = accountsBefore;
        batch.AccountsEnd = _ledger.AccountCount;
        batch.TransfersStart = transfersBefore;
        batch.TransfersEnd = _ledger.TransferCount;
        if (_store is not null)
        {
            // The events go to the journal as submitted: encode them here, where the apply loop has time to spare while
            // the publisher waits for the disk (the publisher adds the header, which needs the previous batch's hash).
            // Also required before the hand-off: a direct batch's events are the caller's memory, reusable once released.
            EncodeEvents(batch);
            if (_audit is not null)
            {
                AppendAuditLeaves(batch);
            }
        }
    }

    /// <summary>
    /// Whether the ledger is exactly as it was before <see cref="Apply"/> called it, so that an exception it threw was a
    /// refusal of the whole batch (the ledger's contract for <see cref="LedgerFullException"/> and the clock overflow)
    /// rather than a failure midway.
    /// </summary>
    /// <remarks>
    /// Why these values prove it: the ledger throws its refusals before it changes anything (it reserves room, then
    /// checks the clock). It then begins the batch: it expires the holds now due, each expiry logging its two account
    /// rows in <see cref="InFlightBatch.Images"/> right after changing them (by code that throws neither refusal type),
    /// and advances its clock, which always moves <see cref="LedgerStateMachine.LastTimestamp"/> forward (to at least the old
    /// value + 1). Everything else a batch changes comes after that advance. So a refusal-typed exception with the clock
    /// where it was and nothing logged was thrown before any change. The row counts cannot move without the clock; they
    /// are compared too so that the proof does not rest on that ordering alone. Read only on the exception path: the hot
    /// path pays one field load.
    /// </remarks>
    private bool LedgerUnchangedSince(InFlightBatch batch, int accountsBefore, int transfersBefore, ulong lastTimestampBefore) =>
        _ledger.LastTimestamp == lastTimestampBefore &&
        _ledger.AccountCount == accountsBefore &&
        _ledger.TransferCount == transfersBefore &&
        batch.Images.Count == 0;

    /// <summary>
    /// Tests only (null otherwise, so one predictable branch per batch): runs on the apply thread right after the
    /// ledger applied a batch, inside the refusal handling, so a test can throw as a ledger failing midway would, after
    /// changing its memory. Set before submitting; the submission's enqueue publishes it to the apply thread.
    /// </summary>
    internal Action? AfterLedgerBatchForTests { get; set; }

    /// <summary>Writes the batch's events into <see cref="InFlightBatch.Encoded"/> after the header's place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EncodeEvents(InFlightBatch batch)
    {
        batch.EnsureEncodedRoom(batch.Operation!.EventSize);
        Span<byte> events = batch.Encoded.AsSpan(batch.EncodedOffset + CommitBatchHeader.Size, batch.Count * batch.Operation.EventSize);
        batch.Staging.Encode(batch.Count, events);
    }

    /// <summary>The batch timestamp: the clock in nanoseconds since the Unix epoch (the ledger keeps it increasing).</summary>
    private ulong Now()
    {
        long ticks = _clock.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks;
        return ticks <= 0 ? 0UL : (ulong)ticks * 100UL;
    }

    private bool SnapshotDue(InFlightBatch batch) =>
        _storeSnapshots && _options.SnapshotIntervalBatches > 0 && batch.BatchNumber != 0 &&
        _batchesSinceSnapshot >= _options.SnapshotIntervalBatches;

    /// <summary>Copies the ledger's state for the publisher to write once the batch is durable. Submissions wait meanwhile.</summary>
    private void TakeSnapshot(InFlightBatch batch)
    {
        _batchesSinceSnapshot = 0;
        if (_lastAppliedBatchNumber == 0 || Volatile.Read(ref _fault) is not null)
        {
            return;
        }

        // Every state's section, in the envelope the engine frames (SnapshotEnvelope); the owners write their own bytes.
        long size = SnapshotEnvelope.SizeOf(_snapshotSections);
        if (size <= Math.Min(_options.SnapshotArrayLimit, Array.MaxLength))
        {
            byte[] state = GC.AllocateUninitializedArray<byte>((int)size);
            var writer = new FixedArrayWriter(state);
            SnapshotEnvelope.Write(_snapshotSections, writer);
            writer.CheckFull();
            batch.Snapshot = new ReadOnlySequence<byte>(state);
        }
        else
        {
            // Past what one array holds: segments, which every store takes as one snapshot (ILedgerStore takes a state as
            // a sequence of any length).
            var segments = new SnapshotSegments(_options.SnapshotSegmentBytes);
            SnapshotEnvelope.Write(_snapshotSections, segments);
            batch.Snapshot = segments.ToSequence();
        }

        batch.SnapshotBatchNumber = _lastAppliedBatchNumber;
    }
}

