using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Crypto;

namespace Micropay.Core.Audit;

/// <summary>
/// The C2SP signed-note format: UTF-8 text ending in a newline, a blank line, then one signature line per signer,
/// <c>"— " name " " base64(key id (4 bytes, big-endian) || signature) "\n"</c> (the dash is U+2014). A signature covers
/// the text with its final newline, not the blank line. The text and the signatures split at the last blank line;
/// lines by unknown keys are ignored; a line by a known key that fails rejects the note.
/// </summary>
/// <remarks>Only Ed25519 signatures (type 0x01 in the key id) are produced and verified here.</remarks>
public static class SignedNote
{
    /// <summary>The most signature lines a note may carry: 100.</summary>
    public const int MaxSignatures = 100;

    /// <summary>The largest note accepted: 1 MiB.</summary>
    public const int MaxNoteBytes = 1 << 20;

    /// <summary>What opens a signature line: an em dash (U+2014) and a space.</summary>
    internal const string Dash = "\u2014 ";

    /// <summary>Signs <paramref name="text"/> with <paramref name="key"/> under <paramref name="name"/>, as a note with one signature.</summary>
    /// <param name="text">Non-empty text ending in "\n", without ASCII control characters other than newlines.</param>
    /// <param name="name">The key name.</param>
    /// <param name="key">The signing key.</param>
    /// <returns>The signed note.</returns>
    /// <exception cref="ArgumentException">The text or name breaks a rule of the format.</exception>
    public static string Sign(string text, string name, SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(key);
        if (!IsValidText(text))
        {
            throw new ArgumentException("A note's text is non-empty, ends in a newline, and has no ASCII control character but newlines.", nameof(text));
        }

        NoteVerifierKey verifier = NoteVerifierKey.Create(name, key.VerificationKey);
        return text + "\n" + SignatureLine(text, verifier, key);
    }

    /// <summary>The signature line <paramref name="key"/> adds to a note of <paramref name="text"/> (for a cosigner appending its own).</summary>
    /// <param name="text">The note's text.</param>
    /// <param name="verifier">The signer's verifier key (its name and key id).</param>
    /// <param name="key">The signing key matching <paramref name="verifier"/>.</param>
    /// <returns>The line, ending in "\n".</returns>
    public static string SignatureLine(string text, NoteVerifierKey verifier, SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(key);
        if (!key.VerificationKey.Equals(verifier.Key))
        {
            throw new ArgumentException("The signing key is not the verifier key's.", nameof(key));
        }

        byte[] blob = new byte[4 + VerificationKey.SignatureSize];
        BinaryPrimitives.WriteUInt32BigEndian(blob, verifier.KeyId);
        key.Sign(Encoding.UTF8.GetBytes(text), blob.AsSpan(4));
        return Dash + verifier.Name + " " + Convert.ToBase64String(blob) + "\n";
    }

    /// <summary>Opens a note: checks its format and the signatures of the known keys. Never throws.</summary>
    /// <param name="note">The note's bytes.</param>
    /// <param name="known">The verifier keys the caller trusts.</param>
    /// <param name="text">The note's text (ending in "\n") when the format is valid, else null.</param>
    /// <param name="verifiedBy">How many known keys' signatures verified.</param>
    /// <returns>The outcome.</returns>
    public static NoteResult TryOpen(ReadOnlySpan<byte> note, IReadOnlyList<NoteVerifierKey> known, out string? text, out int verifiedBy)
    {
        text = null;
        verifiedBy = 0;
        NoteResult split = TrySplit(note, out string? body, out string[] lines);
        if (split != NoteResult.Ok)
        {
            return split;
        }

        byte[] signed = Encoding.UTF8.GetBytes(body!);
        var seen = new HashSet<(string, uint)>();
        foreach (string line in lines)
        {
            if (!TryParseLine(line, out string? name, out uint keyId, out byte[]? signature))
            {
                return NoteResult.Malformed;
            }

            NoteVerifierKey? key = known?.FirstOrDefault(k => k.Name == name && k.KeyId == keyId);
            if (key is null || !seen.Add((name, keyId)))
            {
                // Unknown keys are ignored (a witness may cosign with a key this verifier does not hold), and so is a
                // known key's second line: its first decides.
                continue;
            }

            if (signature.Length != VerificationKey.SignatureSize || !key.Key.Verify(signed, signature))
            {
                text = body;
                return NoteResult.BadSignature;
            }

            verifiedBy++;
        }

        text = body;
        return verifiedBy == 0 ? NoteResult.NoKnownSignature : NoteResult.Ok;
    }

