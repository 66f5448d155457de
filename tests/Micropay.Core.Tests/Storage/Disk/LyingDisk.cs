using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage.Disk;

/// <summary>
/// The planted bugs' one shape: the simulated disk, except that for the files <c>liesAbout</c> names, a write
/// <c>dropWrite</c> picks returns without writing and an fsync <c>dropFlush</c> picks returns without syncing (the data
/// stays in the page cache only), as code that skipped the write or the fsync would. Directory fsyncs stay honest.
/// The pickers are called once per write or fsync of a lied-about file, so a seeded picker keeps a run deterministic.
/// </summary>
internal sealed class LyingDisk(SimulatedDisk disk, Func<string, bool> liesAbout, Func<bool>? dropWrite = null, Func<bool>? dropFlush = null) : StoreFileSystem
{
    public override string? BootId => disk.BootId;

    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share)
    {
        StoreFile file = disk.OpenFile(path, mode, access, share);
        return liesAbout(path) ? new Lying(file, dropWrite, dropFlush) : file;
    }

    public override bool FileExists(string path) => disk.FileExists(path);

    public override void Move(string source, string destination, bool overwrite) => disk.Move(source, destination, overwrite);

    public override void Delete(string path) => disk.Delete(path);

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => disk.EnumerateFiles(directory, pattern);

    public override IReadOnlyList<string> CreateDirectory(string directory) => disk.CreateDirectory(directory);

    public override void SyncDirectory(string directory) => disk.SyncDirectory(directory);

    public override IDisposable Lock(string path) => disk.Lock(path);

    private sealed class Lying(StoreFile inner, Func<bool>? dropWrite, Func<bool>? dropFlush) : StoreFile
    {
        public override long Length => inner.Length;

        public override int Read(Span<byte> buffer, long offset) => inner.Read(buffer, offset);

        public override void Write(ReadOnlySpan<byte> data, long offset)
        {
            if (dropWrite?.Invoke() != true)
            {
                inner.Write(data, offset);
            }
        }

        public override void Flush()
        {
            if (dropFlush?.Invoke() != true)
            {
                inner.Flush();
            }
        }

        public override void SetLength(long length) => inner.SetLength(length);

        public override void Dispose() => inner.Dispose();
    }
}
