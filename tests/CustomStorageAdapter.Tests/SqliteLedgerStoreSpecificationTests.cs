using Micropay.Core.Storage;
using Micropay.Core.Storage.Specification;

namespace CustomStorageAdapter.Tests;

/// <summary>
/// The conformance kit run against <see cref="SqliteLedgerStore"/>: every test of
/// <see cref="LedgerStoreSpecification"/> (sequence, hash chain, durability across reopen, idempotent retry,
/// concurrent readers, snapshots, cancellation, injected faults, failed writes) runs here. This class is all an
/// adapter needs to be checked against the contract, with the one optional hook that makes its own write fail.
/// </summary>
public sealed class SqliteLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    // The kit's default location is a new temporary directory (and its default cleanup deletes it); the database
    // file, with SQLite's -wal and -shm files, goes inside. Snapshot chunks are lowered from 16 MiB to 64 KiB, so the
    // kit's large snapshot (1 MiB) spans many chunk rows, as a real one does.
    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(new SqliteLedgerStore(Path.Combine(location, "ledger.db")) { SnapshotChunkBytes = 64 * 1024 });

    // A real failure inside the adapter: SQLite fails the append's COMMIT (and rolls the transaction back), which the
    // adapter handles as it would an I/O error.
    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ((SqliteLedgerStore)store).FailNextCommit();
        return ValueTask.FromResult(true);
    }
}
