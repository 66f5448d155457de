using System.CommandLine;
using Micropay.Core.Audit;

namespace Micropay.Core.Cli;

/// <summary><c>micropay keys new</c> and <c>micropay keys show</c>: Ed25519 keys in the C2SP signed-note forms.</summary>
internal static class KeysCommand
{
    private const string DefaultName = "micropay-operator";

    public static Command Create()
    {
        var command = new Command("keys", "Generate and show Ed25519 signed-note keys (an operator key signs a ledger's checkpoints).");
        command.Subcommands.Add(CreateNew());
        command.Subcommands.Add(CreateShow());
        return command;
    }

    private static Command CreateNew()
    {
        var name = new Option<string>("--name", "-n")
        {
            Description = "The key's name (no spaces or '+').",
            DefaultValueFactory = _ => DefaultName,
        };
        var output = new Option<string?>("--out", "-o")
        {
            Description = "Where to write the signer key (PRIVATE+KEY+name+hash+base64, owner-only permissions) [default: <name>.key]",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite the key file if it exists." };
        var showPrivate = new Option<bool>("--show-private") { Description = "Also print the signer key (the secret) on stdout." };
        var command = new Command(
            "new",
            "Generate an Ed25519 signing key: prints its verifier key (name+hash+base64) on stdout and writes the signer key, in Go's " +
            "golang.org/x/mod/sumdb/note form, to a file only its owner can read. A ledger names its checkpoints' verifier key by its " +
            "origin: publish the key 'micropay ledger info --audit <dir> --operator-key <file>' prints.")
        {
            name, output, force, showPrivate,
        };
        command.SetAction(CliAction.Run(async (parseResult, cancellationToken) =>
        {
            string keyName = parseResult.GetValue(name) ?? DefaultName;
            using NoteSignerKey key = KeyInput.Generate(keyName);
            string path = parseResult.GetValue(output) ?? DefaultFileName(keyName);
            string secret = key.ToPrivateText();
            await WriteSecretAsync(path, secret, parseResult.GetValue(force), cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine(key.VerifierKey.ToString());
            if (parseResult.GetValue(showPrivate))
            {
                Console.Out.WriteLine(secret);
            }

            Console.Error.WriteLine($"Wrote the signer key to '{path}' (readable by its owner only). Keep it secret; publish the verifier key.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateShow()
    {
        var key = CommonOptions.NoOptionLike(new Argument<string>("key") { Description = "A signer key file, or a verifier key (name+hash+base64) or a file holding one." });
        var command = new Command("show", "Print the verifier key (name+hash+base64) of a signer key file or of a verifier key; never the private key.") { key };
        command.SetAction(CliAction.Run((parseResult, cancellationToken) =>
        {
            NoteVerifierKey verifier = KeyInput.ReadVerifierKey(parseResult.GetRequiredValue(key), origin: null, "key");
            Console.Out.WriteLine(verifier.ToString());
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>A file name from a key name, which may hold '/' (a ledger's origin does).</summary>
    private static string DefaultFileName(string keyName)
    {
        char[] invalid = Path.GetInvalidFileNameChars();
        return new string([.. keyName.Select(c => c == '/' || c == '\\' || invalid.Contains(c) ? '-' : c)]) + ".key";
    }

    /// <summary>
    /// Writes the secret to a new file created with owner-only permissions (0600 on Unix; on Windows a new file in the
    /// user's directories inherits their ACL): created that way, not chmod'ed after, so it is never readable by others,
    /// even for a moment.
    /// </summary>
    private static async Task WriteSecretAsync(string path, string secret, bool overwrite, CancellationToken cancellationToken)
    {
        if (File.Exists(path))
        {
            if (!overwrite)
            {
                throw new CommandException(ExitCodes.UsageError, $"--out: '{path}' exists; pass --force to overwrite it (its key is then lost).");
            }

            File.Delete(path);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var writer = new StreamWriter(path, options);
        await writer.WriteLineAsync(secret.AsMemory(), cancellationToken).ConfigureAwait(false);
    }
}
