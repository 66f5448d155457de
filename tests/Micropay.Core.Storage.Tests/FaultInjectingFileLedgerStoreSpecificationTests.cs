using System.Runtime.CompilerServices;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The conformance kit run against <see cref="FileLedgerStore"/> behind a <see cref="FaultInjectingLedgerStore"/> with no
/// fault queued: a decorator must keep the whole contract and every capability of the store it wraps, the encoded append
/// (<see cref="LedgerStoreCapabilities.EncodedAppend"/>, checked by the kit's encoded-append facts and
/// <c>Capabilities_Always_MatchExpectedCapabilities</c>) and snapshots of any size read back through the inner store's
/// mapping included. The failure facts fail a real fsync of the inner store.
/// </summary>
public sealed class FaultInjectingFileLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    private readonly ConditionalWeakTable<ILedgerStore, FailingFileSystem> _fileSystems = [];

    protected override LedgerStoreCapabilities ExpectedCapabilities => LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend;

    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new FaultInjectingLedgerStore(FileLedgerStoreSpecificationTests.Create(location, _fileSystems)));

    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store is not FaultInjectingLedgerStore { Inner: { } inner } || !_fileSystems.TryGetValue(inner, out FailingFileSystem? fileSystem))
        {
            return ValueTask.FromResult(false);
        }

        fileSystem.FailNextFlush();
        return ValueTask.FromResult(true);
    }
}
