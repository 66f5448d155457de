using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.Tests;

/// <summary>The conformance kit run against <see cref="FileLedgerStore"/> in a fresh temp directory per location.</summary>
public sealed class FileLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new FileLedgerStore(location));
}
