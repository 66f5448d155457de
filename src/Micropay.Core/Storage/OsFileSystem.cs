using System.Runtime.InteropServices;

namespace Micropay.Core.Storage;

/// <summary>The operating system's file system, for <see cref="FileLedgerStore"/>: .NET's file APIs, plus libc where .NET has no call.</summary>
internal sealed partial class OsFileSystem : StoreFileSystem
{
    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";

    private readonly Lazy<string?> _bootId = new(ReadBootId);

    /// <inheritdoc />
    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share) =>
        new OsStoreFile(File.OpenHandle(path, mode, access, share));

    /// <inheritdoc />
    public override bool FileExists(string path) => File.Exists(path);

    /// <inheritdoc />
    public override void Move(string source, string destination, bool overwrite) => File.Move(source, destination, overwrite);

    /// <inheritdoc />
    public override void Delete(string path) => File.Delete(path);

    /// <inheritdoc />
    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => Directory.EnumerateFiles(directory, pattern);

    /// <inheritdoc />
    public override IReadOnlyList<string> CreateDirectory(string directory)
    {
        var missing = new List<string>();
        for (string? path = Path.GetFullPath(directory); path is not null && !Directory.Exists(path); path = Path.GetDirectoryName(path))
        {
            missing.Add(path);
        }

        missing.Reverse();
        Directory.CreateDirectory(directory);
        return missing;
    }

    /// <inheritdoc />
    public override IDisposable Lock(string path) =>
        // FileShare.None: on Windows a sharing-mode lock; on Unix .NET takes an exclusive advisory flock(), which another
        // process (or another FileStream in this one) honouring the same protocol cannot also take.
        new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);

    /// <inheritdoc />
    public override string? BootId => _bootId.Value;

    private static string? ReadBootId()
    {
        try
        {
            return OperatingSystem.IsLinux() ? File.ReadAllText(BootIdPath).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// .NET has no API to fsync a directory: FileStream and File.OpenHandle refuse to open one. On Linux, macOS and
    /// FreeBSD this calls open(2) with O_RDONLY (which may open a directory), fsync(2) (on macOS fcntl(F_FULLFSYNC),
    /// since plain fsync there does not flush the drive's cache; fsync where the file system refuses it) and close(2)
    /// from libc. On Windows it does nothing: NTFS journals metadata, and FlushFileBuffers on a directory handle needs
    /// backup semantics that .NET does not expose; renames there are as durable as the file system makes them.
    /// File contents go through <see cref="RandomAccess.FlushToDisk"/>, which already uses F_FULLFSYNC on macOS.
    /// </remarks>
    public override void SyncDirectory(string directory)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return;
        }

        int fd = NativeMethods.Open(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"The directory '{directory}' cannot be opened to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            const int EINTR = 4;
            while (FullSync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw new IOException($"Fsync of the directory '{directory}' failed (errno {errno}).");
                }
            }
        }
        finally
        {
            _ = NativeMethods.Close(fd);
        }
    }

    private static int FullSync(int fd)
    {
        // macOS's F_FULLFSYNC (fcntl command 51): flush through the drive's write cache. Some file systems refuse it;
        // plain fsync is then the best there is.
        const int FFullFsync = 51;
        if (OperatingSystem.IsMacOS() && NativeMethods.Fcntl(fd, FFullFsync, 0) == 0)
        {
            return 0;
        }

        return NativeMethods.FSync(fd);
    }

    internal static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        internal static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int command, int argument);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
        internal static partial int SyncFileRange(nint fd, long offset, long nbytes, uint flags);

        [LibraryImport("libc", EntryPoint = "posix_fadvise", SetLastError = true)]
        internal static partial int PosixFadvise(int fd, long offset, long length, int advice);
    }
}
