using System.Runtime.CompilerServices;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The publisher: takes applied batches in order, makes them durable (encode, hash chain, append), publishes them
// to the readers, then releases their results. Everything here runs on _publishThread only.
public sealed partial class LedgerEngine
{
    // Publisher only: the hash of the last batch handed to the store (the next header's PreviousBatchHash).
    private BatchHash _lastBatchHash;

    // Readers see a transfer row only below this count: the publisher indexes a batch's transfers while the batch is
    // still being made durable, and release-stores the batch's end here when it publishes the batch (after its accounts,
    // before completing its callers); readers acquire it after finding a row.
    private int _releasedTransferCount;

    private void PublishLoop()
    {
        int next = 0;
        try
        {
            int idleTimeout = PublisherIdleTimeout;
            while (true)
            {
                while (!_filledBatches.Wait(idleTimeout))
                {
                    IdleCheckpoint();
                }

                InFlightBatch batch = _batches[next];
                next = (next + 1) % PipelineDepth;
                try
                {
                    Process(batch);
                }
                catch (Exception e)
                {
                    // A bug in the engine (store failures are caught in Append). Stop as after a store failure: this
                    // batch's members fail (the fault is set first), and so does everything after it.
                    Fault(new InvalidOperationException("The ledger engine's publisher failed. This is a bug in Micropay.Core.", e));
                    Release(batch, snapshotsToo: true);
                }

                bool stop = batch.Stop;
                batch.Reset();
                _freeBatches.Release();
                if (stop)
                {
                    break;
                }
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Process(InFlightBatch batch)
    {
        bool journaled = batch.BatchNumber != 0 && _store is not null;
        if (journaled && Volatile.Read(ref _fault) is null)
        {
            // Encoded before anything is released: a direct batch's events are the caller's memory, which the caller
            // may reuse as soon as its submission completes.
            Encode(batch);
            if (_mode == DurabilityMode.Buffered && !batch.Operation!.ReleasedOnlyWhenDurable)
            {
                // Buffered: released before the append (see DurabilityMode.Buffered); the append follows in order.
                Release(batch, snapshotsToo: false);
                Append(batch);
                FinishSnapshot(batch);
                return;
            }

            Append(batch);
        }

        Release(batch, snapshotsToo: true);
    }

    /// <summary>
    /// Writes the batch's header (chained to the previous batch) in front of its events in
    /// <see cref="InFlightBatch.Encoded"/>; for a store without the fast path, also computes the batch's chain hash.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Encode(InFlightBatch batch)
    {
        Operation operation = batch.Operation!;
        CommitBatchHeader header = _audit is null
            ? new CommitBatchHeader(batch.BatchNumber, operation.Code, batch.Timestamp, batch.Count, _lastBatchHash, BatchHash.Zero, operation.EventSize)
            : CommitBatchHeader.WithAuditTree(
                batch.BatchNumber, operation.Code, batch.Timestamp, batch.Count, _lastBatchHash, new BatchHash(batch.AuditRoot), (ulong)batch.AuditSize, operation.EventSize);
        Span<byte> encoded = batch.Encoded.AsSpan(batch.EncodedOffset, batch.EncodedLength);
        header.Encode(encoded);
        batch.Header = header;
        if (_fastStore is null)
        {
            _lastBatchHash = BatchHash.Compute(encoded);
        }
    }

    /// <summary>Appends the encoded batch; a failure stops the engine.</summary>
    private void Append(InFlightBatch batch)
    {
        try
        {
            if (_fastStore is { } fast)
            {
                // The store hashes the batch and runs the overlap (the read index's inserts) while the device writes.
                _overlap.Batch = batch;
                _lastBatchHash = fast.AppendEncoded(batch.Header, batch.Encoded, batch.EncodedLength, _overlap);
            }
            else
            {
                AppendThroughStore(batch);
            }

            if (_audit is not null)
            {
                AfterDurable(batch);
            }
        }
        catch (Exception e)
        {
            Fault(e);
        }
        finally
        {
            _overlap.Batch = null;
        }
    }

    /// <summary>Appends through <see cref="ILedgerStore.AppendAsync"/>, for a store without the encoded fast path.</summary>
    private void AppendThroughStore(InFlightBatch batch)
    {
        var commit = new CommitBatch(batch.Header, batch.Encoded.AsMemory(batch.EncodedOffset + CommitBatchHeader.Size, batch.Count * batch.Operation!.EventSize));
        ValueTask append = _store!.AppendAsync(commit);
        if (!append.IsCompletedSuccessfully)
        {
            // A store that completes asynchronously: this thread exists to wait for it.
            append.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Inserts the batch's new transfers into the read index (hidden from readers until <see cref="_releasedTransferCount"/>
    /// covers them). Publisher thread; idempotent per batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void IndexTransfers(InFlightBatch batch)
    {
        if (!batch.TransfersIndexed)
        {
            _transfers.InsertRows(batch.TransfersStart, batch.TransfersEnd, new TransferRowIds(_ledger));
            batch.TransfersIndexed = true;
        }
    }

    /// <summary>The publisher's work during a fast-path append: index the batch's transfers while the device writes.</summary>
    private sealed class AppendOverlap(LedgerEngine engine) : IAppendOverlap
    {
        // Publisher thread only: the batch being appended.
        public InFlightBatch? Batch;

        public void WhileWriting()
        {
            if (Batch is { } batch)
            {
                engine.IndexTransfers(batch);
            }
        }
    }

    /// <summary>Completions queued to the thread pool as one work item: continuations of up to this many callers run in turn on one pool thread.</summary>
    private const int CompletionChunk = 256;

    /// <summary>Publishes a durable batch to the readers and completes its submissions, or fails them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Release(InFlightBatch batch, bool snapshotsToo)
    {
        Exception? fault = Volatile.Read(ref _fault);
        if (fault is null && batch.BatchNumber != 0)
        {
            Publish(batch);
        }

        // Outcomes first, then one thread-pool work item per chunk of submissions (linked through Next), so a batch of
        // thousands of single submissions costs a handful of queue operations rather than one each.
        Exception? failure = fault is not null ? Stopped(fault) : batch.Error;
        Submission? head = null;
        Submission? tail = null;
        int linked = 0;
        for (int i = 0; i < batch.MemberCount; i++)
        {
            Submission member = batch.Members[i];
            if (failure is not null)
            {
                member.SetError(failure);
            }
            else
            {
                // Snapshot requests are never members (they end a batch on their own list), so a member carries events
                // or a pulse.
                member.SetOutcome(member.Kind == SubmissionKind.Pulse
                    ? (long)batch.BatchNumber
                    : member.Payload!.TakeOutcome(batch.Staging, member.Offset));
            }

            if (head is null)
            {
                head = member;
            }
            else
            {
                tail!.Next = member;
            }

            tail = member;
            if (++linked == CompletionChunk)
            {
                head.ReleaseChain();
                head = tail = null;
                linked = 0;
            }
        }

        head?.ReleaseChain();
        if (snapshotsToo)
        {
            FinishSnapshot(batch);
        }
    }

    /// <summary>Makes the batch's changes visible to readers: changed and new accounts, new transfers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Publish(InFlightBatch batch)
    {
        _accounts.BeginPublish(batch.AccountsEnd);
        _accounts.WriteRows(batch.Images.Rows, batch.Images.Images);
        _accounts.EndPublish(batch.AccountsStart, batch.AccountsEnd);
        if (batch.ChannelChanges.Count != 0)
        {
            _publishedChannels.Apply(batch.ChannelChanges);
        }

        if (batch.KeyChanges.Count != 0)
        {
            _publishedKeys.Apply(batch.KeyChanges);
        }

        IndexTransfers(batch);
        Volatile.Write(ref _releasedTransferCount, batch.TransfersEnd);
        Volatile.Write(ref _releasedBatchNumber, batch.BatchNumber);
    }

    /// <summary>Writes a snapshot taken after this batch (now durable) and completes the requests for it.</summary>
    private void FinishSnapshot(InFlightBatch batch)
    {
        Exception? fault = Volatile.Read(ref _fault);
        Exception? error = fault is null ? null : Stopped(fault);
        if (error is null && batch.Snapshot is { } state)
        {
            try
            {
                // The snapshot names the batch it follows by that batch's hash, which only this thread knows (the batch
                // was appended, or was the last one appended before this empty one). The audit log's files must be
                // durable before the snapshot is: once it is, the journal before it may be compacted.
                AuditSnapshotSection.FillBatchHash(state, _lastBatchHash);
                _audit?.Flush();

                // One array, or segments past what one array holds: any store takes either.
                ValueTask write = _store!.WriteSnapshotAsync(batch.SnapshotBatchNumber, state);
                if (!write.IsCompletedSuccessfully)
                {
                    // A store that completes asynchronously: this thread exists to wait for it.
                    write.AsTask().GetAwaiter().GetResult();
                }
            }
            catch (Exception e)
            {
                // A failed snapshot loses nothing (the journal holds every batch): the engine keeps running and the
                // callers who asked for this snapshot get the reason.
                error = new LedgerEngineException($"Writing the snapshot at batch {batch.SnapshotBatchNumber} failed; the journal is unaffected.", e);
            }
        }

        if (fault is null && batch.Snapshot is not null)
        {
            // An attempt was made (not merely skipped because the engine had stopped): record its outcome before the
            // requests complete, so a caller whose TakeSnapshotAsync has returned sees it.
            if (error is null)
            {
                Volatile.Write(ref _latestSnapshotBatchNumber, batch.SnapshotBatchNumber);
            }

            Volatile.Write(ref _lastSnapshotError, error);
        }

        Submission? request = batch.SnapshotRequests;
        batch.SnapshotRequests = null;
        while (request is not null)
        {
            // Read the link before completing: a completed request may be reused at once.
            Submission? next = request.Next;
            request.Next = null;
            if (error is not null)
            {
                request.Fail(error);
            }
            else
            {
                request.Complete((long)(batch.Snapshot is null ? _releasedBatchNumber : batch.SnapshotBatchNumber));
            }

            request = next;
        }
    }
}
