using Microsoft.Win32.SafeHandles;

namespace Micropay.Core.Storage;

/// <summary>A file of <see cref="OsFileSystem"/>: a <see cref="SafeFileHandle"/> and <see cref="RandomAccess"/>.</summary>
internal sealed class OsStoreFile(SafeFileHandle handle) : StoreFile
{
    // Linux's posix_fadvise(POSIX_FADV_DONTNEED) (4 on x64 and arm64): drop a range's clean pages from the page cache
    // (dirty ones are left alone). Advice only: where it is missing or fails, the pages stay cached, which is correct.
    private const int PosixFadviseDontNeed = 4;

    // Linux's sync_file_range(SYNC_FILE_RANGE_WRITE): start writing a range's dirty pages to the device and return at
    // once. Only a head start for the fsync that follows (it guarantees nothing by itself); where it is missing or
    // fails, the fsync simply does all the work.
    private const uint SyncFileRangeWrite = 2;

    private static bool s_fadviseUnavailable = !OperatingSystem.IsLinux();
    private static bool s_syncFileRangeUnavailable = !OperatingSystem.IsLinux();

    /// <inheritdoc />
    public override long Length => RandomAccess.GetLength(handle);

    /// <inheritdoc />
    public override int Read(Span<byte> buffer, long offset) => RandomAccess.Read(handle, buffer, offset);

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> data, long offset) => RandomAccess.Write(handle, data, offset);

    /// <inheritdoc />
    public override void Flush() => RandomAccess.FlushToDisk(handle);

    /// <inheritdoc />
    public override void SetLength(long length) => RandomAccess.SetLength(handle, length);

    /// <inheritdoc />
    public override void StartWriteback(long offset, long length)
    {
        if (s_syncFileRangeUnavailable)
        {
            return;
        }

        try
        {
            _ = OsFileSystem.NativeMethods.SyncFileRange(handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_syncFileRangeUnavailable = true;
        }
    }

    /// <inheritdoc />
    public override void DropFromPageCache(long offset, long length)
    {
        if (s_fadviseUnavailable)
        {
            return;
        }

        try
        {
            _ = OsFileSystem.NativeMethods.PosixFadvise((int)handle.DangerousGetHandle(), offset, length, PosixFadviseDontNeed);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_fadviseUnavailable = true;
        }
    }

    /// <inheritdoc />
    public override SnapshotMapping? TryMap(long offset, long length) => SnapshotMapping.Map(handle, offset, length);

    /// <inheritdoc />
    public override void Dispose() => handle.Dispose();
}
