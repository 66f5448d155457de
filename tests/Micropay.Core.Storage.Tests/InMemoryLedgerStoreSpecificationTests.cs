using System.Collections.Concurrent;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The conformance kit run against <see cref="InMemoryLedgerStore"/>; a location names a shared backing. Snapshots are
/// kept in arrays of 64 KiB (1 GiB by default), so the kit's large snapshot (1 MiB) is kept and read back in many.
/// </summary>
public sealed class InMemoryLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    // One backing per location: reopening a location creates a new store over the same backing.
    private readonly ConcurrentDictionary<string, InMemoryLedgerStoreBacking> _backings = new();

    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new InMemoryLedgerStore(_backings.GetOrAdd(location, _ => new InMemoryLedgerStoreBacking()))
        {
            SnapshotSegmentBytes = 64 * 1024,
        });

    // The store's own write fails before the batch reaches the backing, so the reopened store lacks it.
    // (InMemoryLedgerStoreWithoutSnapshotsSpecificationTests covers the other outcome.)
    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ((InMemoryLedgerStore)store).FailNextDurableWrite(InMemoryLedgerStore.WriteFailure.BeforeBacking);
        return ValueTask.FromResult(true);
    }

    // No directories: a location is just a name.
    protected override string NewLocation() => Guid.NewGuid().ToString("N");

    protected override ValueTask DeleteLocationAsync(string location)
    {
        _backings.TryRemove(location, out _);
        return ValueTask.CompletedTask;
    }
}
