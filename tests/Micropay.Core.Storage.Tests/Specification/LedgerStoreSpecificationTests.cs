using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests.Specification;

/// <summary>
/// Tests of the kit itself: its failure tests and its tests for stores without snapshots must fail against a store
/// with the bug each is there to catch, and pass against a correct one. Otherwise a test could pass for the wrong
/// reason, as the snapshot tests once did by returning early.
/// </summary>
public sealed class LedgerStoreSpecificationTests
{
    private static readonly string[] FailureFacts =
    [
        nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFails_ThrowsLedgerStoreException),
        nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailed_SameInstanceRefusesAppends),
        nameof(LedgerStoreSpecification.OpenAsync_AfterDurableWriteFailed_ReportsTheBatchesBeforeItOrWithIt),
        nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailedAndReopen_RetryOfFailedBatchCompletesAndJournalContinues),
        nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailedAndReopen_DifferentBatchAcceptedOnlyIfFailedOneIsAbsent),
        nameof(LedgerStoreSpecification.ReadBatchesAsync_AfterDurableWriteFailed_ShowsTheFailedBatchOnlyIfDurable),
        nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsOnFirstBatch_ReopenedStoreIsEmptyOrHoldsIt),
        nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsOnLargeBatch_ReopenedStoreHoldsItWholeOrNotAtAll),
        nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsRepeatedlyAcrossReopens_JournalEndsExact),
    ];

    // The tests that used to return early, as passed, for a store without snapshots.
    private static readonly string[] SnapshotFacts =
    [
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_ThenReadLatest_ReturnsIt),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_Several_NewestWins),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_ThenAppend_JournalContinues),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_CallerReusesBufferAfterCompletion_StoredSnapshotUnchanged),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_CancelledToken_ThrowsOperationCanceledExceptionAndSnapshotIsAbsent),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_BatchNotDurable_ThrowsArgumentExceptionAndStoresNothing),
        nameof(LedgerStoreSpecification.ReadLatestSnapshotAsync_DuringSnapshotWrites_SeesWholeSnapshots),
        nameof(LedgerStoreSpecification.WriteSnapshotAsync_LargerThanOneBufferInManySegments_ReadsBackWholeBeforeAndAfterReopen),
        nameof(LedgerStoreSpecification.ReadLatestSnapshotAsync_StoreWritesNewerSnapshotsAndIsDisposed_ReadSnapshotStaysValidUntilDisposed),
    ];

    /// <summary>A store's bug, and the kit's tests it must fail.</summary>
    public static TheoryData<string, string> BuggyStoreCases()
    {
        var cases = new TheoryData<string, string>();
        foreach (string fact in FailureFacts)
        {
            // Every failure test needs the failure to happen, and to be reported as a store failure.
            cases.Add(nameof(Bug.NoFailureHook), fact);
            cases.Add(nameof(Bug.HookArmsNothing), fact);
            cases.Add(nameof(Bug.ThrowsIOException), fact);

            // Every one reopens and checks what the failed write left.
            cases.Add(nameof(Bug.StoresOtherBytesOnFailure), fact);
        }

        cases.Add(nameof(Bug.AcceptsAppendsAfterFailure), nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailed_SameInstanceRefusesAppends));
        cases.Add(nameof(Bug.ShowsFailedBatchToReaders), nameof(LedgerStoreSpecification.ReadBatchesAsync_AfterDurableWriteFailed_ShowsTheFailedBatchOnlyIfDurable));
        foreach (string fact in (string[])
        [
            nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailedAndReopen_RetryOfFailedBatchCompletesAndJournalContinues),
            nameof(LedgerStoreSpecification.AppendAsync_AfterDurableWriteFailedAndReopen_DifferentBatchAcceptedOnlyIfFailedOneIsAbsent),
            nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsOnFirstBatch_ReopenedStoreIsEmptyOrHoldsIt),
            nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsOnLargeBatch_ReopenedStoreHoldsItWholeOrNotAtAll),
            nameof(LedgerStoreSpecification.AppendAsync_DurableWriteFailsRepeatedlyAcrossReopens_JournalEndsExact),
        ])
        {
            cases.Add(nameof(Bug.FailureOutlivesTheInstance), fact);
        }

        foreach (string fact in SnapshotFacts)
        {
            cases.Add(nameof(Bug.IgnoresSnapshotWritesWithoutCapability), fact);
        }

        // What a store written for one array per snapshot gets wrong, and what lending memory can get wrong.
        cases.Add(nameof(Bug.KeepsOnlyTheFirstSegment), nameof(LedgerStoreSpecification.WriteSnapshotAsync_LargerThanOneBufferInManySegments_ReadsBackWholeBeforeAndAfterReopen));
        cases.Add(nameof(Bug.KeepsTheCallersSegments), nameof(LedgerStoreSpecification.WriteSnapshotAsync_LargerThanOneBufferInManySegments_ReadsBackWholeBeforeAndAfterReopen));
        cases.Add(nameof(Bug.TakesLentSnapshotsBack), nameof(LedgerStoreSpecification.ReadLatestSnapshotAsync_StoreWritesNewerSnapshotsAndIsDisposed_ReadSnapshotStaysValidUntilDisposed));

        return cases;
    }

    /// <summary>The same tests against the same wrapper, with no bug.</summary>
    public static TheoryData<string> AllCheckedFacts() => [.. FailureFacts, .. SnapshotFacts];

    [Theory]
    [MemberData(nameof(BuggyStoreCases))]
    public async Task Fact_StoreWithBug_Fails(string bug, string fact)
    {
        Exception? failure = await RunAsync(Enum.Parse<Bug>(bug), fact);

        Assert.NotNull(failure);
    }

    [Theory]
    [MemberData(nameof(AllCheckedFacts))]
    public async Task Fact_CorrectStore_Passes(string fact)
    {
        Exception? failure = await RunAsync(Bug.None, fact);

        Assert.Null(failure);
    }

    [Theory]
    [MemberData(nameof(AllCheckedFacts))]
    public async Task Fact_CorrectStoreWithoutSnapshots_Passes(string fact)
    {
        Exception? failure = await RunAsync(Bug.NoneWithoutSnapshots, fact);

        Assert.Null(failure);
    }

    [Fact]
    public async Task FailureFact_NoFailureHook_FailsNamingTheHookAndSkip()
    {
        Exception? failure = await RunAsync(Bug.NoFailureHook, FailureFacts[0]);

        Assert.NotNull(failure);
        Assert.Contains("FailNextDurableWriteAsync", failure.Message, StringComparison.Ordinal);
        Assert.Contains("[Fact(Skip =", failure.Message, StringComparison.Ordinal);
    }

    // Runs one of the kit's tests the way xUnit would: a new instance, its lifetime around the call.
    private static async Task<Exception?> RunAsync(Bug bug, string fact)
    {
        MethodInfo method = typeof(LedgerStoreSpecification).GetMethod(fact)
            ?? throw new ArgumentException($"The kit has no test named {fact}.", nameof(fact));
        var kit = new BuggyStoreSpecification(bug);
        IAsyncLifetime lifetime = kit;
        await lifetime.InitializeAsync();
        try
        {
            return await Record.ExceptionAsync(() => (Task)method.Invoke(kit, null)!);
        }
        finally
        {
            await lifetime.DisposeAsync();
        }
    }

    /// <summary>What a <see cref="BuggyLedgerStore"/> gets wrong.</summary>
    private enum Bug
    {
        /// <summary>Nothing: the in-memory store's own failure switch, before the backing.</summary>
        None,

        /// <summary>Nothing, and no snapshots (refused as the contract says); failures reach the backing first.</summary>
        NoneWithoutSnapshots,

        /// <summary>The test class does not implement the hook.</summary>
        NoFailureHook,

        /// <summary>The hook says it armed a failure but did not: the append completes.</summary>
        HookArmsNothing,

        /// <summary>The failed write surfaces as a raw <see cref="IOException"/>.</summary>
        ThrowsIOException,

        /// <summary>The failure is forgotten: the instance goes on appending as if nothing happened.</summary>
        AcceptsAppendsAfterFailure,

        /// <summary>The failed write leaves a different batch with that number in the storage.</summary>
        StoresOtherBytesOnFailure,

        /// <summary>Readers of the failed instance see the failed batch, which never became durable.</summary>
        ShowsFailedBatchToReaders,

        /// <summary>The armed failure stays on the location: stores opened there later fail every append too.</summary>
        FailureOutlivesTheInstance,

        /// <summary>No snapshots reported, yet snapshot writes complete (and are dropped) instead of throwing.</summary>
        IgnoresSnapshotWritesWithoutCapability,

        /// <summary>A snapshot write keeps only the state's first segment (as a store written for one array would).</summary>
        KeepsOnlyTheFirstSegment,

        /// <summary>A snapshot write keeps the caller's segments instead of copying them.</summary>
        KeepsTheCallersSegments,

        /// <summary>A snapshot read is taken back (its memory overwritten) when the store writes a newer one or is disposed.</summary>
        TakesLentSnapshotsBack,
    }

    // Not public, so xUnit does not run the kit against these stores as tests of their own.
    private sealed class BuggyStoreSpecification(Bug bug) : LedgerStoreSpecification
    {
        private readonly ConcurrentDictionary<string, Location> _locations = new();

        protected override LedgerStoreCapabilities ExpectedCapabilities =>
            bug is Bug.NoneWithoutSnapshots or Bug.IgnoresSnapshotWritesWithoutCapability ? LedgerStoreCapabilities.None : LedgerStoreCapabilities.Snapshots;

        protected override ValueTask<ILedgerStore> OpenStoreAsync(string location)
        {
            Location shared = _locations.GetOrAdd(location, _ => new Location());
            return ValueTask.FromResult<ILedgerStore>(new BuggyLedgerStore(new InMemoryLedgerStore(shared.Backing), shared, bug));
        }

        protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
        {
            if (bug == Bug.NoFailureHook)
            {
                return base.FailNextDurableWriteAsync(store);
            }

            ((BuggyLedgerStore)store).ArmFailure();
            return ValueTask.FromResult(true);
        }

        protected override string NewLocation() => Guid.NewGuid().ToString("N");

        protected override ValueTask DeleteLocationAsync(string location)
        {
            _locations.TryRemove(location, out _);
            return ValueTask.CompletedTask;
        }
    }

    // What stores at one location share: the data, and (for FailureOutlivesTheInstance) a failure that never disarms.
    private sealed class Location
    {
        public InMemoryLedgerStoreBacking Backing { get; } = new();

        public volatile bool FailsEveryAppend;

        // KeepsTheCallersSegments: the states as the caller passed them, by batch.
        public ConcurrentDictionary<ulong, ReadOnlySequence<byte>> Kept { get; } = new();
    }

    // An in-memory store with one bug. Used by one test at a time, from its own flow.
    private sealed class BuggyLedgerStore(InMemoryLedgerStore inner, Location location, Bug bug) : ILedgerStore
    {
        // TakesLentSnapshotsBack: the copies handed out, overwritten on the next snapshot write and on dispose.
        private readonly List<byte[]> _lent = [];
        private bool _armed;
        private bool _broken;
        private CommitBatch? _shownToReaders;

        public LedgerStoreCapabilities Capabilities =>
            bug is Bug.NoneWithoutSnapshots or Bug.IgnoresSnapshotWritesWithoutCapability ? LedgerStoreCapabilities.None : inner.Capabilities;

        public void ArmFailure()
        {
            switch (bug)
            {
                case Bug.None:
                    inner.FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.BeforeBacking);
                    break;
                case Bug.NoneWithoutSnapshots:
                    inner.FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.AfterBacking);
                    break;
                case Bug.HookArmsNothing:
                    break;
                case Bug.FailureOutlivesTheInstance:
                    location.FailsEveryAppend = true;
                    break;
                default:
                    _armed = true;
                    break;
            }
        }

        public ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default) => inner.OpenAsync(cancellationToken);

        public async ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
        {
            if (location.FailsEveryAppend)
            {
                throw new LedgerStoreException("Injected: every append at this location fails.");
            }

            if (_broken)
            {
                throw new LedgerStoreException("Injected: an earlier write failed.");
            }

            if (_armed)
            {
                _armed = false;
                switch (bug)
                {
                    case Bug.ThrowsIOException:
                        _broken = true;
                        throw new IOException("Injected: the write failed.");
                    case Bug.AcceptsAppendsAfterFailure:
                        throw new LedgerStoreException("Injected: the write failed.");
                    case Bug.StoresOtherBytesOnFailure:
                        _broken = true;
                        await inner.AppendAsync(
                            TestBatches.Create(batch.BatchNumber, batch.Header.PreviousBatchHash, batch.Header.EventCount + 1, variant: 99),
                            cancellationToken);
                        throw new LedgerStoreException("Injected: the write failed.");
                    case Bug.ShowsFailedBatchToReaders:
                        _broken = true;
                        _shownToReaders = new CommitBatch(batch.Header, batch.Events.ToArray());
                        throw new LedgerStoreException("Injected: the write failed.");
                }
            }

            await inner.AppendAsync(batch, cancellationToken);
        }

        public IAsyncEnumerable<CommitBatch> ReadBatchesAsync(ulong fromBatchNumber, CancellationToken cancellationToken = default)
        {
            IAsyncEnumerable<CommitBatch> durable = inner.ReadBatchesAsync(fromBatchNumber, cancellationToken);
            return _shownToReaders is { } shown ? Append(durable, shown, fromBatchNumber) : durable;
        }

        public ValueTask WriteSnapshotAsync(ulong batchNumber, ReadOnlySequence<byte> state, CancellationToken cancellationToken = default)
        {
            TakeLentSnapshotsBack();
            switch (bug)
            {
                case Bug.NoneWithoutSnapshots:
                    return ValueTask.FromException(new NotSupportedException("No snapshots."));
                case Bug.IgnoresSnapshotWritesWithoutCapability:
                    return ValueTask.CompletedTask;
                case Bug.KeepsOnlyTheFirstSegment:
                    return inner.WriteSnapshotAsync(batchNumber, new ReadOnlySequence<byte>(state.First), cancellationToken);
                case Bug.KeepsTheCallersSegments:
                    location.Kept[batchNumber] = state;
                    return inner.WriteSnapshotAsync(batchNumber, state, cancellationToken);
                default:
                    return inner.WriteSnapshotAsync(batchNumber, state, cancellationToken);
            }
        }

        public async ValueTask<LedgerSnapshot?> ReadLatestSnapshotAsync(CancellationToken cancellationToken = default)
        {
            if (bug is Bug.NoneWithoutSnapshots or Bug.IgnoresSnapshotWritesWithoutCapability)
            {
                return null;
            }

            LedgerSnapshot? snapshot = await inner.ReadLatestSnapshotAsync(cancellationToken);
            if (snapshot is null)
            {
                return null;
            }

            if (bug == Bug.KeepsTheCallersSegments && location.Kept.TryGetValue(snapshot.BatchNumber, out ReadOnlySequence<byte> kept))
            {
                return new LedgerSnapshot(snapshot.BatchNumber, kept);
            }

            if (bug == Bug.TakesLentSnapshotsBack)
            {
                byte[] lent = snapshot.State.ToArray();
                _lent.Add(lent);
                return new LedgerSnapshot(snapshot.BatchNumber, new ReadOnlySequence<byte>(lent));
            }

            return snapshot;
        }

        public ValueTask DisposeAsync()
        {
            TakeLentSnapshotsBack();
            return inner.DisposeAsync();
        }

        private void TakeLentSnapshotsBack()
        {
            foreach (byte[] lent in _lent)
            {
                lent.AsSpan().Clear();
            }
        }

        private static async IAsyncEnumerable<CommitBatch> Append(IAsyncEnumerable<CommitBatch> durable, CommitBatch shown, ulong fromBatchNumber)
        {
            await foreach (CommitBatch batch in durable)
            {
                yield return batch;
            }

            if (shown.BatchNumber >= fromBatchNumber)
            {
                yield return shown;
            }
        }
    }
}
