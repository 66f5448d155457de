namespace Micropay.Core.Storage;

/// <summary>Settings of a <see cref="FileLedgerStore"/>.</summary>
public sealed class FileLedgerStoreOptions
{
    /// <summary>The default <see cref="SegmentSizeBytes"/>: 64 MiB.</summary>
    public const long DefaultSegmentSizeBytes = 64L * 1024 * 1024;

    /// <summary>The smallest allowed <see cref="SegmentSizeBytes"/>: 4 KiB.</summary>
    public const long MinSegmentSizeBytes = 4096;

    /// <summary>
    /// The size a segment file stays within. A batch never spans two segments: a new segment starts when the next
    /// batch would not fit in the current one. A single batch larger than this gets a segment of its own (which then
    /// exceeds the bound). Default <see cref="DefaultSegmentSizeBytes"/>.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = DefaultSegmentSizeBytes;
}
