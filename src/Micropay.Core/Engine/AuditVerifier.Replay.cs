using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The replay: each batch through the operation its header names, exactly as the engine's recovery replays it
// (LedgerEngine.ReplayAsync), its signed events re-verified first with the edge's own checks, then its leaves.
public static partial class AuditVerifier
{
    private sealed partial class Verification
    {
        private readonly OperationRegistry _operations = OperationRegistry.Default;
        private readonly OperationStaging?[] _stagings = new OperationStaging?[OperationRegistry.Default.All.Count];
        private LedgerStateMachine? _ledger;
        private uint[] _results = [];
        private ulong _firstReplayed;
        private ulong _replayed;
        private ulong? _stoppedAt;
        private string? _stopReason;
        private readonly List<(int Index, string Refusal)> _refusals = [];
        private long _signaturesVerified;

        /// <summary>Replays one batch, checks its signatures and leaves; stops the replay when it cannot be applied.</summary>
        private void ReplayBatch(CommitBatch batch, StoredBatch stored, string path)
        {
            CommitBatchHeader header = batch.Header;
            ulong b = batch.BatchNumber;
            long eventsOffset = stored.Offset + FileLedgerStore.FrameSize + CommitBatchHeader.Size;
            if (!_operations.TryFind(header.Operation, out Operation operation))
            {
                Fail(b, path, stored.Offset, $"its operation code {(ushort)header.Operation} is not one this build knows ({_operations.Describe()})");
                return;
            }

            if (header.EventSize != operation.EventSize)
            {
                Fail(b, path, stored.Offset, $"it holds {operation} events of {header.EventSize} bytes, which this build encodes in {operation.EventSize}");
                return;
            }

            int count = header.EventCount;
            OperationStaging staging = _stagings[operation.Index] ??= operation.CreateStaging(Math.Max(count, 16));
            try
            {
                staging.Decode(batch.Events.Span, count);
            }
            catch (LedgerEngineException e)
            {
                Fail(b, path, eventsOffset, e.Message);
                return;
            }

            // Against the keys and channels applied before this batch: what the edge knew when it let the events through.
            VerifySignatures(b, staging, count, operation, path, eventsOffset);
            try
            {
                staging.Apply(_ledger!, header.Timestamp, count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Fail(b, path, stored.Offset, $"applying it failed ({e.GetType().Name}: {e.Message})");
                return;
            }

            if (_results.Length < count)
            {
                _results = new uint[count];
            }

            staging.CopyResultCodes(count, _results);

            // Event i carries the batch's start plus i; the ledger's clock ends at the last event's (or at the start, for an empty batch).
            ulong firstTimestamp = count == 0 ? _ledger!.LastTimestamp : _ledger!.LastTimestamp - (ulong)(count - 1);
            AppendLeaves(b, header.Operation, firstTimestamp, batch.Events.Span, header.EventSize, _results.AsSpan(0, count));
            if (header.Version == CommitBatchHeader.Version2)
            {
                Span<byte> root = stackalloc byte[MerkleHashes.Size];
                _tree.GetRoot(root);
                if (header.AuditTreeSize != (ulong)_tree.Size || header.AuditRoot != new BatchHash(root))
                {
                    Report(
                        AuditFindingKind.HeaderRootMismatch,
                        b,
                        path,
                        stored.Offset + FileLedgerStore.FrameSize + 64,
                        $"Batch {b}'s header records audit tree size {header.AuditTreeSize} and root {header.AuditRoot}, but replaying the journal gives size {_tree.Size} and root {Convert.ToHexStringLower(root)}.");
                }
            }

            CheckCheckpointBatch(b);
            _replayed++;
        }

        private void Fail(ulong batch, string path, long offset, string why)
        {
            Report(AuditFindingKind.ReplayFailed, batch, path, offset, $"Batch {batch} cannot be replayed: {why}.");
            Stop(batch, $"batch {batch} cannot be replayed");
        }

        /// <summary>Re-verifies every signed event of a decoded batch with the edge's checks (each operation's <see cref="Operation{TEvent, TResult}.RecheckEdge"/>).</summary>
        private void VerifySignatures(ulong b, OperationStaging staging, int count, Operation operation, string path, long eventsOffset)
        {
            if (!operation.CarriesSignatures)
            {
                return;
            }

            LedgerStateMachine ledger = _ledger!;
            var edge = new JournalEdge(ledger.InstanceId, new BookKeyLookup(IdentityBook.Find(ledger)), new BookChannelLookup(ChannelBook.Find(ledger)));
            _refusals.Clear();
            _signaturesVerified += staging.RecheckEdge(count, edge, _refusals);
            foreach ((int i, string refusal) in _refusals)
            {
                Report(
                    AuditFindingKind.SignatureInvalid,
                    b,
                    path,
                    eventsOffset + ((long)i * operation.EventSize),
                    $"Event {i} of batch {b} ({operation.Name}) fails the edge's checks ({refusal}): the edge never lets such an event into the journal.");
            }
        }
    }
}
