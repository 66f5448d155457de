using System.Runtime.CompilerServices;
using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The conformance kit run against <see cref="FileLedgerStore"/> in a fresh temp directory per location; its failure facts
/// fail a real fsync inside the store (through the store's file-system seam, on the real directory). Snapshots of 64 KiB
/// and more are read as memory mappings in 64 KiB windows (16 MiB and 1 GiB by default), so the kit's large snapshot
/// (1 MiB) comes back mapped, in many windows.
/// </summary>
public sealed class FileLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    /// <summary>The lowered mapping threshold and window size the file store's kit runs use.</summary>
    internal const int SmallLimit = 64 * 1024;

    private readonly ConditionalWeakTable<ILedgerStore, FailingFileSystem> _fileSystems = [];

    protected override LedgerStoreCapabilities ExpectedCapabilities => LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend;

    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) => ValueTask.FromResult<ILedgerStore>(Create(location, _fileSystems));

    /// <summary>A file store at the location with the lowered limits, whose file system can fail its next fsync.</summary>
    internal static FileLedgerStore Create(string location, ConditionalWeakTable<ILedgerStore, FailingFileSystem> fileSystems)
    {
        var fileSystem = new FailingFileSystem();
        var store = new FileLedgerStore(location, options: null, fileSystem) { MapSnapshotsFrom = SmallLimit, MapWindowBytes = SmallLimit };
        fileSystems.Add(store, fileSystem);
        return store;
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
