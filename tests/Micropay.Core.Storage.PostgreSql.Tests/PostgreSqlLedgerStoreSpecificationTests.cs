using Micropay.Core.Storage.Specification;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// The whole conformance kit run against <see cref="PostgreSqlLedgerStore"/> on a real PostgreSQL server (see
/// <see cref="TestServer"/>): every test of <see cref="LedgerStoreSpecification"/>, none skipped (the encoded append's included), including the failure
/// tests, whose hook kills the writer's server process right before its COMMIT.
/// </summary>
public sealed class PostgreSqlLedgerStoreSpecificationTests : LedgerStoreSpecification
{
    // The engine's encoded append too: the kit's encoded-append facts run against it.
    protected override LedgerStoreCapabilities ExpectedCapabilities => LedgerStoreCapabilities.Snapshots | LedgerStoreCapabilities.EncodedAppend;

    // A location is a ledger name: all tests share the database and its tables, each with ledgers of its own.
    protected override string NewLocation() => TestServer.NewLedgerName("spec");

    // Snapshot chunks lowered from 8 MiB to 64 KiB, so the kit's large snapshot (1 MiB) spans many chunk rows, as a
    // real one does.
    protected override ValueTask<ILedgerStore> OpenStoreAsync(string location) =>
        ValueTask.FromResult<ILedgerStore>(TestServer.Store(location, snapshotChunkBytes: 64 * 1024));

    // A real failure inside the adapter: the writer's connection dies (its server process is terminated) between the
    // insert and the COMMIT, which the adapter handles as any lost connection.
    protected override ValueTask<bool> FailNextDurableWriteAsync(ILedgerStore store)
    {
        ((PostgreSqlLedgerStore)store).FailNextCommit();
        return ValueTask.FromResult(true);
    }

    protected override async ValueTask DeleteLocationAsync(string location) => await TestServer.DeleteLedgerAsync(location);
}
