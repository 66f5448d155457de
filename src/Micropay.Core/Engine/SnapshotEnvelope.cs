using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>
/// The engine's snapshot format: a versioned envelope of named sections, each written and read by the state it holds
/// (the ledger's state machine now; channels, keys and the audit tree's frontier as they arrive). The engine frames the
/// sections and never reads inside one.
/// </summary>
/// <remarks>
/// <para>Byte layout, version 1, all integers little-endian:</para>
/// <code>
/// offset size field
///      0    4 Magic          "MPSE" (0x4D 0x50 0x53 0x45)
///      4    4 Version        1
///      8    4 SectionCount   1 to 64
///     12    4 Reserved       0
///     16      Sections, each:
///                2 NameLength  1 to 64
///                n Name        ASCII letters, digits, '.' and '-'; names are unique and in ascending ordinal order
///                8 Length      the section's byte count
///                L Payload     the owner's bytes
///             end: the envelope is exactly this long
/// </code>
/// <para>A snapshot that starts with the ledger's own magic ("MPLS") is the format engines wrote before sections
/// existed: the whole snapshot is the <see cref="LedgerSection"/> section, so those snapshots still open.</para>
/// <para>Reading refuses a section this build does not know: its state would be silently dropped, and the journal
/// after the snapshot assumes it. A state whose section is absent (a snapshot older than that state) starts empty; the
/// ledger's section is required.</para>
/// </remarks>
internal static class SnapshotEnvelope
{
    /// <summary>The section that holds the ledger's state (<see cref="LedgerStateMachine.WriteSnapshot(IBufferWriter{byte})"/>).</summary>
    public const string LedgerSection = "ledger";

    private const uint Version = 1;
    private const int HeaderSize = 16;
    private const int MaxSections = 64;
    private const int MaxNameLength = 64;

    private static ReadOnlySpan<byte> Magic => "MPSE"u8;

    private static ReadOnlySpan<byte> LegacyLedgerMagic => "MPLS"u8;

    /// <summary>The bytes of an envelope holding sections of these names and sizes.</summary>
    public static long SizeOf(IReadOnlyList<SnapshotSection> sections)
    {
        long size = HeaderSize;
        foreach (SnapshotSection section in sections)
        {
            size += 2 + section.Name.Length + 8 + section.Size;
        }

        return size;
    }

