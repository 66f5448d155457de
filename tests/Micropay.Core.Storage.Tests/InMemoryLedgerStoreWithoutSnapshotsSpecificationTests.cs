using System.Collections.Concurrent;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The conformance kit run against <see cref="InMemoryLedgerStore"/> behind <see cref="SnapshotlessLedgerStore"/>, a
/// store without <see cref="LedgerStoreCapabilities.Snapshots"/>: the kit's branch for such stores (snapshot writes
/// throw <see cref="NotSupportedException"/>, reads return null) runs here. Its failed writes reach the backing before
/// they fail, so the failure tests see the failed batch turn out durable, the outcome the other in-memory run never
/// produces.
/// </summary>
public sealed class InMemoryLedgerStoreWithoutSnapshotsSpecificationTests : LedgerStoreSpecification
{
    // One backing per location: reopening a location creates a new store over the same backing.
    private readonly ConcurrentDictionary<string, InMemoryLedgerStoreBacking> _backings = new();

    protected override LedgerStoreCapabilities ExpectedCapabilities => LedgerStoreCapabilities.None;

    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new SnapshotlessLedgerStore(
            new InMemoryLedgerStore(_backings.GetOrAdd(location, _ => new InMemoryLedgerStoreBacking()))));

    // The failure is the in-memory store's own (the wrapper only hides snapshots).
    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ((InMemoryLedgerStore)((SnapshotlessLedgerStore)store).Inner).FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.AfterBacking);
        return ValueTask.FromResult(true);
    }

    protected override string NewLocation() => Guid.NewGuid().ToString("N");

    protected override ValueTask DeleteLocationAsync(string location)
    {
        _backings.TryRemove(location, out _);
        return ValueTask.CompletedTask;
    }
}
