using System.CommandLine;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Engine;

namespace Micropay.Core.Cli;

/// <summary><c>micropay checkpoint show</c>: a ledger's latest signed checkpoint, or a checkpoint note from a file.</summary>
internal static class CheckpointCommand
{
    public static Command Create()
    {
        var command = new Command("checkpoint", "Show signed checkpoints (C2SP signed notes over the audit tree).");
        command.Subcommands.Add(CreateShow());
        return command;
    }

    private static Command CreateShow()
    {
        var source = CommonOptions.NoOptionLike(new Argument<string>("source") { Description = "A ledger's journal directory (with --audit and --operator-key), or a checkpoint note file." });
        var audit = CommonOptions.AuditOption(required: false);
        var operatorKey = CommonOptions.OperatorKeyOption();
        var origin = CommonOptions.OriginOption();
        var key = new Option<string?>("--key", "-k") { Description = "Verify the checkpoint with this verifier key (name+hash+base64), or a file holding it." };
        var command = new Command(
            "show",
            "Print the latest signed checkpoint of a ledger (which its engine verified against the operator key when it opened the audit " +
            "log), or the checkpoint in a note file, and its origin, tree size and root; with --key verify its signature. Exit code 2 if " +
            "the signature does not verify, 3 if the ledger cannot be opened, 4 if the ledger has no checkpoint yet.")
        {
            source, audit, operatorKey, origin, key,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            string path = parseResult.GetRequiredValue(source);
            string? keyText = parseResult.GetValue(key);
            NoteVerifierKey? verifier = keyText is null ? null : KeyInput.ReadVerifierKey(keyText, origin: null, "--key");
            string note;
            string? verifiedAtOpen = null;
            if (Directory.Exists(path))
            {
                string auditDirectory = parseResult.GetValue(audit)
                    ?? throw new CommandException(ExitCodes.UsageError, "a ledger's checkpoints are in its audit log: give --audit <dir> and --operator-key <file>.");
                string keyFile = parseResult.GetValue(operatorKey)
                    ?? throw new CommandException(ExitCodes.UsageError, "--audit needs --operator-key: the engine checks the latest stored checkpoint against it when it opens.");
                using NoteSignerKey signer = KeyInput.ReadSignerKey(keyFile, "--operator-key");
                await using LedgerEngine engine = await LedgerAccess.OpenAsync(path, auditDirectory, signer, parseResult.GetValue(origin), cancellationToken).ConfigureAwait(false);
                SignedCheckpoint checkpoint = engine.LatestCheckpoint
                    ?? throw new CommandException(ExitCodes.NotFound, $"the ledger in '{path}' has no signed checkpoint yet.");
                note = checkpoint.Note;
                verifiedAtOpen = $"verified by {engine.AuditVerifierKey} (when the engine opened the audit log); batch {checkpoint.BatchNumber}";
            }
            else if (File.Exists(path))
            {
                note = File.ReadAllText(path);
            }
            else
            {
                throw new CommandException(ExitCodes.UsageError, $"'{path}' is neither a ledger's journal directory nor a checkpoint note file.");
            }

            // With no key, TryOpen still checks the format and gives the signed text (NoKnownSignature).
            NoteResult result = SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), verifier is null ? [] : [verifier], out string? text, out _);
            if (text is null)
            {
                throw new CommandException(ExitCodes.UsageError, $"'{path}' is not a signed note ({result}).");
            }

            if (!Checkpoint.TryParse(text, out Checkpoint? body, out string? error))
            {
                throw new CommandException(ExitCodes.UsageError, $"'{path}' is a signed note but not a checkpoint ({error}).");
            }

            TextWriter o = Console.Out;
            o.Write(note.EndsWith('\n') ? note : note + "\n");
            o.WriteLine();
            o.WriteLine($"Origin:     {body.Origin}");
            o.WriteLine(FormattableString.Invariant($"Tree size:  {body.Size}"));
            o.WriteLine($"Root hash:  {Convert.ToHexStringLower(body.RootHash)}");
            if (verifiedAtOpen is not null)
            {
                o.WriteLine($"Signature:  {verifiedAtOpen}");
            }

            if (verifier is null)
            {
                if (verifiedAtOpen is null)
                {
                    o.WriteLine("Signature:  not verified (give --key)");
                }

                return ExitCodes.Ok;
            }

            if (result != NoteResult.Ok)
            {
                o.WriteLine($"Signature:  NOT VERIFIED by {verifier}: {result}");
                return ExitCodes.VerificationFailed;
            }

            o.WriteLine($"Signature:  OK, verified by {verifier}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