    /// <summary>Writes the envelope: the header, then each section's frame and its owner's bytes.</summary>
    public static void Write(IReadOnlyList<SnapshotSection> sections, IBufferWriter<byte> destination)
    {
        CheckSections(sections);
        Span<byte> header = destination.GetSpan(HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], sections.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        destination.Advance(HeaderSize);
        foreach (SnapshotSection section in sections)
        {
            int frame = 2 + section.Name.Length + 8;
            Span<byte> span = destination.GetSpan(frame);
            BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)section.Name.Length);
            Encoding.ASCII.GetBytes(section.Name, span[2..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(2 + section.Name.Length)..], section.Size);
            destination.Advance(frame);
            section.Write(destination);
        }
    }

    /// <summary>
    /// Reads an envelope (or a snapshot written before sections existed) into its sections by name, each a slice of
    /// <paramref name="snapshot"/> (no copy). Throws <see cref="LedgerSnapshotException"/> naming the offset and what is
    /// wrong: a bad frame, a length past the end, trailing bytes, or a section whose name is not in <paramref name="known"/>.
    /// </summary>
    public static Dictionary<string, ReadOnlySequence<byte>> Read(ReadOnlySequence<byte> snapshot, IReadOnlySet<string> known)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (snapshot.Length >= 4)
        {
            snapshot.Slice(0, 4).CopyTo(header);
            if (header[..4].SequenceEqual(LegacyLedgerMagic))
            {
                return new Dictionary<string, ReadOnlySequence<byte>>(StringComparer.Ordinal) { [LedgerSection] = snapshot };
            }
        }

        if (snapshot.Length < HeaderSize)
        {
            throw new LedgerSnapshotException(snapshot.Length, $"the snapshot is {snapshot.Length} bytes, shorter than its {HeaderSize}-byte header");
        }

        snapshot.Slice(0, HeaderSize).CopyTo(header);
        if (!header[..4].SequenceEqual(Magic))
        {
            throw new LedgerSnapshotException(0, "the snapshot starts with neither the envelope's magic \"MPSE\" nor the ledger's \"MPLS\"");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (version != Version)
        {
            throw new LedgerSnapshotException(4, $"the envelope's version is {version}; this build reads version {Version} (a newer build wrote it?)");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (count is < 1 or > MaxSections)
        {
            throw new LedgerSnapshotException(8, $"the section count is {count}; it must be 1 to {MaxSections}");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header[12..]) != 0)
        {
            throw new LedgerSnapshotException(12, "the reserved field is not zero");
        }

        var sections = new Dictionary<string, ReadOnlySequence<byte>>(StringComparer.Ordinal);
        Span<byte> frame = stackalloc byte[2 + MaxNameLength + 8];
        string? previous = null;
        long offset = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            if (snapshot.Length - offset < 2)
            {
                throw new LedgerSnapshotException(snapshot.Length, $"the snapshot ends inside section {i}'s frame");
            }

            snapshot.Slice(offset, 2).CopyTo(frame);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(frame);
            if (nameLength is < 1 or > MaxNameLength)
            {
                throw new LedgerSnapshotException(offset, $"section {i}'s name is {nameLength} bytes; names are 1 to {MaxNameLength}");
            }

            if (snapshot.Length - offset < 2 + nameLength + 8)
            {
                throw new LedgerSnapshotException(snapshot.Length, $"the snapshot ends inside section {i}'s frame");
            }

            snapshot.Slice(offset, 2 + nameLength + 8).CopyTo(frame);
            ReadOnlySpan<byte> nameBytes = frame.Slice(2, nameLength);
            if (!IsValidName(nameBytes))
            {
                throw new LedgerSnapshotException(offset + 2, $"section {i}'s name holds a byte outside ASCII letters, digits, '.' and '-'");
            }

            string name = Encoding.ASCII.GetString(nameBytes);
            if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
            {
                throw new LedgerSnapshotException(offset + 2, $"section \"{name}\" follows \"{previous}\"; sections are unique and in ascending order");
            }

            if (!known.Contains(name))
            {
                throw new LedgerSnapshotException(offset + 2,
                    $"the snapshot holds a section \"{name}\" that this build does not know (it knows {string.Join(", ", known.Order(StringComparer.Ordinal))}); " +
                    "a newer build wrote it, and dropping that state would be wrong");
            }

            long length = BinaryPrimitives.ReadInt64LittleEndian(frame[(2 + nameLength)..]);
            offset += 2 + nameLength + 8;
            if (length < 0 || length > snapshot.Length - offset)
            {
                throw new LedgerSnapshotException(offset - 8, $"section \"{name}\" claims {length} bytes; {snapshot.Length - offset} remain");
            }

            sections.Add(name, snapshot.Slice(offset, length));
            offset += length;
            previous = name;
        }

        if (offset != snapshot.Length)
        {
            throw new LedgerSnapshotException(offset, $"{snapshot.Length - offset} bytes follow the last section");
        }

        return sections;
    }

    private static void CheckSections(IReadOnlyList<SnapshotSection> sections)
    {
        if (sections.Count is < 1 or > MaxSections)
        {
            throw new ArgumentException($"A snapshot holds 1 to {MaxSections} sections; {sections.Count} were given.", nameof(sections));
        }

        for (int i = 0; i < sections.Count; i++)
        {
            string name = sections[i].Name;
            if (name.Length is < 1 or > MaxNameLength || !IsValidName(Encoding.ASCII.GetBytes(name)) ||
                (i > 0 && string.CompareOrdinal(sections[i - 1].Name, name) >= 0))
            {
                throw new ArgumentException($"Section name \"{name}\" is not 1 to {MaxNameLength} of [A-Za-z0-9.-], unique and in ascending order.", nameof(sections));
            }
        }
    }

    private static bool IsValidName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == (byte)'.' || b == (byte)'-'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>One state's part of a snapshot: its name in the envelope, its size, and how it writes itself.</summary>
internal abstract class SnapshotSection(string name)
{
    public string Name { get; } = name;

    /// <summary>The bytes <see cref="Write"/> writes (fixed between batches).</summary>
    public abstract long Size { get; }

    /// <summary>Writes exactly <see cref="Size"/> bytes.</summary>
    public abstract void Write(IBufferWriter<byte> destination);
}

/// <summary>The ledger's state machine as a snapshot section (its own format, version 1: LedgerStateMachine.Snapshot.cs).</summary>
internal sealed class LedgerSnapshotSection(LedgerStateMachine ledger) : SnapshotSection(SnapshotEnvelope.LedgerSection)
{
    public override long Size => ledger.SnapshotSize;

    public override void Write(IBufferWriter<byte> destination) => ledger.WriteSnapshot(destination);
}
