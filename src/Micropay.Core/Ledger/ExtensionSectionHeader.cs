using System.Buffers.Binary;

namespace Micropay.Core.Ledger;

/// <summary>
/// The 8-byte header every extension's snapshot section starts with (channels, keys): a 4-byte version and a 4-byte
/// count of the records that follow, little-endian. Read in one place, so each section reports a bad header alike.
/// </summary>
internal static class ExtensionSectionHeader
{
    /// <summary>The header's size: 8 bytes.</summary>
    public const int Size = 8;

    /// <summary>Writes the header.</summary>
    public static void Write(Span<byte> destination, uint version, int count)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, version);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], count);
    }

    /// <summary>Checks the header of section <paramref name="sectionName"/> and returns its record count.</summary>
    /// <exception cref="LedgerSnapshotException">The section is shorter than the header, of another version, or claims a negative count.</exception>
    public static int Read(ReadOnlySpan<byte> section, string sectionName, uint version, string records)
    {
        if (section.Length < Size)
        {
            throw new LedgerSnapshotException(0, $"the \"{sectionName}\" section is shorter than its {Size}-byte header");
        }

        uint found = BinaryPrimitives.ReadUInt32LittleEndian(section);
        if (found != version)
        {
            throw new LedgerSnapshotException(0, $"the \"{sectionName}\" section has version {found}; this build reads version {version}");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(section[4..]);
        return count >= 0 ? count : throw new LedgerSnapshotException(4, $"the \"{sectionName}\" section claims {count} {records}");
    }
}
