using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Cli;

/// <summary>Reads the keys the commands take: a signer key file (Go's PRIVATE+KEY form), or a verifier key as text or in a file.</summary>
internal static class KeyInput
{
    private const string PrivatePrefix = "PRIVATE+KEY+";

    /// <summary>
    /// Reads a signer key from <paramref name="path"/> (what <c>micropay keys new</c> wrote). The key may not be
    /// exported again: the tool only signs or derives the public half with it.
    /// </summary>
    /// <exception cref="CommandException">The file is missing or does not hold a signer key (exit code 1).</exception>
    public static NoteSignerKey ReadSignerKey(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CommandException(ExitCodes.UsageError, $"{what}: the file '{path}' does not exist.");
        }

        string text = File.ReadAllText(path).Trim();
        if (!NoteSignerKey.TryParse(text, out NoteSignerKey? key, out string? error))
        {
            // The error names what is wrong with the text, never the text itself: it may be a secret.
            throw new CommandException(ExitCodes.UsageError, $"{what}: '{path}' is not a signer key ({error}).");
        }

        return key;
    }

    /// <summary>
    /// Reads a verifier key given as its <c>name+hash+base64</c> text, or as a file holding that text or a signer key
    /// (whose public half is taken). With <paramref name="origin"/>, the key is named for that origin: a ledger's
    /// checkpoints are signed under its origin (<c>micropay/ledger/&lt;instance id&gt;</c> by default), which a key
    /// file from <c>micropay keys new</c> does not carry.
    /// </summary>
    /// <exception cref="CommandException">Neither a key nor a file holding one (exit code 1).</exception>
    public static NoteVerifierKey ReadVerifierKey(string keyOrPath, string? origin, string what)
    {
        string text = keyOrPath;
        string source = "the text given";
        if (File.Exists(keyOrPath))
        {
            text = File.ReadAllText(keyOrPath).Trim();
            source = $"the file '{keyOrPath}'";
        }
        else if (!keyOrPath.Contains('+', StringComparison.Ordinal))
        {
            // No '+' at all: not a key, so most likely a file name with a typo.
            throw new CommandException(ExitCodes.UsageError, $"{what}: '{keyOrPath}' is neither a verifier key (name+hash+base64) nor an existing file.");
        }

        NoteVerifierKey key;
        if (text.StartsWith(PrivatePrefix, StringComparison.Ordinal))
        {
            if (!NoteSignerKey.TryParse(text, out NoteSignerKey? signer, out string? signerError))
            {
                throw new CommandException(ExitCodes.UsageError, $"{what}: {source} is not a valid signer key ({signerError}).");
            }

            using (signer)
            {
                key = signer.VerifierKey;
            }
        }
        else if (!NoteVerifierKey.TryParse(text, out NoteVerifierKey? parsed, out string? error))
        {
            throw new CommandException(ExitCodes.UsageError, $"{what}: {source} is not a verifier key ({error}).");
        }
        else
        {
            key = parsed;
        }

        if (origin is null || origin == key.Name)
        {
            return key;
        }

        try
        {
            return NoteVerifierKey.Create(origin, key.Key);
        }
        catch (ArgumentException)
        {
            throw new CommandException(ExitCodes.UsageError, $"--origin: '{origin}' is not a key name (no spaces, '+' or control characters).");
        }
    }

    /// <summary>Generates a signer key that may be written out once (to its file).</summary>
    public static NoteSignerKey Generate(string name)
    {
        try
        {
            return NoteSignerKey.Generate(name, KeyExportPolicy.AllowExport);
        }
        catch (ArgumentException)
        {
            throw new CommandException(ExitCodes.UsageError, $"--name: '{name}' is not a key name (non-empty, no spaces, '+' or control characters).");
        }
    }
}
