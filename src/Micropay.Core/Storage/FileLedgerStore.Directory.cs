using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;

namespace Micropay.Core.Storage;

// Making a rename (or a file creation or deletion) durable: fsync the directory that holds the name.
public sealed partial class FileLedgerStore
{
    /// <summary>Flushes <paramref name="directory"/>'s entries to disk where the platform needs and allows it.</summary>
    /// <remarks>
    /// .NET has no API to fsync a directory: FileStream and File.OpenHandle refuse to open one. On Linux, macOS and
    /// FreeBSD this calls open(2) with O_RDONLY (which may open a directory), fsync(2) and close(2) from libc. On
    /// Windows it does nothing: NTFS journals metadata, and FlushFileBuffers on a directory handle needs backup
    /// semantics that .NET does not expose; renames there are as durable as the file system makes them.
    /// </remarks>
    private static void SyncDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return;
        }

        int fd = NativeMethods.Open(directory, 0);
        if (fd < 0)
        {
            throw new LedgerStoreException($"The directory '{directory}' cannot be opened to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            const int EINTR = 4;
            while (NativeMethods.FSync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw new LedgerStoreException($"Fsync of the directory '{directory}' failed (errno {errno}).");
                }
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
        internal static partial int SyncFileRange(nint fd, long offset, long nbytes, uint flags);

        [LibraryImport("libc", EntryPoint = "posix_fadvise", SetLastError = true)]
        internal static partial int PosixFadvise(int fd, long offset, long length, int advice);
    }

    // Linux's posix_fadvise(POSIX_FADV_DONTNEED) (4 on x64 and arm64): drop a range's clean pages from the page cache
    // (dirty ones are left alone). Advice only: where it is missing or fails, the pages stay cached, which is correct.
    private const int PosixFadviseDontNeed = 4;

    private static bool s_fadviseUnavailable = !OperatingSystem.IsLinux();

    private static void DropFromPageCache(SafeFileHandle handle, long offset, long length)
    {
        if (s_fadviseUnavailable)
        {
            return;
        }

        try
        {
            _ = NativeMethods.PosixFadvise((int)handle.DangerousGetHandle(), offset, length, PosixFadviseDontNeed);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_fadviseUnavailable = true;
        }
    }

    // Linux's sync_file_range(SYNC_FILE_RANGE_WRITE): start writing a range's dirty pages to the device and return
    // at once. Only a head start for the fsync that follows (it guarantees nothing by itself); where it is missing
    // or fails, the fsync simply does all the work.
    private const uint SyncFileRangeWrite = 2;

    private static bool s_syncFileRangeUnavailable = !OperatingSystem.IsLinux();

    private static void StartWriteback(SafeFileHandle handle, long offset, long length)
    {
        if (s_syncFileRangeUnavailable)
        {
            return;
        }

        try
        {
            _ = NativeMethods.SyncFileRange(handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_syncFileRangeUnavailable = true;
        }
    }
}
