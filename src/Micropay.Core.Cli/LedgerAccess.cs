using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

namespace Micropay.Core.Cli;

/// <summary>
/// Opens a ledger's <see cref="FileLedgerStore"/> directory with a <see cref="LedgerEngine"/> for reading, and makes
/// sure the open writes as little as an engine can: no new ledger where there is none, no clock pulses, no audit log
/// started in a directory that is not there.
/// </summary>
/// <remarks>
/// The engine is the only reader of a ledger's state (snapshot plus journal replay), and it takes the store's lock
/// (<c>ledger.lock</c>), so a running engine must be stopped first (its lock makes this open fail, exit code 3). What an
/// open may still write is what any open writes: the store cuts a torn last record a crash left, and the audit log
/// repairs files that ran ahead of the journal. Nothing is submitted; checkpoints are not signed.
/// </remarks>
internal static class LedgerAccess
{
    /// <summary>What the commands print before opening, so nobody is surprised by the lock.</summary>
    public const string LockNotice = "Opening the ledger with its engine: this takes the store's lock (ledger.lock), so no running engine may have it open.";

    /// <summary>Opens the ledger in <paramref name="journalDirectory"/>, with its audit log when <paramref name="auditDirectory"/> is given.</summary>
    /// <exception cref="CommandException">No journal there, a missing audit directory or key (1), or the open failed (3).</exception>
    public static async Task<LedgerEngine> OpenAsync(
        string journalDirectory, string? auditDirectory, NoteSignerKey? operatorKey, string? origin, CancellationToken cancellationToken, bool accountHistory = false)
    {
        // An engine opened on an empty directory creates a new ledger there (it journals the new instance id): the tool
        // must never do that, so it insists on a journal first.
        if (!Directory.Exists(journalDirectory))
        {
            throw new CommandException(ExitCodes.LedgerUnavailable, $"the journal directory '{journalDirectory}' does not exist.");
        }

        if (Directory.GetFiles(journalDirectory, "segment-*.seg").Length == 0)
        {
            throw new CommandException(
                ExitCodes.LedgerUnavailable, $"'{journalDirectory}' holds no ledger journal (no segment-*.seg files); nothing was opened, so no ledger was created there.");
        }

        AuditOptions? audit = null;
        if (auditDirectory is not null)
        {
            // The audit log creates its directory: a mistyped one would start a new, empty log and rebuild it from the journal.
            if (!Directory.Exists(auditDirectory))
            {
                throw new CommandException(ExitCodes.UsageError, $"--audit: the audit directory '{auditDirectory}' does not exist.");
            }

            if (operatorKey is null)
            {
                throw new CommandException(ExitCodes.UsageError, "--audit needs --operator-key: the engine checks the latest stored checkpoint against the operator's key when it opens the audit log.");
            }

            // No checkpoints by count or time: the tool only reads (the latest stored one is recovered at open).
            audit = new AuditOptions { Directory = auditDirectory, Origin = origin, CheckpointEveryBatches = 0, CheckpointInterval = TimeSpan.Zero };
        }

        Console.Error.WriteLine(LockNotice);
        try
        {
            var options = new LedgerEngineOptions
            {
                Store = new FileLedgerStore(journalDirectory),
                OperatorKey = operatorKey?.SigningKey,
                Audit = audit,

                // An idle engine journals an empty batch when a hold times out; reading must not add batches.
                ClockPulses = false,

                // Built at open from the ledger's rows (never stored), so only `ledger history` pays for it.
                AccountHistory = accountHistory,
            };
            return await LedgerEngine.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new CommandException(ExitCodes.UsageError, e.Message, e);
        }
        catch (Exception e) when (e is MicropayException or IOException or UnauthorizedAccessException)
        {
            throw new CommandException(ExitCodes.LedgerUnavailable, $"the ledger in '{journalDirectory}' could not be opened: {Describe(e)}", e);
        }
    }

    /// <summary>The exception's message with its causes' (a store wraps the operating system's error, which says what really happened).</summary>
    private static string Describe(Exception e)
    {
        string message = e.Message;
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            message += $" ({inner.Message})";
        }

        return message;
    }
}
