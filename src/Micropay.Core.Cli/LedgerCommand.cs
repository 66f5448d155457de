using System.CommandLine;
using System.Globalization;
using System.Numerics;
using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Cli;

/// <summary><c>micropay ledger info</c> and <c>micropay ledger balances</c>: a ledger's state, read through its engine.</summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var command = new Command("ledger", "Read a ledger's state from its FileLedgerStore directory (opens its engine, which takes the store's lock).");
        command.Subcommands.Add(CreateInfo());
        command.Subcommands.Add(CreateBalances());
        command.Subcommands.Add(CreateHistory());
        return command;
    }

    private static Command CreateInfo()
    {
        var journal = CommonOptions.JournalArgument();
        var audit = CommonOptions.AuditOption(required: false);
        var operatorKey = CommonOptions.OperatorKeyOption();
        var origin = CommonOptions.OriginOption();
        var command = new Command(
            "info",
            "Print the ledger's instance id, last batch, account and transfer counts and snapshots; with --audit and --operator-key also its " +
            "audit tree, latest checkpoint and verifier key (the key to publish). Exit code 3 if the ledger cannot be opened.")
        {
            journal, audit, operatorKey, origin,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            string journalDirectory = parseResult.GetRequiredValue(journal);
            string? auditDirectory = parseResult.GetValue(audit);
            string? keyFile = parseResult.GetValue(operatorKey);
            using NoteSignerKey? key = keyFile is null ? null : KeyInput.ReadSignerKey(keyFile, "--operator-key");
            await using LedgerEngine engine = await LedgerAccess.OpenAsync(
                journalDirectory, auditDirectory, key, parseResult.GetValue(origin), cancellationToken).ConfigureAwait(false);

            TextWriter o = Console.Out;
            o.WriteLine(Row("Journal", Path.GetFullPath(journalDirectory)));
            o.WriteLine(Row("Instance id", engine.InstanceId.ToString("x32", CultureInfo.InvariantCulture)));
            o.WriteLine(Row("Last batch", engine.ReleasedBatchNumber));
            o.WriteLine(Row("Accounts", engine.ReadAllAccounts().Length));
            o.WriteLine(Row("Transfers", engine.TransferCount));
            o.WriteLine(Row("Latest snapshot", engine.LatestSnapshotBatchNumber == 0 ? "none" : $"batch {engine.LatestSnapshotBatchNumber}"));
            foreach (string file in Directory.GetFiles(journalDirectory, "snapshot-*.snap").Order(StringComparer.Ordinal))
            {
                o.WriteLine(Row("Snapshot file", $"{Path.GetFileName(file)} ({new FileInfo(file).Length.ToString(CultureInfo.InvariantCulture)} bytes)"));
            }

            if (engine.DiscardedTailAtOpen is { } tail)
            {
                // The open cut a damaged or torn last record: after a clean shutdown that points at the disk (see LedgerEngine.DiscardedTailAtOpen).
                o.WriteLine(Row(
                    "Cut at open",
                    FormattableString.Invariant($"{tail.Length} bytes at {tail.Location}:{tail.Offset} (batch {tail.BatchNumber?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}): {tail.Reason}")));
            }

            if (engine.AuditEnabled)
            {
                o.WriteLine(Row("Audit tree size", engine.DurableAuditTreeSize));
                o.WriteLine(Row("Latest checkpoint", engine.LatestCheckpoint is { } c ? $"tree size {c.Size}, batch {c.BatchNumber}" : "none"));
                o.WriteLine(Row("Verifier key", engine.AuditVerifierKey?.ToString() ?? "none"));
            }
            else
            {
                o.WriteLine(Row("Audit", "not opened (give --audit <dir> --operator-key <file>)"));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateBalances()
    {
        var journal = CommonOptions.JournalArgument();
        var accounts = new Option<string[]>("--account", "-a")
        {
            Description = "An account id (decimal, or hexadecimal with 0x); repeat for several. Default: every account.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command(
            "balances",
            "Print an accounts table: id, ledger, code, debits and credits (posted and pending) and the posted balance (credits minus " +
            "debits). Exit code 4 if an account asked for is not in the ledger.")
        {
            journal, accounts,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            UInt128[] ids = [.. (parseResult.GetValue(accounts) ?? []).Select(ParseId)];
            await using LedgerEngine engine = await LedgerAccess.OpenAsync(
                parseResult.GetRequiredValue(journal), auditDirectory: null, operatorKey: null, origin: null, cancellationToken).ConfigureAwait(false);

            Account[] rows;
            var missing = new List<UInt128>();
            if (ids.Length == 0)
            {
                rows = engine.ReadAllAccounts();
            }
            else
            {
                // One lookup, so the rows are all as of the same batch; those not found are named afterwards.
                var found = new Account[ids.Length];
                rows = found[..engine.LookupAccounts(ids, found)];
                missing.AddRange(ids.Where(id => !rows.Any(a => a.Id == id)));
            }

            PrintTable(rows);
            foreach (UInt128 id in missing)
            {
                Console.Error.WriteLine($"micropay: error: account {id.ToString(CultureInfo.InvariantCulture)} is not in the ledger.");
            }

            return missing.Count == 0 ? ExitCodes.Ok : ExitCodes.NotFound;
        }));
        return command;
    }

    private static Command CreateHistory()
    {
        var journal = CommonOptions.JournalArgument();
        var account = new Option<string>("--account", "-a") { Description = "The account id (decimal, or hexadecimal with 0x).", Required = true };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many transfers.", DefaultValueFactory = _ => 100 };
        var side = new Option<string>("--side") { Description = "debits, credits or both: the side the account is on.", DefaultValueFactory = _ => "both" };
        var from = new Option<ulong>("--from") { Description = "Only transfers with a timestamp at or after this (ledger nanoseconds; 0: no bound)." };
        var to = new Option<ulong>("--to") { Description = "Only transfers with a timestamp at or before this (ledger nanoseconds; 0: no bound)." };
        var newest = new Option<bool>("--newest-first") { Description = "Newest first (default: oldest first)." };
        var command = new Command(
            "history",
            "Print an account's transfers in timestamp order, as TigerBeetle's get_account_transfers: id, timestamp, debit and credit " +
            "accounts, amount, code and flags. Exit code 4 if the account is not in the ledger.")
        {
            journal, account, limit, side, from, to, newest,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            UInt128 id = ParseId(parseResult.GetRequiredValue(account));
            int count = parseResult.GetValue(limit);
            if (count is < 1 or > 1_000_000)
            {
                throw new CommandException(ExitCodes.UsageError, $"--limit: {count} is not between 1 and 1,000,000.");
            }

            AccountFilterFlags flags = parseResult.GetValue(side) switch
            {
                "debits" => AccountFilterFlags.Debits,
                "credits" => AccountFilterFlags.Credits,
                "both" => AccountFilterFlags.Debits | AccountFilterFlags.Credits,
                string other => throw new CommandException(ExitCodes.UsageError, $"--side: '{other}' is not debits, credits or both."),
                null => AccountFilterFlags.Debits | AccountFilterFlags.Credits,
            };
            flags |= parseResult.GetValue(newest) ? AccountFilterFlags.Reversed : AccountFilterFlags.None;
            var filter = new AccountFilter { AccountId = id, Limit = (uint)count, Flags = flags, TimestampMin = parseResult.GetValue(from), TimestampMax = parseResult.GetValue(to) };
            if (!filter.IsValid)
            {
                throw new CommandException(ExitCodes.UsageError, "--from and --to: the range is empty (--from after --to) or a bound is 2^64 - 1.");
            }

            await using LedgerEngine engine = await LedgerAccess.OpenAsync(
                parseResult.GetRequiredValue(journal), auditDirectory: null, operatorKey: null, origin: null, cancellationToken, accountHistory: true).ConfigureAwait(false);
            if (!engine.TryGetAccount(id, out _))
            {
                Console.Error.WriteLine($"micropay: error: account {id.ToString(CultureInfo.InvariantCulture)} is not in the ledger.");
                return ExitCodes.NotFound;
            }

            Transfer[] transfers = engine.GetAccountTransfers(filter);
            string[] header = ["id", "timestamp", "debit_account", "credit_account", "amount", "code", "flags"];
            List<string[]> lines = [header];
            foreach (Transfer t in transfers)
            {
                lines.Add([Invariant(t.Id), Invariant(t.Timestamp), Invariant(t.DebitAccountId), Invariant(t.CreditAccountId), Invariant(t.Amount), Invariant(t.Code), t.Flags.ToString()]);
            }

            PrintColumns(lines);
            Console.Out.WriteLine($"{transfers.Length.ToString(CultureInfo.InvariantCulture)} transfer(s).");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>An account id: decimal, or hexadecimal after 0x.</summary>
    internal static UInt128 ParseId(string text)
    {
        bool parsed = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? UInt128.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out UInt128 id)
            : UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
        return parsed && id != UInt128.Zero
            ? id
            : throw new CommandException(ExitCodes.UsageError, $"--account: '{text}' is not an account id (a non-zero decimal, or hexadecimal with 0x).");
    }

    /// <summary>The accounts table of <c>ledger balances</c>.</summary>
    private static void PrintTable(Account[] accounts)
    {
        string[] header = ["id", "ledger", "code", "debits_posted", "debits_pending", "credits_posted", "credits_pending", "balance"];
        List<string[]> lines = [header];
        foreach (Account a in accounts)
        {
            // The posted balance may be negative and needs 129 bits at the extremes (two UInt128 apart).
            BigInteger balance = (BigInteger)a.CreditsPosted - (BigInteger)a.DebitsPosted;
            lines.Add([
                Invariant(a.Id), Invariant(a.LedgerId), Invariant(a.Code), Invariant(a.DebitsPosted), Invariant(a.DebitsPending),
                Invariant(a.CreditsPosted), Invariant(a.CreditsPending), balance.ToString(CultureInfo.InvariantCulture),
            ]);
        }

        PrintColumns(lines);
        Console.Out.WriteLine($"{accounts.Length.ToString(CultureInfo.InvariantCulture)} account(s).");
    }

    /// <summary>Plain aligned columns (the first line the header): right-aligned numbers that a script can split on white space.</summary>
    private static void PrintColumns(List<string[]> lines)
    {
        int[] widths = [.. Enumerable.Range(0, lines[0].Length).Select(c => lines.Max(l => l[c].Length))];
        foreach (string[] line in lines)
        {
            Console.Out.WriteLine(string.Join("  ", line.Select((cell, c) => cell.PadLeft(widths[c]))).TrimEnd());
        }
    }

    private static string Invariant<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Row(string label, object value) =>
        $"{label + ":",-19}{(value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value)}";
}
