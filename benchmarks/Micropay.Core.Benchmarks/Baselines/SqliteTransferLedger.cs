using Micropay.Core.Ledger;
using Microsoft.Data.Sqlite;

namespace Micropay.Core.Benchmarks.Baselines;

/// <summary>
/// What a user would write instead of the engine with SQLite: accounts and transfers in two tables, each transfer
/// checked and applied with a handful of prepared statements, durable when its transaction commits.
/// </summary>
/// <remarks>
/// <para><b>Schema.</b> 128-bit ids are two <c>INTEGER</c> halves (SQLite integers are 64-bit) forming the primary key of
/// a <c>WITHOUT ROWID</c> table, so a lookup by id is one B-tree search:</para>
/// <code>
/// accounts  (id_hi, id_lo, ledger, code, flags, debits_posted, credits_posted, timestamp)   PRIMARY KEY (id_hi, id_lo)
/// transfers (id_hi, id_lo, debit_hi, debit_lo, credit_hi, credit_lo, amount, ledger, code, timestamp)   PRIMARY KEY (id_hi, id_lo)
/// </code>
/// <para>Balances and amounts are 64-bit signed integers, as a user of SQLite would keep them: an amount or a sum above
/// <see cref="long.MaxValue"/> is refused as an overflow (SQLite would otherwise silently turn the sum into a float).</para>
/// <para><b>A transfer</b> is: the plain checks in C# (ids, flags, same accounts, ledger, code); one <c>SELECT</c> of
/// each account (existence, ledger, flags, balances; the balance-limit and overflow checks in C#); an
/// <c>INSERT … ON CONFLICT DO NOTHING</c> of the transfer, whose zero-row outcome means the id exists (only then a
/// <c>SELECT</c> of the stored transfer, to tell <see cref="CreateTransferResult.Exists"/> from a different transfer with
/// the same id); two <c>UPDATE</c>s of the balances. Every statement is prepared once and reused. All checks come
/// before the first write, so a refused transfer writes nothing and needs no savepoint. Unlike the ledger, an id that
/// exists is reported after the account checks (the accounts of an existing transfer always exist here); pending,
/// linked and balancing transfers are not supported (<see cref="CreateTransferResult.ReservedFlag"/>).</para>
/// <para><b>Durability.</b> WAL mode with <c>synchronous=FULL</c>: SQLite fsyncs the log before <c>COMMIT</c> returns,
/// so a committed transfer survives a power loss, like the engine's durable mode. <see cref="CreateTransfer"/> is one
/// transaction (one fsync) per transfer; <see cref="CreateTransfers"/> one transaction for the whole batch.</para>
/// <para><b>Tuning</b> a competent user would do: a page cache of <see cref="CacheMebibytes"/> (the default is 2 MiB),
/// enough for a million accounts' B-tree; pooling off, one connection for the life of the ledger. Microsoft.Data.Sqlite
/// is synchronous, so are these methods; one lock makes the class safe to share, but SQLite runs one writer at a time
/// anyway.</para>
/// </remarks>
public sealed class SqliteTransferLedger : IDisposable
{
    /// <summary>The page cache, in MiB.</summary>
    public const int CacheMebibytes = 256;

    // Protects the connection, every command and _lastTimestamp.
    private readonly Lock _lock = new();
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _selectAccount;
    private readonly SqliteCommand _insertTransfer;
    private readonly SqliteCommand _selectTransfer;
    private readonly SqliteCommand _updateDebit;
    private readonly SqliteCommand _updateCredit;
    private readonly SqliteCommand _insertAccount;
    private ulong _lastTimestamp;

    /// <summary>Opens (or creates) the database at <paramref name="databasePath"/> and its tables.</summary>
    /// <param name="databasePath">The database file; SQLite puts its <c>-wal</c> and <c>-shm</c> files beside it.</param>
    public SqliteTransferLedger(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // closing really closes the file, so the benchmark can delete its directory
        }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL"); // NORMAL, the usual WAL setting, may lose the last commits on power loss
        Execute($"PRAGMA cache_size=-{CacheMebibytes * 1024}");
        Execute("""
            CREATE TABLE IF NOT EXISTS accounts (
                id_hi INTEGER NOT NULL, id_lo INTEGER NOT NULL,
                ledger INTEGER NOT NULL, code INTEGER NOT NULL, flags INTEGER NOT NULL,
                debits_posted INTEGER NOT NULL, credits_posted INTEGER NOT NULL, timestamp INTEGER NOT NULL,
                PRIMARY KEY (id_hi, id_lo)) WITHOUT ROWID
            """);
        Execute("""
            CREATE TABLE IF NOT EXISTS transfers (
                id_hi INTEGER NOT NULL, id_lo INTEGER NOT NULL,
                debit_hi INTEGER NOT NULL, debit_lo INTEGER NOT NULL, credit_hi INTEGER NOT NULL, credit_lo INTEGER NOT NULL,
                amount INTEGER NOT NULL, ledger INTEGER NOT NULL, code INTEGER NOT NULL, timestamp INTEGER NOT NULL,
                PRIMARY KEY (id_hi, id_lo)) WITHOUT ROWID
            """);

