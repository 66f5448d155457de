using System.Runtime.CompilerServices;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The conformance kit run against <see cref="FileLedgerStore"/> in a fresh temp directory per location; its failure facts
/// fail a real fsync inside the store (through the store's file-system seam, on the real directory).
/// </summary>
public sealed class FileLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    private readonly ConditionalWeakTable<ILedgerStore, FailingFileSystem> _fileSystems = [];

    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location)
    {
        var fileSystem = new FailingFileSystem();
        var store = new FileLedgerStore(location, options: null, fileSystem);
        _fileSystems.Add(store, fileSystem);
        return ValueTask.FromResult<ILedgerStore>(store);
    }

    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!_fileSystems.TryGetValue(store, out FailingFileSystem? fileSystem))
        {
            return ValueTask.FromResult(false);
        }

        fileSystem.FailNextFlush();
        return ValueTask.FromResult(true);
    }
}
