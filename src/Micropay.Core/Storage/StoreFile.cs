namespace Micropay.Core.Storage;

/// <summary>An open file of a <see cref="StoreFileSystem"/>. Positional reads and writes; no shared file position.</summary>
internal abstract class StoreFile : IDisposable
{
    /// <summary>The file's current length.</summary>
    public abstract long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns how many (0 at the end).</summary>
    public abstract int Read(Span<byte> buffer, long offset);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (extending the file as needed). Not durable until <see cref="Flush"/>.</summary>
    public abstract void Write(ReadOnlySpan<byte> data, long offset);

    /// <summary>
    /// Makes the file's contents and length durable (fsync; <c>F_FULLFSYNC</c> on macOS). A failure means some written
    /// data may never reach the disk even though reads still return it: the caller must not assume a retry fixes it.
    /// </summary>
    public abstract void Flush();

    /// <summary>Truncates or extends the file. Not durable until <see cref="Flush"/>.</summary>
    public abstract void SetLength(long length);

    /// <summary>A hint: start writing the range's dirty pages to the device (Linux <c>sync_file_range</c>). Guarantees nothing.</summary>
    public virtual void StartWriteback(long offset, long length)
    {
    }

    /// <summary>A hint: drop the range's clean pages from the page cache (Linux <c>posix_fadvise(DONTNEED)</c>); 0 length means to the end.</summary>
    public virtual void DropFromPageCache(long offset, long length)
    {
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes from <paramref name="offset"/> read-only (copy-on-write), or returns null where
    /// the file system cannot map (the caller then reads into memory).
    /// </summary>
    public virtual SnapshotMapping? TryMap(long offset, long length) => null;

    /// <summary>Closes the file.</summary>
    public abstract void Dispose();
}