        _selectAccount = Prepare(
            "SELECT ledger, flags, debits_posted, credits_posted FROM accounts WHERE id_hi = $hi AND id_lo = $lo",
            "$hi", "$lo");
        _insertTransfer = Prepare(
            """
            INSERT INTO transfers (id_hi, id_lo, debit_hi, debit_lo, credit_hi, credit_lo, amount, ledger, code, timestamp)
            VALUES ($hi, $lo, $debit_hi, $debit_lo, $credit_hi, $credit_lo, $amount, $ledger, $code, $timestamp)
            ON CONFLICT DO NOTHING
            """,
            "$hi", "$lo", "$debit_hi", "$debit_lo", "$credit_hi", "$credit_lo", "$amount", "$ledger", "$code", "$timestamp");
        _selectTransfer = Prepare(
            "SELECT debit_hi, debit_lo, credit_hi, credit_lo, amount, ledger, code FROM transfers WHERE id_hi = $hi AND id_lo = $lo",
            "$hi", "$lo");
        _updateDebit = Prepare(
            "UPDATE accounts SET debits_posted = debits_posted + $amount WHERE id_hi = $hi AND id_lo = $lo",
            "$amount", "$hi", "$lo");
        _updateCredit = Prepare(
            "UPDATE accounts SET credits_posted = credits_posted + $amount WHERE id_hi = $hi AND id_lo = $lo",
            "$amount", "$hi", "$lo");
        _insertAccount = Prepare(
            """
            INSERT INTO accounts (id_hi, id_lo, ledger, code, flags, debits_posted, credits_posted, timestamp)
            VALUES ($hi, $lo, $ledger, $code, $flags, 0, 0, $timestamp)
            ON CONFLICT DO NOTHING
            """,
            "$hi", "$lo", "$ledger", "$code", "$flags", "$timestamp");
    }

    /// <summary>
    /// Creates accounts in one transaction (the bulk load before a benchmark). Loading ids in ascending order of
    /// (<c>(long)high</c>, <c>(long)low</c>), the table's key order, appends to the B-tree instead of splitting pages
    /// all over it.
    /// </summary>
    /// <param name="accounts">The accounts: nonzero id, ledger and code, zero balances.</param>
    /// <param name="results">At least as long as <paramref name="accounts"/>.</param>
    /// <returns>The number of accounts not created.</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="accounts"/>.</exception>
    public int CreateAccounts(ReadOnlySpan<Account> accounts, Span<CreateAccountResult> results)
    {
        if (results.Length < accounts.Length)
        {
            throw new ArgumentException($"The results ({results.Length}) must be at least as long as the accounts ({accounts.Length}).", nameof(results));
        }

        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
            _insertAccount.Transaction = transaction;
            int failed = 0;
            for (int i = 0; i < accounts.Length; i++)
            {
                ref readonly Account account = ref accounts[i];
                CreateAccountResult result;
                if (account.Id == UInt128.Zero || account.Id == UInt128.MaxValue)
                {
                    result = CreateAccountResult.IdMustNotBeZero;
                }
                else if (account.LedgerId == 0)
                {
                    result = CreateAccountResult.LedgerMustNotBeZero;
                }
                else if (account.Code == 0)
                {
                    result = CreateAccountResult.CodeMustNotBeZero;
                }
                else
                {
                    SqliteParameterCollection p = _insertAccount.Parameters;
                    (p[0].Value, p[1].Value) = Halves(account.Id);
                    p[2].Value = (long)account.LedgerId;
                    p[3].Value = (long)account.Code;
                    p[4].Value = (long)account.Flags;
                    p[5].Value = (long)++_lastTimestamp;
                    result = _insertAccount.ExecuteNonQuery() == 1 ? CreateAccountResult.Ok : CreateAccountResult.Exists;
                }

                results[i] = result;
                failed += result == CreateAccountResult.Ok ? 0 : 1;
            }

            transaction.Commit();
            return failed;
        }
    }

    /// <summary>Applies one transfer in its own transaction: durable (fsync'd) when this returns <see cref="CreateTransferResult.Ok"/>.</summary>
    /// <param name="transfer">The transfer, with a zero timestamp and no flags.</param>
    /// <returns>The transfer's result.</returns>
    public CreateTransferResult CreateTransfer(in Transfer transfer)
    {
        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            CreateTransferResult result = Apply(transfer);
            if (result == CreateTransferResult.Ok)
            {
                transaction.Commit();
            }
            else
            {
                transaction.Rollback(); // nothing was written, but the lock on the database must go
            }

            return result;
        }
    }

    /// <summary>Applies a batch of transfers in one transaction: all of the applied ones are durable when this returns.</summary>
    /// <param name="transfers">The transfers, with zero timestamps and no flags.</param>
    /// <param name="results">At least as long as <paramref name="transfers"/>: result <c>i</c> belongs to transfer <c>i</c>.</param>
    /// <returns>The number of transfers not applied.</returns>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="transfers"/>.</exception>
    public int CreateTransfers(ReadOnlySpan<Transfer> transfers, Span<CreateTransferResult> results)
    {
        if (results.Length < transfers.Length)
        {
            throw new ArgumentException($"The results ({results.Length}) must be at least as long as the transfers ({transfers.Length}).", nameof(results));
        }

        lock (_lock)
        {
            using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            int failed = 0;
            for (int i = 0; i < transfers.Length; i++)
            {
                CreateTransferResult result = Apply(transfers[i]);
                results[i] = result;
                failed += result == CreateTransferResult.Ok ? 0 : 1;
            }

            transaction.Commit();
            return failed;
        }
    }

    /// <summary>
    /// Copies the write-ahead log into the database and empties it (<c>PRAGMA wal_checkpoint(TRUNCATE)</c>): after a bulk
    /// load, so that the first transactions after it do not pay for checkpointing the load.
    /// </summary>
    public void Checkpoint()
    {
        lock (_lock)
        {
            Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    /// <summary>Reads an account's posted balances.</summary>
    /// <param name="id">The account id.</param>
    /// <param name="debitsPosted">The account's posted debits, or 0.</param>
    /// <param name="creditsPosted">The account's posted credits, or 0.</param>
    /// <returns>Whether the account exists.</returns>
    public bool TryGetBalances(UInt128 id, out long debitsPosted, out long creditsPosted)
    {
        lock (_lock)
        {
            _selectAccount.Transaction = null;
            bool found = SelectAccount(id, out _, out _, out debitsPosted, out creditsPosted);
            return found;
        }
    }

    /// <summary>Closes the database.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _selectAccount.Dispose();
            _insertTransfer.Dispose();
            _selectTransfer.Dispose();
            _updateDebit.Dispose();
            _updateCredit.Dispose();
            _insertAccount.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>Checks and applies one transfer inside the current transaction; writes nothing unless it returns Ok.</summary>
    private CreateTransferResult Apply(in Transfer t)
    {
        CreateTransferResult plain = CheckPlain(t);
        if (plain != CreateTransferResult.Ok)
        {
            return plain;
        }

        if (!SelectAccount(t.DebitAccountId, out uint debitLedger, out AccountFlags debitFlags, out long debitsPosted, out long debitCredits))
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        if (!SelectAccount(t.CreditAccountId, out uint creditLedger, out AccountFlags creditFlags, out long creditDebits, out long creditsPosted))
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        if (debitLedger != creditLedger)
        {
            return CreateTransferResult.AccountsMustHaveTheSameLedger;
        }

        if (t.LedgerId != debitLedger)
        {
            return CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts;
        }

        if ((debitFlags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.DebitAccountAlreadyClosed;
        }

        if ((creditFlags & AccountFlags.Closed) != 0)
        {
            return CreateTransferResult.CreditAccountAlreadyClosed;
        }

        long amount = (long)t.Amount; // CheckPlain kept it within long
        if (debitsPosted > long.MaxValue - amount)
        {
            return CreateTransferResult.OverflowsDebitsPosted;
        }

        if (creditsPosted > long.MaxValue - amount)
        {
            return CreateTransferResult.OverflowsCreditsPosted;
        }

        if ((debitFlags & AccountFlags.DebitsMustNotExceedCredits) != 0 && debitsPosted + amount > debitCredits)
        {
            return CreateTransferResult.ExceedsCredits;
        }

        if ((creditFlags & AccountFlags.CreditsMustNotExceedDebits) != 0 && creditsPosted + amount > creditDebits)
        {
            return CreateTransferResult.ExceedsDebits;
        }

        SqliteParameterCollection p = _insertTransfer.Parameters;
        (p[0].Value, p[1].Value) = Halves(t.Id);
        (p[2].Value, p[3].Value) = Halves(t.DebitAccountId);
        (p[4].Value, p[5].Value) = Halves(t.CreditAccountId);
        p[6].Value = amount;
        p[7].Value = (long)t.LedgerId;
        p[8].Value = (long)t.Code;
        p[9].Value = (long)++_lastTimestamp;
        if (_insertTransfer.ExecuteNonQuery() == 0)
        {
            --_lastTimestamp;
            return ExistingTransferResult(t);
        }

        UpdateBalance(_updateDebit, t.DebitAccountId, amount);
        UpdateBalance(_updateCredit, t.CreditAccountId, amount);
        return CreateTransferResult.Ok;
    }

    /// <summary>The checks that need no database, in the ledger's order.</summary>
    private static CreateTransferResult CheckPlain(in Transfer t)
    {
        if (t.Timestamp != 0)
        {
            return CreateTransferResult.TimestampMustBeZero;
        }

        if (t.Flags != TransferFlags.None)
        {
            return CreateTransferResult.ReservedFlag;
        }

        if (t.Id == UInt128.Zero)
        {
            return CreateTransferResult.IdMustNotBeZero;
        }

        if (t.Id == UInt128.MaxValue)
        {
            return CreateTransferResult.IdMustNotBeIntMax;
        }

        if (t.DebitAccountId == UInt128.Zero)
        {
            return CreateTransferResult.DebitAccountIdMustNotBeZero;
        }

        if (t.CreditAccountId == UInt128.Zero)
        {
            return CreateTransferResult.CreditAccountIdMustNotBeZero;
        }

        if (t.DebitAccountId == t.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (t.LedgerId == 0)
        {
            return CreateTransferResult.LedgerMustNotBeZero;
        }

        if (t.Code == 0)
        {
            return CreateTransferResult.CodeMustNotBeZero;
        }

        // 64-bit balances: an amount that does not fit can only overflow them.
        return t.Amount > (UInt128)(ulong)long.MaxValue ? CreateTransferResult.OverflowsDebitsPosted : CreateTransferResult.Ok;
    }

    private bool SelectAccount(UInt128 id, out uint ledger, out AccountFlags flags, out long debitsPosted, out long creditsPosted)
    {
        SqliteParameterCollection p = _selectAccount.Parameters;
        (p[0].Value, p[1].Value) = Halves(id);
        using SqliteDataReader reader = _selectAccount.ExecuteReader();
        if (!reader.Read())
        {
            (ledger, flags, debitsPosted, creditsPosted) = (0, AccountFlags.None, 0, 0);
            return false;
        }

        ledger = (uint)reader.GetInt64(0);
        flags = (AccountFlags)reader.GetInt64(1);
        debitsPosted = reader.GetInt64(2);
        creditsPosted = reader.GetInt64(3);
        return true;
    }

    /// <summary>The result for a transfer whose id is already stored: <see cref="CreateTransferResult.Exists"/> if it is the same transfer.</summary>
    private CreateTransferResult ExistingTransferResult(in Transfer t)
    {
        SqliteParameterCollection p = _selectTransfer.Parameters;
        (p[0].Value, p[1].Value) = Halves(t.Id);
        using SqliteDataReader reader = _selectTransfer.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException("The transfer id conflicted on insert but cannot be read back.");
        }

        if ((reader.GetInt64(0), reader.GetInt64(1)) != Halves(t.DebitAccountId))
        {
            return CreateTransferResult.ExistsWithDifferentDebitAccountId;
        }

        if ((reader.GetInt64(2), reader.GetInt64(3)) != Halves(t.CreditAccountId))
        {
            return CreateTransferResult.ExistsWithDifferentCreditAccountId;
        }

        if (reader.GetInt64(4) != (long)t.Amount)
        {
            return CreateTransferResult.ExistsWithDifferentAmount;
        }

        if (reader.GetInt64(5) != t.LedgerId)
        {
            return CreateTransferResult.ExistsWithDifferentLedger;
        }

        return reader.GetInt64(6) != t.Code ? CreateTransferResult.ExistsWithDifferentCode : CreateTransferResult.Exists;
    }

    private static void UpdateBalance(SqliteCommand update, UInt128 account, long amount)
    {
        SqliteParameterCollection p = update.Parameters;
        p[0].Value = amount;
        (p[1].Value, p[2].Value) = Halves(account);
        if (update.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException("An account read in this transaction was not there to update.");
        }
    }

    /// <summary>Every command of a transfer must name the connection's transaction (Microsoft.Data.Sqlite checks).</summary>
    private void Enlist(SqliteTransaction transaction)
    {
        _selectAccount.Transaction = transaction;
        _insertTransfer.Transaction = transaction;
        _selectTransfer.Transaction = transaction;
        _updateDebit.Transaction = transaction;
        _updateCredit.Transaction = transaction;
    }

    /// <summary>The id's two 64-bit halves, as the signed integers SQLite stores (the bits, not the values, are kept).</summary>
    private static (long High, long Low) Halves(UInt128 id) => ((long)(ulong)(id >> 64), (long)(ulong)id);

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(name, SqliteType.Integer);
        }

        command.Prepare();
        return command;
    }

    private void Execute(string sql)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
