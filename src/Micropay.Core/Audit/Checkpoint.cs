using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Micropay.Core.Audit;

/// <summary>
/// A transparency log's checkpoint body in the C2SP tlog-checkpoint format: the origin line (the log's unique name), the
/// tree size in decimal, the base64 root hash, then optional extension lines, each line ending in a newline. Signed as
/// a C2SP signed note (<see cref="SignedNote"/>), it commits the log to its whole history at that size. Immutable.
/// </summary>
public sealed class Checkpoint
{
    private readonly byte[] _rootHash;
    private readonly string[] _extensions;

    private Checkpoint(string origin, long size, byte[] rootHash, string[] extensions)
    {
        Origin = origin;
        Size = size;
        _rootHash = rootHash;
        _extensions = extensions;
    }

    /// <summary>The origin: the log's unique name (the first line).</summary>
    public string Origin { get; }

    /// <summary>The tree size: the number of leaves the root covers.</summary>
    public long Size { get; }

    /// <summary>The RFC 9162 root hash of the first <see cref="Size"/> leaves.</summary>
    public ReadOnlySpan<byte> RootHash => _rootHash;

    /// <summary>The extension lines after the root hash (without their newlines), in order.</summary>
    public IReadOnlyList<string> Extensions => _extensions;

    /// <summary>Creates a checkpoint.</summary>
    /// <param name="origin">The log's origin: non-empty, without control characters.</param>
    /// <param name="size">The tree size; not negative.</param>
    /// <param name="rootHash">The 32-byte root hash.</param>
    /// <param name="extensions">Optional extension lines: each non-empty, without control characters.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="ArgumentException">A value breaks a rule of the format.</exception>
    public static Checkpoint Create(string origin, long size, ReadOnlySpan<byte> rootHash, params string[] extensions)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentNullException.ThrowIfNull(extensions);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (!IsValidLine(origin))
        {
            throw new ArgumentException("The origin is a non-empty line without control characters.", nameof(origin));
        }

        if (rootHash.Length != MerkleHashes.Size)
        {
            throw new ArgumentException($"The root hash is {MerkleHashes.Size} bytes.", nameof(rootHash));
        }

        if (!extensions.All(IsValidLine))
        {
            throw new ArgumentException("An extension line is empty or holds a control character.", nameof(extensions));
        }

        return new Checkpoint(origin, size, rootHash.ToArray(), [.. extensions]);
    }

    /// <summary>Reads a checkpoint body (a signed note's text); never throws.</summary>
    /// <param name="text">The body, every line ending in a newline.</param>
    /// <param name="checkpoint">The checkpoint, or null.</param>
    /// <param name="error">What is wrong, or null.</param>
    /// <returns>Whether the text is a valid checkpoint body.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Checkpoint? checkpoint, out string? error)
    {
        checkpoint = null;
        if (text is null || !text.EndsWith('\n'))
        {
            error = "a checkpoint body ends in a newline";
            return false;
        }

        string[] lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            error = "a checkpoint body has an origin, a size and a root hash line";
            return false;
        }

        if (!lines.All(IsValidLine))
        {
            error = "a line is empty or holds a control character";
            return false;
        }

        string size = lines[1];
        if (!size.All(char.IsAsciiDigit) || (size.Length > 1 && size[0] == '0') ||
            !long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out long treeSize))
        {
            error = "the size is not a decimal number without leading zeros below 2^63";
            return false;
        }

        byte[] root = new byte[MerkleHashes.Size + 1];
        if (!Convert.TryFromBase64String(lines[2], root, out int written) || written != MerkleHashes.Size ||
            Convert.ToBase64String(root, 0, MerkleHashes.Size) != lines[2])
        {
            error = "the root hash is not the canonical base64 of 32 bytes";
            return false;
        }

        checkpoint = new Checkpoint(lines[0], treeSize, root[..MerkleHashes.Size], lines[3..]);
        error = null;
        return true;
    }

    /// <summary>The checkpoint body: the text a signed note signs.</summary>
    /// <returns>The lines, each ending in a newline.</returns>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(_rootHash)).Append('\n');
        foreach (string extension in _extensions)
        {
            text.Append(extension).Append('\n');
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"Checkpoint({Origin}, size {Size})";

    private static bool IsValidLine(string line) => line.Length != 0 && !line.Any(char.IsControl);
}