    /// <summary>
    /// Splits a note at its last blank line into the text and its signature lines, checking all but the lines themselves
    /// (<see cref="TryParseLine"/> reads each). Never throws.
    /// </summary>
    /// <param name="note">The note's bytes.</param>
    /// <param name="body">The text, ending in "\n", when the result is <see cref="NoteResult.Ok"/>; else null.</param>
    /// <param name="lines">The signature lines without their newlines (1 to <see cref="MaxSignatures"/>), or empty.</param>
    /// <returns>
    /// <see cref="NoteResult.Ok"/> when the note is UTF-8 of at most <see cref="MaxNoteBytes"/>, ending in a newline,
    /// whose text is valid and which has at least one and at most <see cref="MaxSignatures"/> lines after the blank
    /// line; else <see cref="NoteResult.Malformed"/> or <see cref="NoteResult.TooLarge"/>.
    /// </returns>
    internal static NoteResult TrySplit(ReadOnlySpan<byte> note, out string? body, out string[] lines)
    {
        body = null;
        lines = [];
        if (note.Length > MaxNoteBytes)
        {
            return NoteResult.TooLarge;
        }

        string whole;
        try
        {
            whole = new UTF8Encoding(false, true).GetString(note);
        }
        catch (DecoderFallbackException)
        {
            return NoteResult.Malformed;
        }

        // A note ending in the blank line itself ("text\n\n") has no signature line: the last blank line must leave at
        // least one character before the final newline, or the range below would start past its end.
        int split = whole.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || !whole.EndsWith('\n') || split + 2 >= whole.Length)
        {
            return NoteResult.Malformed;
        }

        string text = whole[..(split + 1)];
        if (!IsValidText(text))
        {
            return NoteResult.Malformed;
        }

        string[] all = whole[(split + 2)..^1].Split('\n');
        if (all.Length > MaxSignatures)
        {
            return NoteResult.TooLarge;
        }

        body = text;
        lines = all;
        return NoteResult.Ok;
    }

    /// <summary>
    /// Reads one signature line (without its newline): the dash, a valid key name, a space, then standard base64 of at
    /// least 5 bytes, without white space. Never throws.
    /// </summary>
    /// <param name="line">The line.</param>
    /// <param name="name">The key name, or empty.</param>
    /// <param name="keyId">The key id (the first 4 bytes, big-endian), or 0.</param>
    /// <param name="signature">The bytes after the key id, or empty.</param>
    /// <returns>Whether the line is well formed.</returns>
    internal static bool TryParseLine(string line, out string name, out uint keyId, out byte[] signature)
    {
        name = string.Empty;
        keyId = 0;
        signature = [];
        if (!line.StartsWith(Dash, StringComparison.Ordinal))
        {
            return false;
        }

        string rest = line[Dash.Length..];
        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == rest.Length - 1)
        {
            return false;
        }

        name = rest[..space];
        if (rest.AsSpan(space + 1).ContainsAny(" \t\r\n"))
        {
            // Convert.FromBase64String skips white space; the format has none inside a signature.
            return false;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(rest[(space + 1)..]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (!NoteVerifierKey.IsValidName(name) || blob.Length < 5)
        {
            return false;
        }

        keyId = BinaryPrimitives.ReadUInt32BigEndian(blob);
        signature = blob[4..];
        return true;
    }

    // C2SP signed-note: non-empty, ends in a newline, no ASCII control character but the newline. The text may hold
    // empty lines (the split at the last blank line keeps it unambiguous), and characters from DEL up are text, as Go's
    // note package reads them (checked against it: tests/Micropay.Core.Interop).
    private static bool IsValidText(string text) =>
        text.Length != 0 && text.EndsWith('\n') && !text.Any(c => c < ' ' && c != '\n');
}
