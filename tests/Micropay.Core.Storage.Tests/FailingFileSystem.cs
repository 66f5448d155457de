namespace Micropay.Core.Storage.Tests;

/// <summary>
/// The operating system's file system, with one switch: <see cref="FailNextFlush"/> makes the next file fsync through
/// it fail with an <see cref="IOException"/> (EIO) after doing nothing, so the store's own failure path runs on a real
/// directory. One per store instance, so a store reopened at the same location writes normally.
/// </summary>
internal sealed class FailingFileSystem : StoreFileSystem
{
    private readonly StoreFileSystem _inner = Os;
    private int _failNextFlush;

    /// <summary>Arms one failure: the next <see cref="StoreFile.Flush"/> of any file opened through this instance.</summary>
    public void FailNextFlush() => Volatile.Write(ref _failNextFlush, 1);

    public override string? BootId => _inner.BootId;

    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share) =>
        new File(this, _inner.OpenFile(path, mode, access, share));

    public override bool FileExists(string path) => _inner.FileExists(path);

    public override void Move(string source, string destination, bool overwrite) => _inner.Move(source, destination, overwrite);

    public override void Delete(string path) => _inner.Delete(path);

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => _inner.EnumerateFiles(directory, pattern);

    public override IReadOnlyList<string> CreateDirectory(string directory) => _inner.CreateDirectory(directory);

    public override void SyncDirectory(string directory) => _inner.SyncDirectory(directory);

    public override IDisposable Lock(string path) => _inner.Lock(path);

    private sealed class File(FailingFileSystem owner, StoreFile inner) : StoreFile
    {
        public override long Length => inner.Length;

        public override int Read(Span<byte> buffer, long offset) => inner.Read(buffer, offset);

        public override void Write(ReadOnlySpan<byte> data, long offset) => inner.Write(data, offset);

        public override void Flush()
        {
            if (Interlocked.Exchange(ref owner._failNextFlush, 0) != 0)
            {
                throw new IOException("EIO (injected by the test): fsync failed.");
            }

            inner.Flush();
        }

        public override void SetLength(long length) => inner.SetLength(length);

        public override void StartWriteback(long offset, long length) => inner.StartWriteback(offset, length);

        public override void DropFromPageCache(long offset, long length) => inner.DropFromPageCache(offset, length);

        public override SnapshotMapping? TryMap(long offset, long length) => inner.TryMap(offset, length);

        public override void Dispose() => inner.Dispose();
    }
}
