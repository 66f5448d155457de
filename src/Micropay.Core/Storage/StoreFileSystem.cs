namespace Micropay.Core.Storage;

/// <summary>
/// Every file-system call <see cref="FileLedgerStore"/> makes, behind one seam: the operating system's by default
/// (<see cref="Os"/>), a modelled disk in the power-loss tests (one that loses, keeps or tears what was written but not
/// fsync'd, and fails any call on demand).
/// </summary>
/// <remarks>
/// Failures are reported as <see cref="IOException"/> (or <see cref="UnauthorizedAccessException"/>), whatever the
/// call, so the store has one rule for them. Directory entries (create, rename, delete) are durable only after
/// <see cref="SyncDirectory"/>; file contents only after <see cref="StoreFile.Flush"/>. The cost of the seam is one
/// virtual call per operation, next to a system call.
/// </remarks>
internal abstract class StoreFileSystem
{
    /// <summary>The operating system's file system: the store's default.</summary>
    public static StoreFileSystem Os { get; } = new OsFileSystem();

    /// <summary>Opens (or creates, per <paramref name="mode"/>) a file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist and <paramref name="mode"/> does not create it.</exception>
    public abstract StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share);

    /// <summary>Whether a file exists (directory entries as the running system sees them, durable or not).</summary>
    public abstract bool FileExists(string path);

    /// <summary>Renames a file; with <paramref name="overwrite"/>, atomically replaces the destination.</summary>
    public abstract void Move(string source, string destination, bool overwrite);

    /// <summary>Deletes a file; nothing happens when it does not exist. Open handles keep reading the unlinked file.</summary>
    public abstract void Delete(string path);

    /// <summary>The full paths of the files in <paramref name="directory"/> whose names match <paramref name="pattern"/> (one <c>*</c>).</summary>
    public abstract IEnumerable<string> EnumerateFiles(string directory, string pattern);

    /// <summary>Creates <paramref name="directory"/> and any missing parent; returns the ones created, outermost first. Not durable
    /// until each one's parent is synced (<see cref="SyncDirectory"/>).</summary>
    public abstract IReadOnlyList<string> CreateDirectory(string directory);

    /// <summary>Makes the entries of <paramref name="directory"/> (creations, renames, deletions) durable.</summary>
    public abstract void SyncDirectory(string directory);

    /// <summary>Takes an exclusive lock on <paramref name="path"/> (created if missing), held until the result is disposed.</summary>
    /// <exception cref="IOException">Another process or instance holds it.</exception>
    public abstract IDisposable Lock(string path);

    /// <summary>
    /// An identifier of the current boot of the machine (Linux's <c>/proc/sys/kernel/random/boot_id</c>), or null where the
    /// platform has none. Two reads differ only across a reboot, i.e. only when the page cache was lost.
    /// </summary>
    public abstract string? BootId { get; }
}
