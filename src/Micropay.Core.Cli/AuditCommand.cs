using System.CommandLine;
using System.Globalization;
using Micropay.Core.Audit;
using Micropay.Core.Engine;

namespace Micropay.Core.Cli;

/// <summary><c>micropay audit verify</c>: the offline journal audit (<see cref="AuditVerifier"/>).</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var command = new Command("audit", "Audit a ledger's journal and audit log offline.");
        command.Subcommands.Add(CreateVerify());
        return command;
    }

    private static Command CreateVerify()
    {
        var journal = CommonOptions.JournalArgument();
        var audit = CommonOptions.AuditOption(required: true);
        var key = new Option<string>("--key", "-k")
        {
            Description = "The ledger's verifier key (name+hash+base64, as 'ledger info' prints it), or a file holding it.",
            Required = true,
        };
        var origin = new Option<string?>("--origin")
        {
            Description = "Name the key for this origin (for a key file from 'keys new', whose name is not the ledger's origin).",
        };
        var command = new Command(
            "verify",
            "Re-derive every batch hash and the hash chain, replay the journal to rebuild every leaf and the Merkle tree, compare them with " +
            "the headers and the audit files, check every stored checkpoint and every signature; changes nothing and takes no lock (run it " +
            "on a ledger no engine has open). Prints the report and each finding. Exit code 0 intact, 2 findings, 1 bad input.")
        {
            journal, audit, key, origin,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            string journalDirectory = parseResult.GetRequiredValue(journal);
            string auditDirectory = parseResult.GetValue(audit)!;
            NoteVerifierKey ledgerKey = KeyInput.ReadVerifierKey(parseResult.GetRequiredValue(key), parseResult.GetValue(origin), "--key");
            if (!Directory.Exists(journalDirectory))
            {
                throw new CommandException(ExitCodes.UsageError, $"the journal directory '{journalDirectory}' does not exist.");
            }

            if (!Directory.Exists(auditDirectory))
            {
                throw new CommandException(ExitCodes.UsageError, $"--audit: the audit directory '{auditDirectory}' does not exist.");
            }

            var progress = new ProgressPrinter(Console.Error, interactive: !Console.IsErrorRedirected);
            AuditReport report = await AuditVerifier.VerifyAsync(journalDirectory, auditDirectory, ledgerKey, progress, cancellationToken).ConfigureAwait(false);
            progress.Finish();

            TextWriter o = Console.Out;
            o.WriteLine(report.IsIntact ? "INTACT" : $"FINDINGS: {report.Findings.Count.ToString(CultureInfo.InvariantCulture)}");
            o.WriteLine(FormattableString.Invariant($"Key:                {ledgerKey}"));
            o.WriteLine(FormattableString.Invariant($"Last batch:         {report.LastBatch}"));
            o.WriteLine(FormattableString.Invariant($"Batches replayed:   {report.Batches} (from batch {report.FirstReplayedBatch})"));
            o.WriteLine(FormattableString.Invariant($"Leaves:             {report.Leaves}"));
            o.WriteLine(FormattableString.Invariant($"Root:               {Convert.ToHexStringLower(report.RootHash)}"));
            o.WriteLine(FormattableString.Invariant($"Checkpoints:        {report.CheckpointsVerified} verified"));
            o.WriteLine(FormattableString.Invariant($"Signed events:      {report.SignaturesVerified} verified"));
            foreach (AuditFinding finding in report.Findings)
            {
                o.WriteLine($"finding: {finding}");
            }

            return report.IsIntact ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        }));
        return command;
    }
}
