using Xunit;

namespace Micropay.Core.Storage.Specification;

/// <summary>
/// The conformance tests of the <see cref="ILedgerStore"/> contract. Subclass it in an xUnit test project, implement
/// <see cref="OpenStoreAsync"/>, and every test here runs against your store.
/// </summary>
/// <remarks>
/// <para>Each test gets fresh locations from <see cref="NewLocation"/>, creates stores there with
/// <see cref="OpenStoreAsync"/> (and calls <see cref="ILedgerStore.OpenAsync"/> itself), "reopens" a store by
/// disposing it and creating a new one at the same location, and afterwards disposes what is still open and calls
/// <see cref="DeleteLocationAsync"/> for each location.</para>
/// <para>The tests are <c>public virtual</c> methods marked <see cref="FactAttribute"/>. To skip one that cannot
/// apply to your store, override it and mark the override <c>[Fact(Skip = "why")]</c>. A store without snapshots
/// overrides <see cref="ExpectedCapabilities"/> to <see cref="LedgerStoreCapabilities.None"/>; the snapshot tests
/// then check that <see cref="ILedgerStore.WriteSnapshotAsync"/> throws <see cref="NotSupportedException"/> and
/// that <see cref="ILedgerStore.ReadLatestSnapshotAsync"/> returns null. A store with snapshots is checked with a state
/// larger than one buffer, in uneven segments (<see cref="LargeSnapshotLength"/>). A store that implements
/// <see cref="IEncodedBatchAppender"/> adds <see cref="LedgerStoreCapabilities.EncodedAppend"/> to
/// <see cref="ExpectedCapabilities"/>, and the encoded-append tests check it.</para>
/// <para>The fault tests wrap your store in a <see cref="FaultInjectingLedgerStore"/>, which fails or cancels appends
/// above your store (your store itself never fails there), to check that such an append is never reported durable
/// and that retrying the identical batch resolves its unknown outcome.</para>
/// <para>The failure tests make your store's own durable write fail, through <see cref="FailNextDurableWriteAsync"/>,
/// which your subclass implements (I/O error, lost connection, failed commit...): the append must throw
/// <see cref="LedgerStoreException"/>, the instance must refuse further appends, and a reopened store must hold the
/// batches before the failed one, or those and the failed batch, and carry on from there. Without that hook these
/// tests fail, saying so; to leave them out, override each with <c>[Fact(Skip = "why")]</c>.</para>
/// </remarks>
public abstract partial class LedgerStoreSpecification : IAsyncLifetime
{
    // Per test instance (xUnit creates one per test); touched only by the test's own flow.
    private readonly List<string> _locations = [];
    private readonly List<ILedgerStore> _openStores = [];

    /// <summary>Creates the test class.</summary>
    protected LedgerStoreSpecification()
    {
    }

    /// <summary>The optional features the store under test must report in <see cref="ILedgerStore.Capabilities"/>;
    /// <see cref="LedgerStoreCapabilities.Snapshots"/> unless overridden.</summary>
    protected virtual LedgerStoreCapabilities ExpectedCapabilities => LedgerStoreCapabilities.Snapshots;

    private bool SnapshotsExpected => (ExpectedCapabilities & LedgerStoreCapabilities.Snapshots) != 0;

    /// <summary>Creates (without opening) the store at <paramref name="location"/>, creating the location's storage
    /// if it is absent. The kit calls <see cref="ILedgerStore.OpenAsync"/> on the result itself, and disposes it.
    /// Called again for the same location after the previous store there was disposed, the new store must see the
    /// same durable data: that is how the kit tests durability across a reopen.</summary>
    /// <param name="location">A location from <see cref="NewLocation"/>.</param>
    /// <returns>A new, unopened store.</returns>
    protected abstract ValueTask<ILedgerStore> OpenStoreAsync(string location);

