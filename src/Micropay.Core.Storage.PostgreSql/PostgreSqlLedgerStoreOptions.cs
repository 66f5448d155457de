using Npgsql;

namespace Micropay.Core.Storage.PostgreSql;

/// <summary>Settings of a <see cref="PostgreSqlLedgerStore"/>: where the server is, which tables, which ledger.</summary>
/// <remarks>
/// Exactly one of <see cref="ConnectionString"/> and <see cref="DataSource"/> is set. Several ledgers share one database
/// (and one set of tables) by their <see cref="LedgerName"/>; each ledger has one writer at a time, enforced by a fencing
/// epoch (see <see cref="PostgreSqlLedgerStore"/>).
/// </remarks>
public sealed class PostgreSqlLedgerStoreOptions
{
    /// <summary>The default <see cref="Schema"/>: <c>public</c>.</summary>
    public const string DefaultSchema = "public";

    /// <summary>The default <see cref="TablePrefix"/>: <c>micropay_</c>.</summary>
    public const string DefaultTablePrefix = "micropay_";

    /// <summary>The default <see cref="LedgerName"/>: <c>default</c>.</summary>
    public const string DefaultLedgerName = "default";

    /// <summary>The default <see cref="SnapshotChunkBytes"/>: 8 MiB.</summary>
    public const int DefaultSnapshotChunkBytes = 8 * 1024 * 1024;

    /// <summary>The smallest allowed <see cref="SnapshotChunkBytes"/>: 1 KiB.</summary>
    public const int MinSnapshotChunkBytes = 1024;

    /// <summary>The largest allowed <see cref="SnapshotChunkBytes"/>: 256 MiB (PostgreSQL holds at most 1 GB in one value,
    /// and a row is built whole in the server's memory).</summary>
    public const int MaxSnapshotChunkBytes = 256 * 1024 * 1024;

    /// <summary>The default <see cref="SnapshotsToKeep"/>: 2 (the newest, and one to fall back to if it is damaged).</summary>
    public const int DefaultSnapshotsToKeep = 2;

    /// <summary>
    /// An Npgsql connection string (<c>Host=...;Database=...;Username=...</c>). The store then builds its own
    /// <see cref="NpgsqlDataSource"/> (a connection pool) and disposes it with itself. Null when <see cref="DataSource"/> is set.
    /// </summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// A data source (connection pool) the application owns and shares; the store takes connections from it and never
    /// disposes it. Null when <see cref="ConnectionString"/> is set.
    /// </summary>
    public NpgsqlDataSource? DataSource { get; init; }

    /// <summary>
    /// The schema the tables live in, created on open if missing; default <see cref="DefaultSchema"/>. Lower-case letters,
    /// digits and underscores, starting with a letter or underscore (it is written into SQL unquoted-safe).
    /// </summary>
    public string Schema { get; init; } = DefaultSchema;

    /// <summary>
    /// What the store's table names start with (<c>{prefix}leases</c>, <c>{prefix}batches</c>, <c>{prefix}snapshots</c>,
    /// <c>{prefix}snapshot_chunks</c>); default <see cref="DefaultTablePrefix"/>. Lower-case letters, digits and
    /// underscores, at most 40 characters (PostgreSQL names hold 63 bytes); may be empty.
    /// </summary>
    public string TablePrefix { get; init; } = DefaultTablePrefix;

    /// <summary>
    /// The ledger's name: every row the store writes carries it, so several ledgers share a database. Any non-empty text
    /// of at most 200 characters (passed as a parameter, never written into SQL). Default <see cref="DefaultLedgerName"/>.
    /// </summary>
    public string LedgerName { get; init; } = DefaultLedgerName;

    /// <summary>
    /// The most bytes one snapshot chunk row holds, from <see cref="MinSnapshotChunkBytes"/> to
    /// <see cref="MaxSnapshotChunkBytes"/>; default <see cref="DefaultSnapshotChunkBytes"/>. A snapshot of any size is
    /// stored as chunk rows and read back as one segment per chunk.
    /// </summary>
    public int SnapshotChunkBytes { get; init; } = DefaultSnapshotChunkBytes;

    /// <summary>
    /// How many snapshots of this ledger to keep: after a snapshot is written, older ones beyond the newest this many are
    /// deleted in the same transaction. At least 1; default <see cref="DefaultSnapshotsToKeep"/>.
    /// </summary>
    public int SnapshotsToKeep { get; init; } = DefaultSnapshotsToKeep;
}
