namespace Micropay.Core.Storage.PostgreSql;

/// <summary>
/// The SQL of one <see cref="PostgreSqlLedgerStore"/>, with its schema and table names written in. Names are checked
/// (lower-case letters, digits, underscores) before they get here and are quoted anyway; the ledger name and every value
/// are parameters.
/// </summary>
/// <remarks>
/// Parameters, by position: <c>$1</c> is always the ledger name (text). Batch numbers are bigint: a ledger never reaches
/// 2^63 batches, and the store converts with checked arithmetic.
/// </remarks>
internal sealed class PostgreSqlStatements
{
    // Serializes schema creation between stores (in any process) opening at the same moment: two concurrent
    // CREATE TABLE IF NOT EXISTS of the same table can fail with a unique violation in the catalog. "MPLEDGER".
    internal const long SchemaLockKey = 0x4D50_4C45_4447_4552;

    public PostgreSqlStatements(string schema, string tablePrefix)
    {
        string s = Quote(schema);
        Leases = s + "." + Quote(tablePrefix + "leases");
        Batches = s + "." + Quote(tablePrefix + "batches");
        Snapshots = s + "." + Quote(tablePrefix + "snapshots");
        SnapshotChunks = s + "." + Quote(tablePrefix + "snapshot_chunks");

        CreateSchema = $"CREATE SCHEMA IF NOT EXISTS {s}";

        // One row per ledger: the fencing epoch, incremented by every open (see PostgreSqlLedgerStore's remarks).
        // One row per batch: the encoded batch and its SHA-256, keyed by (ledger, batch_number).
        // A snapshot: a row with its length, chunk count and SHA-256, its state in chunk rows numbered from 0.
        CreateTables = $"""
            CREATE TABLE IF NOT EXISTS {Leases} (
                ledger   text        NOT NULL PRIMARY KEY,
                epoch    bigint      NOT NULL,
                taken_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE IF NOT EXISTS {Batches} (
                ledger       text   NOT NULL,
                batch_number bigint NOT NULL,
                hash         bytea  NOT NULL,
                bytes        bytea  NOT NULL,
                PRIMARY KEY (ledger, batch_number));
            CREATE TABLE IF NOT EXISTS {Snapshots} (
                ledger       text    NOT NULL,
                batch_number bigint  NOT NULL,
                length       bigint  NOT NULL,
                chunk_count  integer NOT NULL,
                hash         bytea   NOT NULL,
                PRIMARY KEY (ledger, batch_number));
            CREATE TABLE IF NOT EXISTS {SnapshotChunks} (
                ledger       text    NOT NULL,
                batch_number bigint  NOT NULL,
                chunk        integer NOT NULL,
                bytes        bytea   NOT NULL,
                PRIMARY KEY (ledger, batch_number, chunk));
            """;

        // Batches and snapshot chunks are high-entropy bytes for the most part: EXTERNAL keeps large values out of line
        // without trying pglz on them (which costs CPU on every write and rarely gains). Run once, when the tables are
        // created: ALTER TABLE takes an exclusive lock.
        SetStorageExternal = $"""
            ALTER TABLE {Batches} ALTER COLUMN bytes SET STORAGE EXTERNAL;
            ALTER TABLE {SnapshotChunks} ALTER COLUMN bytes SET STORAGE EXTERNAL;
            """;

        TakeLease = $"""
            INSERT INTO {Leases} (ledger, epoch) VALUES ($1, 1)
            ON CONFLICT (ledger) DO UPDATE SET epoch = {Leases}.epoch + 1, taken_at = now()
            RETURNING epoch
            """;

        ReadEpoch = $"SELECT epoch FROM {Leases} WHERE ledger = $1";

        // The fencing check and the insert in one statement: the row is inserted only if the lease row still carries
        // this store's epoch, and FOR NO KEY UPDATE holds that row locked until the transaction ends, so no open can
        // raise the epoch between the check and the commit ($2 epoch, $3 batch number, $4 hash, $5 bytes).
        AppendBatch = $"""
            INSERT INTO {Batches} (ledger, batch_number, hash, bytes)
            SELECT $1, $3, $4, $5 FROM {Leases} WHERE ledger = $1 AND epoch = $2 FOR NO KEY UPDATE
            """;

        JournalBounds = $"SELECT count(*), coalesce(min(batch_number), 0), coalesce(max(batch_number), 0) FROM {Batches} WHERE ledger = $1";
        ReadTail = $"SELECT batch_number, hash, bytes FROM {Batches} WHERE ledger = $1 AND batch_number >= $2 ORDER BY batch_number LIMIT 2";
        ReadBatchBytes = $"SELECT bytes FROM {Batches} WHERE ledger = $1 AND batch_number = $2";
        ReadBatchHash = $"SELECT hash FROM {Batches} WHERE ledger = $1 AND batch_number = $2";

        // A page of the journal ($2 first batch number, $3 most rows): readers go page by page inside one
        // REPEATABLE READ transaction, so they see one fixed journal however long they take, and an abandoned
        // enumeration leaves at most one page to drain.
        ReadBatchPage = $"SELECT batch_number, hash, bytes FROM {Batches} WHERE ledger = $1 AND batch_number >= $2 ORDER BY batch_number LIMIT $3";

        // Positional parameters allow one statement per command: pairs of statements are sent as one NpgsqlBatch.
        DeleteSnapshotChunks = $"DELETE FROM {SnapshotChunks} WHERE ledger = $1 AND batch_number = $2";
        DeleteSnapshotRow = $"DELETE FROM {Snapshots} WHERE ledger = $1 AND batch_number = $2";
        InsertSnapshot = $"INSERT INTO {Snapshots} (ledger, batch_number, length, chunk_count, hash) VALUES ($1, $2, $3, $4, $5)";
        InsertSnapshotChunk = $"INSERT INTO {SnapshotChunks} (ledger, batch_number, chunk, bytes) VALUES ($1, $2, $3, $4)";

        // The snapshot's fencing check, right before its commit: FOR SHARE waits for an append in flight and makes a
        // concurrent open wait for this commit, so a fenced writer's snapshot never lands after the new writer opened.
        CheckLeaseShared = $"SELECT epoch FROM {Leases} WHERE ledger = $1 FOR SHARE";

        // Keeps the newest $2 snapshots of the ledger, with their chunks.
        string oldestKept = $"(SELECT coalesce(min(batch_number), 0) FROM (SELECT batch_number FROM {Snapshots} WHERE ledger = $1 ORDER BY batch_number DESC LIMIT $2) kept)";
        PruneSnapshotChunks = $"DELETE FROM {SnapshotChunks} WHERE ledger = $1 AND batch_number < {oldestKept}";
        PruneSnapshotRows = $"DELETE FROM {Snapshots} WHERE ledger = $1 AND batch_number < {oldestKept}";

        ListSnapshots = $"SELECT batch_number, length, chunk_count, hash FROM {Snapshots} WHERE ledger = $1 ORDER BY batch_number DESC";
        ReadSnapshotChunks = $"SELECT chunk, bytes FROM {SnapshotChunks} WHERE ledger = $1 AND batch_number = $2 ORDER BY chunk";
    }