    /// <summary>Returns a location for a new, empty store, unique to the test. By default a new, empty directory
    /// under the system's temporary directory; override it for a store that lives elsewhere (a database name, a
    /// key prefix, ...).</summary>
    /// <returns>The location, passed to <see cref="OpenStoreAsync"/> and <see cref="DeleteLocationAsync"/>.</returns>
    protected virtual string NewLocation()
    {
        string path = Path.Combine(Path.GetTempPath(), "micropay-store-spec", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Makes the next durable write of <paramref name="store"/> really fail, inside the adapter, as an I/O error, a full
    /// disk, a lost connection or a failed commit would; the failure tests call it right before an append. Returns
    /// false, by default, when the adapter cannot; those tests then fail with a message saying to implement this hook
    /// or to skip them.
    /// </summary>
    /// <remarks>
    /// <para><b>When.</b> The kit calls it on a store it opened (<see cref="ILedgerStore.OpenAsync"/> done, maybe some
    /// batches appended), and then at once appends the next batch, a valid one (its number and chain are right), on
    /// the same thread; nothing else touches the store in between. The hook may complete asynchronously.</para>
    /// <para><b>What.</b> That append's write must fail where the adapter really does its durable work (the write or
    /// fsync of a file, a commit, a request to a server), going through the adapter's own error handling, so that
    /// <see cref="ILedgerStore.AppendAsync"/> throws <see cref="LedgerStoreException"/>. Not a wrapper around the store:
    /// what is tested is how the store behaves once its own write failed. The failure may come before anything reached
    /// the storage, partway through, or after the batch was durable but before the store learned it; the tests accept
    /// either outcome after a reopen, and no other.</para>
    /// <para><b>Scope.</b> Only that one write of that one instance: a store created afterwards at the same location
    /// (the kit's reopen) must write normally, so a failure armed on a shared object (a file-system seam, a fake
    /// server) must disarm itself once it fired.</para>
    /// </remarks>
    /// <param name="store">An open store from <see cref="OpenStoreAsync"/>.</param>
    /// <returns>True when the next durable write will fail; false when the adapter cannot arrange it.</returns>
    protected virtual ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store) => ValueTask.FromResult(false);

    /// <summary>Deletes what a test left at a location; called after each test, once the stores there are disposed.
    /// By default deletes the directory recursively if it exists.</summary>
    /// <param name="location">A location from <see cref="NewLocation"/>.</param>
    /// <returns>A task that completes when the location is gone.</returns>
    protected virtual ValueTask DeleteLocationAsync(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (Directory.Exists(location))
        {
            Directory.Delete(location, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    async Task IAsyncLifetime.DisposeAsync()
    {
        // Stores first (a file store may hold its directory open), then locations; every step runs even if one fails.
        var failures = new List<Exception>();
        foreach (ILedgerStore store in _openStores)
        {
            try
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add(e);
            }
        }

        _openStores.Clear();
        foreach (string location in _locations)
        {
            try
            {
                await DeleteLocationAsync(location).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add(e);
            }
        }

        _locations.Clear();
        if (failures.Count > 0)
        {
            throw new AggregateException("Cleaning up after the test failed.", failures);
        }
    }

    private string CreateLocation()
    {
        string location = NewLocation();
        _locations.Add(location);
        return location;
    }

    // Creates and opens the store at a location, tracking it so the test's cleanup disposes it.
    private async Task<(ILedgerStore Store, LedgerStoreState State)> OpenAtAsync(string location)
    {
        ILedgerStore store = await CreateAtAsync(location).ConfigureAwait(false);
        LedgerStoreState state = await store.OpenAsync().ConfigureAwait(false);
        return (store, state);
    }

    private async Task<ILedgerStore> CreateAtAsync(string location)
    {
        ILedgerStore store = await OpenStoreAsync(location).ConfigureAwait(false);
        Assert.NotNull(store);
        _openStores.Add(store);
        return store;
    }

    // The adapter's store at a location, wrapped in a FaultInjectingLedgerStore (which disposes it).
    private async Task<(FaultInjectingLedgerStore Store, LedgerStoreState State)> OpenFaultyAtAsync(string location)
    {
        ILedgerStore inner = await OpenStoreAsync(location).ConfigureAwait(false);
        Assert.NotNull(inner);
        var store = new FaultInjectingLedgerStore(inner);
        _openStores.Add(store);
        LedgerStoreState state = await store.OpenAsync().ConfigureAwait(false);
        return (store, state);
    }

    private async Task CloseAsync(ILedgerStore store)
    {
        _openStores.Remove(store);
        await store.DisposeAsync().ConfigureAwait(false);
    }

    // Disposes the store and opens a new one at the same location: the durability check.
    private async Task<(ILedgerStore Store, LedgerStoreState State)> ReopenAsync(ILedgerStore store, string location)
    {
        await CloseAsync(store).ConfigureAwait(false);
        return await OpenAtAsync(location).ConfigureAwait(false);
    }

    private static async Task AppendAllAsync(ILedgerStore store, IEnumerable<CommitBatch> batches)
    {
        foreach (CommitBatch batch in batches)
        {
            await store.AppendAsync(batch).ConfigureAwait(false);
        }
    }

    // Reads batches, copying each one's events before moving on (the contract lets a store reuse the memory).
    private static async Task<List<CommitBatch>> ReadAllAsync(ILedgerStore store, ulong fromBatchNumber = 1)
    {
        var batches = new List<CommitBatch>();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(fromBatchNumber).ConfigureAwait(false))
        {
            batches.Add(new CommitBatch(batch.Header, batch.Events.ToArray()));
        }

        return batches;
    }

    // The journal read back must be exactly the expected batches, byte for byte, in order.
    private static void AssertBatches(IReadOnlyList<CommitBatch> expected, IReadOnlyList<CommitBatch> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Header, actual[i].Header);
            Assert.Equal(TestBatches.Encode(expected[i]), TestBatches.Encode(actual[i]));
        }
    }

    private static LedgerStoreState StateAfter(IReadOnlyList<CommitBatch> batches, ulong latestSnapshotBatchNumber = 0) =>
        batches.Count == 0
            ? new LedgerStoreState(0, BatchHash.Zero, latestSnapshotBatchNumber)
            : new LedgerStoreState(batches[^1].BatchNumber, TestBatches.Hash(batches[^1]), latestSnapshotBatchNumber);

    private static CancellationToken CancelledToken() => new(canceled: true);

    // Waits (bounded) for a condition another task makes true.
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(1).ConfigureAwait(false);
        }
    }
}
