using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Micropay.Core.Crypto;

namespace Micropay.Core.Audit;

// A C2SP tlog-cosignature line, Ed25519 (cosignature/v1), as a signed-note signature line:
//
//   "— " name " " base64(blob) "\n"          (the dash is U+2014; standard base64 with padding)
//
//   blob (76 bytes)
//   offset  size  field
//   0       4     key id, big-endian: SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]
//   4       8     timestamp, big-endian: POSIX seconds when the witness signed, at most 2^63 - 1
//   12      64    Ed25519 signature (RFC 8032) of the message below
//
//   message = "cosignature/v1\n" || "time " || decimal(timestamp, no leading zeros) || "\n" || checkpoint body
//
// The checkpoint body is the note's whole text, extension lines included, with its final newline and without the
// blank line or any signature line.

/// <summary>
/// C2SP tlog-cosignature for Ed25519 (cosignature/v1): a witness's statement that, as of its timestamp, the checkpoint
/// is the largest consistent tree head it has seen for that log. It is one more signature line on the checkpoint's
/// signed note, so the note still opens with <see cref="SignedNote.TryOpen"/> and the log's own key, which passes over
/// the witnesses' lines as lines of unknown keys (their names, and their key ids of type 0x04, are not the log key's).
/// </summary>
/// <remarks>
/// The signed message commits to the timestamp and the whole checkpoint body (extension lines included), not to the
/// witness's name; the key id (type 0x04) keeps the line apart from a note signature by the same key. Only Ed25519
/// cosignatures are made and checked here; the ML-DSA-44 type (0x06) of the specification is not supported.
/// </remarks>
public static class Cosignature
{
    /// <summary>The largest timestamp a cosignature may carry: 2^63 - 1 seconds, as the specification requires.</summary>
    public const ulong MaxTimestamp = long.MaxValue;

    // Key id, timestamp, signature.
    private const int BlobSize = 4 + 8 + VerificationKey.SignatureSize;

    /// <summary>
    /// The cosignature/v1 line <paramref name="key"/> adds, as witness <paramref name="witness"/>, to the signed note of
    /// <paramref name="checkpointText"/> at time <paramref name="timestamp"/>. Deterministic: the same inputs give the
    /// same line.
    /// </summary>
    /// <param name="checkpointText">The checkpoint body: the note's text, ending in "\n", without the blank line or signatures.</param>
    /// <param name="witness">The witness's cosigner key (its name and key id).</param>
    /// <param name="key">The signing key matching <paramref name="witness"/>.</param>
    /// <param name="timestamp">The time of the cosignature, in seconds since the Unix epoch; at most <see cref="MaxTimestamp"/>.</param>
    /// <returns>The line, ending in "\n", to append after the note's existing signature lines.</returns>
    /// <exception cref="ArgumentException">
    /// The text is not a checkpoint body, or the key is not the witness's (<see cref="ArgumentOutOfRangeException"/>
    /// when the timestamp is over <see cref="MaxTimestamp"/>).
    /// </exception>
    /// <exception cref="ObjectDisposedException">The signing key has been disposed.</exception>
    public static string SignatureLine(string checkpointText, CosignerKey witness, SigningKey key, ulong timestamp)
    {
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentNullException.ThrowIfNull(witness);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timestamp, MaxTimestamp);

        // A witness vouches for checkpoints, never for arbitrary text; a valid body is also valid note text (no blank
        // line, no control character), so the line it makes always belongs to an openable note.
        if (!Checkpoint.TryParse(checkpointText, out _, out string? error))
        {
            throw new ArgumentException($"The text is not a checkpoint body: {error}.", nameof(checkpointText));
        }

        if (!key.VerificationKey.Equals(witness.Key))
        {
            throw new ArgumentException("The signing key is not the witness's.", nameof(key));
        }

        Span<byte> blob = stackalloc byte[BlobSize];
        BinaryPrimitives.WriteUInt32BigEndian(blob, witness.KeyId);
        BinaryPrimitives.WriteUInt64BigEndian(blob[4..], timestamp);
        key.Sign(Message(checkpointText, timestamp), blob[12..]);
        return SignedNote.Dash + witness.Name + " " + Convert.ToBase64String(blob) + "\n";
    }

    /// <summary>
    /// Checks <paramref name="witness"/>'s cosignature on a signed checkpoint: the note must be well formed, its text a
    /// checkpoint body, and exactly one of its lines must carry the witness's name and key id and verify. Other lines
    /// (the log's, other witnesses') are ignored: open the note with <see cref="SignedNote.TryOpen"/> to check the log's
    /// own signature. Never throws for any bytes.
    /// </summary>
    /// <param name="signedNote">The signed note's bytes.</param>
    /// <param name="witness">The witness whose cosignature is wanted.</param>
    /// <param name="timestamp">
    /// The cosignature's time (seconds since the Unix epoch) when the result is <see cref="CosignatureResult.Ok"/>;
    /// otherwise 0. Whether that time is plausible (not in the future, recent enough) is the caller's policy.
    /// </param>
    /// <returns>The outcome.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="witness"/> is null (a caller bug, not bad input).</exception>
    public static CosignatureResult TryVerify(ReadOnlySpan<byte> signedNote, CosignerKey witness, out ulong timestamp)
    {
        ArgumentNullException.ThrowIfNull(witness);
        timestamp = 0;
        NoteResult split = SignedNote.TrySplit(signedNote, out string? body, out string[] lines);
        if (split != NoteResult.Ok)
        {
            return split == NoteResult.TooLarge ? CosignatureResult.TooLarge : CosignatureResult.Malformed;
        }

        if (!Checkpoint.TryParse(body, out _, out _))
        {
            return CosignatureResult.Malformed;
        }

        // Every line is read before any is judged, so a malformed line anywhere makes the note malformed, whichever
        // line is the witness's.
        byte[]? found = null;
        bool duplicate = false;
        foreach (string line in lines)
        {
            if (!SignedNote.TryParseLine(line, out string name, out uint keyId, out byte[] signature))
            {
                return CosignatureResult.Malformed;
            }

            if (keyId == witness.KeyId && name == witness.Name)
            {
                duplicate |= found is not null;
                found = signature;
            }
        }

        if (found is null)
        {
            return CosignatureResult.NotCosigned;
        }

        if (duplicate)
        {
            return CosignatureResult.DuplicateCosignature;
        }

        // found is the blob after the key id: the timestamp, then the Ed25519 signature.
        if (found.Length != BlobSize - 4)
        {
            return CosignatureResult.Malformed;
        }

        ulong time = BinaryPrimitives.ReadUInt64BigEndian(found);
        if (time > MaxTimestamp)
        {
            return CosignatureResult.Malformed;
        }

        if (!witness.Key.Verify(Message(body!, time), found.AsSpan(8)))
        {
            return CosignatureResult.BadSignature;
        }

        timestamp = time;
        return CosignatureResult.Ok;
    }

    /// <summary>The cosignature/v1 signed message: the header line, the time line, then the checkpoint body.</summary>
    private static byte[] Message(string checkpointText, ulong timestamp) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"cosignature/v1\ntime {timestamp}\n{checkpointText}"));
}