    public string Leases { get; }

    public string Batches { get; }

    public string Snapshots { get; }

    public string SnapshotChunks { get; }

    public string CreateSchema { get; }

    public string CreateTables { get; }

    public string SetStorageExternal { get; }

    public string TakeLease { get; }

    public string ReadEpoch { get; }

    public string AppendBatch { get; }

    public string JournalBounds { get; }

    public string ReadTail { get; }

    public string ReadBatchBytes { get; }

    public string ReadBatchHash { get; }

    public string ReadBatchPage { get; }

    public string DeleteSnapshotChunks { get; }

    public string DeleteSnapshotRow { get; }

    public string InsertSnapshot { get; }

    public string InsertSnapshotChunk { get; }

    public string CheckLeaseShared { get; }

    public string PruneSnapshotChunks { get; }

    public string PruneSnapshotRows { get; }

    public string ListSnapshots { get; }

    public string ReadSnapshotChunks { get; }

    /// <summary>Whether <paramref name="name"/> may be a schema name or table prefix: lower-case ASCII letters, digits and
    /// underscores, not starting with a digit (so it means the same quoted or not).</summary>
    public static bool IsValidName(string name, bool allowEmpty)
    {
        if (name.Length == 0)
        {
            return allowEmpty;
        }

        if (name[0] is >= '0' and <= '9')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Quote(string name) => "\"" + name + "\"";
}
