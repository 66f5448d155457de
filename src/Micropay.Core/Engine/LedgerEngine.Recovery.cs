using System.Buffers;
using Micropay.Core.Diagnostics;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// Opening: recover the ledger from the store (latest snapshot, then the journal after it), then start the threads.
public sealed partial class LedgerEngine
{
    /// <summary>
    /// Opens an engine: opens the store, loads its latest snapshot (if any) and replays every batch after it, which
    /// reproduces exactly the ledger state of the last durable batch, then starts accepting work.
    /// </summary>
    /// <param name="options">The options; <see cref="LedgerEngineOptions.Store"/> is required unless in memory.</param>
    /// <param name="cancellationToken">Cancels the recovery.</param>
    /// <returns>The open engine.</returns>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    /// <exception cref="LedgerStoreCorruptedException">The store found corruption while opening or reading.</exception>
    /// <exception cref="LedgerEngineException">The journal does not replay onto the snapshot (for example a gap).</exception>
    /// <remarks>The engine owns <see cref="LedgerEngineOptions.Store"/> from this call on: if opening fails, the store is disposed.</remarks>
    public static async ValueTask<LedgerEngine> OpenAsync(LedgerEngineOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        LedgerEngine engine;
        if (options.Durability == DurabilityMode.InMemory)
        {
            engine = new LedgerEngine(options, new LedgerStateMachine(options.AccountCapacity, options.TransferCapacity), default);
        }
        else
        {
            ILedgerStore store = options.Store!;
            try
            {
                engine = await RecoverAsync(options, store, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The engine owns the store from the start: an open that fails must not leave it open (and locked).
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            await engine.FixInstanceIdAsync(options.InstanceId, cancellationToken).ConfigureAwait(false);
            engine.StartAudit();
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return engine;
    }

    /// <summary>
    /// Gives a new ledger its instance id (journaled as its first batch, and durable before the open completes) or checks
    /// an existing ledger's against <paramref name="expected"/>.
    /// </summary>
    private async ValueTask FixInstanceIdAsync(UInt128? expected, CancellationToken cancellationToken)
    {
        if (_instanceId != UInt128.Zero)
        {
            if (expected is { } wanted && wanted != _instanceId)
            {
                throw new LedgerEngineException(
                    $"The store holds ledger instance {_instanceId:X32}, but the options ask for instance {wanted:X32}: is this the right store?", null);
            }

            return;
        }

        UInt128 id = expected ?? NewInstanceId();
        InstanceIdResult result = await SubmitOne(OperationRegistry.SetInstanceId, new InstanceIdRecord(id), cancellationToken).ConfigureAwait(false);
        if (result != InstanceIdResult.Ok)
        {
            throw new LedgerEngineException($"Setting the new ledger's instance id {id:X32} failed: {result}.", null);
        }

        _instanceId = id;
    }

    /// <summary>A random, non-zero 128-bit id from the operating system's cryptographic generator.</summary>
    private static UInt128 NewInstanceId()
    {
        Span<byte> bytes = stackalloc byte[16];
        UInt128 id;
        do
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            id = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(bytes);
        }
        while (id == UInt128.Zero);
        return id;
    }

    /// <summary>
    /// The states a snapshot holds beside the ledger's own section: each one's section name, its section over a ledger,
    /// and how recovery restores it into the ledger read from the same snapshot (after the ledger's section). The one
    /// place to add a state's section; a state whose section a snapshot lacks (an older snapshot) starts empty.
    /// </summary>
    private static readonly StateSection[] StateSections =
    [
        new(InstanceSnapshotSection.SectionName, ledger => new InstanceSnapshotSection(ledger), InstanceSnapshotSection.Restore),
        new(ChannelSnapshotSection.SectionName, ledger => new ChannelSnapshotSection(ledger), Channels.ChannelBook.RestoreSnapshot),
        new(Identity.IdentityBook.SectionName, ledger => new IdentitySnapshotSection(ledger), Identity.IdentityBook.RestoreSnapshot),
    ];

    /// <summary>The sections of a snapshot of <paramref name="ledger"/> and the states beside it, in name order.</summary>
    private static SnapshotSection[] SnapshotSectionsOf(LedgerStateMachine ledger) =>
        [.. StateSections.Select(s => s.Of(ledger)).Append(new LedgerSnapshotSection(ledger)).OrderBy(s => s.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Every state of <paramref name="ledger"/> as its snapshot section's bytes, by section name: how the simulator
    /// compares a ledger it fed the acknowledged operations with the writer's whole state (ledger, channels, keys).
    /// </summary>
    internal static (string Name, byte[] Bytes)[] StateSectionBytes(LedgerStateMachine ledger) =>
        [.. SnapshotSectionsOf(ledger).Select(section =>
        {
            var bytes = new ArrayBufferWriter<byte>();
            section.Write(bytes);
            return (section.Name, bytes.WrittenSpan.ToArray());
        })];

    /// <summary>
    /// The writer's ledger, for the simulator's comparison only: read it only while nothing is submitted (each submission
    /// awaited), when the writer thread is parked and its last writes are published by the completed await.
    /// </summary>
    internal LedgerStateMachine WriterLedgerWhileIdle => _ledger;

    /// <summary>The section names this build reads (those <see cref="SnapshotSectionsOf"/> writes).</summary>
    private static readonly HashSet<string> KnownSnapshotSections =
        new(StateSections.Select(s => s.Name).Append(SnapshotEnvelope.LedgerSection).Append(AuditSnapshotSection.SectionName), StringComparer.Ordinal);

    /// <summary>A state's section: see <see cref="StateSections"/>.</summary>
    private sealed record StateSection(string Name, Func<LedgerStateMachine, SnapshotSection> Of, Action<LedgerStateMachine, ReadOnlySequence<byte>> Restore);

    /// <summary>The most bytes of record framing a store may ask for in front of an encoded batch (<see cref="IEncodedBatchAppender.RecordPrefixSize"/>).</summary>
    internal const int MaxRecordPrefixSize = 4096;

    /// <summary>
    /// The store's encoded-append fast path, or null. Found through the capability, never the store's type, so a
    /// decorator that passes it on keeps it: the store reports <see cref="LedgerStoreCapabilities.EncodedAppend"/> (a
    /// decorator only when its inner store does) and implements <see cref="IEncodedBatchAppender"/>.
    /// </summary>
    private static IEncodedBatchAppender? EncodedAppenderOf(ILedgerStore? store) =>
        store is IEncodedBatchAppender fast && (store.Capabilities & LedgerStoreCapabilities.EncodedAppend) != 0 ? fast : null;

    private static async ValueTask<LedgerEngine> RecoverAsync(LedgerEngineOptions options, ILedgerStore store, CancellationToken cancellationToken)
    {
        if (EncodedAppenderOf(store) is { } fast && fast.RecordPrefixSize is < 0 or > MaxRecordPrefixSize)
        {
            throw new ArgumentException(
                $"The store ({store.GetType().Name}) offers LedgerStoreCapabilities.EncodedAppend with a RecordPrefixSize of {fast.RecordPrefixSize}; " +
                $"it must be 0 to {MaxRecordPrefixSize}.",
                nameof(options));
        }

        LedgerStoreState state = await store.OpenAsync(cancellationToken).ConfigureAwait(false);
        Audit.AuditLog? audit = options.Audit is { } auditOptions ? Audit.AuditLog.Open(auditOptions.Directory, auditOptions.FileSystem) : null;
        try
        {
            return await RecoverAsync(options, store, state, audit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            audit?.Dispose();
            throw;
        }
    }

    private static async ValueTask<LedgerEngine> RecoverAsync(
        LedgerEngineOptions options, ILedgerStore store, LedgerStoreState state, Audit.AuditLog? audit, CancellationToken cancellationToken)
    {
        if (state.DiscardedTail is { } tail)
        {
            // Logged before the replay, so the operator hears of the cut even if recovery then fails (DiscardedTailAtOpen
            // says why it matters).
            MicropayEventSource.Log.JournalTailDiscarded(tail.Location, tail.Offset, tail.Length, tail.BatchNumber ?? 0, tail.Reason);
        }

        LedgerStateMachine ledger;
        PublishedIndex? transfers = null;
        Type? snapshotOwner = null;
        ulong appliedThrough = 0;
        AuditSnapshotSection.Parsed? auditSection = null;
        if (state.LatestSnapshotBatchNumber != 0 && (store.Capabilities & LedgerStoreCapabilities.Snapshots) != 0 &&
            await store.ReadLatestSnapshotAsync(cancellationToken).ConfigureAwait(false) is { } found)
        {
            // A store may lend the state (the file store maps its file: no fresh memory for 1.4 GB at 10M transfers, and
            // of any length, whether it is reached directly or through a decorator); disposing the snapshot below, once
            // nothing reads it, gives that memory back.
            Task<PublishedIndex>? indexing = null;
            try
            {
                Dictionary<string, ReadOnlySequence<byte>> sections = ReadSnapshotSections(found.State, out ReadOnlySequence<byte> snapshotState);

                // The transfer read index is built from the snapshot's rows on another core while ReadSnapshot rebuilds
                // the ledger from the same bytes: both are mostly page faults and cache misses, and on 10M transfers each
                // took about a second one after the other.
                indexing = StartIndexingSnapshotTransfers(snapshotState, options.TransferCapacity);
                ledger = LedgerStateMachine.ReadSnapshot(snapshotState, options.AccountCapacity, options.TransferCapacity);
                auditSection = RestoreSnapshotSections(ledger, sections, found.BatchNumber);
            }
            finally
            {
                // The task reads the snapshot's memory, so it must end before that memory can be released.
                if (indexing is not null)
                {
                    try
                    {
                        transfers = await indexing.ConfigureAwait(false);
                    }
                    catch (Exception) when (indexing.IsFaulted)
                    {
                        // Built again from the ledger below (ReadSnapshot's own error, if any, is what propagates).
                        transfers = null;
                    }
                }

                // A mapping of the file store's snapshot: unmapping it now frees the address space and lets the file's
                // disk space go once the store prunes it.
                found.Dispose();
            }

            appliedThrough = found.BatchNumber;
            snapshotOwner = found.Owner?.GetType();
        }
        else
        {
            ledger = new LedgerStateMachine(options.AccountCapacity, options.TransferCapacity);
        }

        ulong snapshotBatch = appliedThrough;
        if (audit is not null)
        {
            RestoreAudit(audit, snapshotBatch, auditSection);
        }

        appliedThrough = await ReplayAsync(
            store, ledger, appliedThrough, options.MaxBatchSize, options.Operations, audit, auditSection?.BatchHash, cancellationToken).ConfigureAwait(false);
        if (appliedThrough != state.LastBatchNumber)
        {
            throw new LedgerEngineException(
                $"The store reports batch {state.LastBatchNumber} as its last, but replay ended at batch {appliedThrough}.", null);
        }

        if (appliedThrough == snapshotBatch && auditSection is { } recorded && recorded.BatchHash != state.LastBatchHash)
        {
            // Nothing after the snapshot to check its batch hash against but the store's own last hash.
            throw new LedgerEngineException(
                $"The snapshot of batch {snapshotBatch} records a batch hash the journal's batch {snapshotBatch} does not have: the snapshot belongs to another history.", null);
        }

        return new LedgerEngine(options, ledger, state, transfers, snapshotOwner, audit);
    }

    /// <summary>A snapshot's sections by name, and the ledger's, which is required (a snapshot without it is not this engine's).</summary>
    /// <exception cref="LedgerSnapshotException">The envelope is malformed, names a section this build does not know, or has no ledger section.</exception>
    internal static Dictionary<string, ReadOnlySequence<byte>> ReadSnapshotSections(ReadOnlySequence<byte> snapshot, out ReadOnlySequence<byte> ledgerSection)
    {
        Dictionary<string, ReadOnlySequence<byte>> sections = SnapshotEnvelope.Read(snapshot, KnownSnapshotSections);
        if (!sections.TryGetValue(SnapshotEnvelope.LedgerSection, out ledgerSection))
        {
            throw new LedgerSnapshotException(0, $"the snapshot has no \"{SnapshotEnvelope.LedgerSection}\" section");
        }

        return sections;
    }

    /// <summary>
    /// Restores the states beside the ledger (<see cref="StateSections"/>) into <paramref name="ledger"/>, just read from
    /// the same snapshot of batch <paramref name="batchNumber"/>, and reads its audit section when it has one.
    /// </summary>
    /// <exception cref="LedgerSnapshotException">A section is malformed, or the audit section names another batch.</exception>
    internal static AuditSnapshotSection.Parsed? RestoreSnapshotSections(LedgerStateMachine ledger, Dictionary<string, ReadOnlySequence<byte>> sections, ulong batchNumber)
    {
        foreach (StateSection extra in StateSections)
        {
            if (sections.TryGetValue(extra.Name, out ReadOnlySequence<byte> section))
            {
                extra.Restore(ledger, section);
            }
        }

        if (!sections.TryGetValue(AuditSnapshotSection.SectionName, out ReadOnlySequence<byte> auditBytes))
        {
            return null;
        }

        AuditSnapshotSection.Parsed audit = AuditSnapshotSection.Read(auditBytes);
        if (audit.BatchNumber != batchNumber)
        {
            throw new LedgerSnapshotException(8, $"the snapshot of batch {batchNumber} says it follows batch {audit.BatchNumber}");
        }

        return audit;
    }

    /// <summary>
    /// Starts building the transfer read index of a snapshot's rows (the ids as the snapshot stores them, row for row
    /// as <see cref="LedgerStateMachine.ReadSnapshot(ReadOnlySequence{byte}, int, int)"/> loads them), or returns null when the
    /// header is not sound (then ReadSnapshot throws anyway). The result is used only if ReadSnapshot of the same bytes
    /// succeeds.
    /// </summary>
    private static Task<PublishedIndex>? StartIndexingSnapshotTransfers(ReadOnlySequence<byte> snapshot, int transferCapacity)
    {
        if (!LedgerStateMachine.TryLocateSnapshotTransfers(snapshot, out long offset, out int count))
        {
            return null;
        }

        return Task.Run(() => IndexSnapshotTransfers(snapshot, offset, count, transferCapacity));
    }

    /// <summary>
    /// The read index of the snapshot's <paramref name="count"/> transfer rows, which start at <paramref name="offset"/>.
    /// The state may lie in any number of segments (one array, a mapping's 1 GiB windows, a store's chunks): each run of
    /// rows whose ids lie whole in one segment is inserted through a pointer into it, with the index's prefetching bulk
    /// insert; an id cut by a segment's end is gathered and inserted alone.
    /// </summary>
    private static unsafe PublishedIndex IndexSnapshotTransfers(ReadOnlySequence<byte> snapshot, long offset, int count, int transferCapacity)
    {
        const int IdSize = 16;
        var index = new PublishedIndex(Math.Max(transferCapacity, count));
        Span<byte> cut = stackalloc byte[IdSize];
        int row = 0;
        long segmentStart = 0;
        foreach (ReadOnlyMemory<byte> segment in snapshot)
        {
            long segmentEnd = segmentStart + segment.Length;

            // Every row whose id starts before this segment was inserted with an earlier one, so the next id starts here or later.
            if (row < count && offset + ((long)row * Transfer.Size) < segmentEnd)
            {
                using MemoryHandle pinned = segment.Pin();
                byte* start = (byte*)pinned.Pointer;
                while (row < count)
                {
                    long idAt = offset + ((long)row * Transfer.Size);
                    if (idAt >= segmentEnd)
                    {
                        break;
                    }

                    if (idAt + IdSize <= segmentEnd)
                    {
                        // The rows up to the last one whose id ends inside this segment.
                        int end = (int)Math.Min(count, ((segmentEnd - IdSize - offset) / Transfer.Size) + 1);
                        index.InsertRows(row, end, new SnapshotTransferIds(start + (idAt - segmentStart), row));
                        row = end;
                    }
                    else
                    {
                        snapshot.Slice(idAt, IdSize).CopyTo(cut);
                        index.Insert(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(cut), row);
                        row++;
                    }
                }
            }

            segmentStart = segmentEnd;
        }

        return index;
    }

    /// <summary>
    /// Applies every journaled batch after <paramref name="after"/>, with the timestamps in their headers, through the
    /// operation each header names. A code this build does not know, or an event size other than its operation's, stops
    /// the open with a message naming both: such a batch is never decoded as something else.
    /// </summary>
    private static async ValueTask<ulong> ReplayAsync(
        ILedgerStore store,
        LedgerStateMachine ledger,
        ulong after,
        int maxBatchSize,
        OperationRegistry operations,
        Audit.AuditLog? audit,
        BatchHash? snapshotBatchHash,
        CancellationToken cancellationToken)
    {
        uint[] resultCodes = [];
        byte[] root = new byte[Audit.MerkleHashes.Size];
        // Staging per operation, created when a batch of it first appears (most journals never hold account batches
        // past the first few).
        var stagings = new OperationStaging?[operations.All.Count];
        ulong last = after;
        await foreach (CommitBatch batch in store.ReadBatchesAsync(after + 1, cancellationToken).ConfigureAwait(false))
        {
            if (batch.BatchNumber != last + 1)
            {
                throw new LedgerEngineException($"The journal skips from batch {last} to batch {batch.BatchNumber}; it cannot be replayed.", null);
            }

            CommitBatchHeader header = batch.Header;
            if (last == after && snapshotBatchHash is { } expected && header.PreviousBatchHash != expected)
            {
                throw new LedgerEngineException(
                    $"Batch {batch.BatchNumber} of the journal chains to a batch {after} other than the one the snapshot was taken after: the snapshot belongs to another history.", null);
            }

            if (!operations.TryFind(header.Operation, out Operation operation))
            {
                throw new LedgerEngineException(
                    $"Batch {batch.BatchNumber} of the journal holds operation code {(ushort)header.Operation}, which this build of Micropay.Core " +
                    $"does not know (it knows {operations.Describe()}). The journal was written by a newer build: open it with that build.", null);
            }

            if (header.EventSize != operation.EventSize)
            {
                throw new LedgerEngineException(
                    $"Batch {batch.BatchNumber} of the journal holds {operation} events of {header.EventSize} bytes; this build encodes them in " +
                    $"{operation.EventSize} bytes, so it cannot replay them.", null);
            }

            OperationStaging staging = stagings[operation.Index] ??= operation.CreateStaging(maxBatchSize);
            staging.Decode(batch.Events.Span, header.EventCount);
            staging.Apply(ledger, header.Timestamp, header.EventCount);
            if (audit is not null)
            {
                int count = header.EventCount;
                if (resultCodes.Length < count)
                {
                    resultCodes = new uint[count];
                }

                staging.CopyResultCodes(count, resultCodes);
                ulong first = count == 0 ? ledger.LastTimestamp : ledger.LastTimestamp - (ulong)(count - 1);
                audit.AppendBatch(batch.BatchNumber, header.Operation, first, batch.Events, header.EventSize, resultCodes.AsMemory(0, count));
                audit.GetCurrentRoot(root);
                if (header.Version == CommitBatchHeader.Version2 &&
                    (header.AuditTreeSize != (ulong)audit.Size || header.AuditRoot != new BatchHash(root)))
                {
                    throw new LedgerEngineException(
                        $"Batch {batch.BatchNumber} of the journal records audit tree size {header.AuditTreeSize} and root {header.AuditRoot}, but replaying the journal " +
                        $"gives size {audit.Size} and root {Convert.ToHexStringLower(root)}: the journal or the audit log was changed.", null);
                }
            }

            last = batch.BatchNumber;
        }

        return last;
    }

    /// <summary>Makes the recovered state readable (before the threads start, so no fences are needed beyond Thread.Start).</summary>
    private void PublishRecoveredState()
    {
        ReadOnlySpan<Account> accounts = _ledger.Accounts;
        int[] rows = new int[accounts.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }

        _accounts.BeginPublish(accounts.Length);
        _accounts.WriteRows(rows, accounts);
        _accounts.EndPublish(0, accounts.Length);

        // Rows below _transfers.Count came from the snapshot, indexed during recovery; the rest were replayed.
        _transfers.InsertRows(_transfers.Count, _ledger.TransferCount, new TransferRowIds(_ledger));
        _releasedTransferCount = _ledger.TransferCount;
    }

    /// <summary>
    /// The ids of a run of a snapshot's transfer records (128 bytes each, the id first, little-endian), by row:
    /// <paramref name="first"/> points at row <paramref name="firstRow"/>'s record, and the run's records follow it.
    /// </summary>
    private readonly unsafe struct SnapshotTransferIds(byte* first, int firstRow) : IRowIds
    {
        public UInt128 IdAt(int row) =>
            System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(new ReadOnlySpan<byte>(first + ((long)(row - firstRow) * Transfer.Size), 16));
    }
}

// Recovery of the audit log (beside the rest of recovery, which it follows step by step).
public sealed partial class LedgerEngine
{
    /// <summary>Sets the audit log to the snapshot's tree (checked against its tiles), or empties it when there is no snapshot.</summary>
    private static void RestoreAudit(Audit.AuditLog audit, ulong snapshotBatch, AuditSnapshotSection.Parsed? section)
    {
        if (snapshotBatch == 0)
        {
            audit.Restore(Audit.AuditSnapshotState.Empty);
            return;
        }

        if (section is not { HasTree: true } withTree)
        {
            throw new LedgerEngineException(
                $"The snapshot of batch {snapshotBatch} was taken without the audit log, so no audit tree can cover the batches before it. " +
                "Open the ledger without LedgerEngineOptions.Audit, or start a new ledger with it.", null);
        }

        if (withTree.Tree.BatchCount != snapshotBatch)
        {
            throw new LedgerSnapshotException(56, $"the snapshot of batch {snapshotBatch} says its audit log holds {withTree.Tree.BatchCount} batches");
        }

        audit.Restore(withTree.Tree);
        Span<byte> root = stackalloc byte[Audit.MerkleHashes.Size];
        audit.GetCurrentRoot(root);
        if (!root.SequenceEqual(withTree.Root.Span))
        {
            throw new LedgerSnapshotException(72, "the audit section's root is not its frontier's");
        }
    }
}
