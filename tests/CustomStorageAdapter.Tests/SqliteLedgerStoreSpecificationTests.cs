using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;

namespace CustomStorageAdapter.Tests;

/// <summary>
/// The conformance kit run against <see cref="SqliteLedgerStore"/>: every test of
/// <see cref="LedgerStoreSpecification"/> (sequence, hash chain, durability across reopen, idempotent retry,
/// concurrent readers, snapshots, cancellation, injected faults) runs here. This class is all an adapter needs to
/// be checked against the contract.
/// </summary>
public sealed class SqliteLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    // The kit's default location is a new temporary directory (and its default cleanup deletes it); the database
    // file, with SQLite's -wal and -shm files, goes inside.
    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new SqliteLedgerStore(Path.Combine(location, "ledger.db")));
}
