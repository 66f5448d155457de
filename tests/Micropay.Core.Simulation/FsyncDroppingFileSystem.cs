using Micropay.Core.Storage;
using Micropay.Core.Tests.Storage.Disk;

namespace Micropay.Core.Simulation;

/// <summary>
/// The planted bug: a file system over the simulated disk that silently drops one file fsync in four (the flush
/// returns, the data stays in the page cache only), as a store that skipped an fsync before acknowledging would.
/// Deterministic: its own random source comes from the run's seed.
/// </summary>
internal sealed class FsyncDroppingFileSystem(SimulatedDisk disk, Random random) : StoreFileSystem
{
    public override string? BootId => disk.BootId;

    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share) => new Lying(disk.OpenFile(path, mode, access, share), random);

    public override bool FileExists(string path) => disk.FileExists(path);

    public override void Move(string source, string destination, bool overwrite) => disk.Move(source, destination, overwrite);

    public override void Delete(string path) => disk.Delete(path);

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => disk.EnumerateFiles(directory, pattern);

    public override IReadOnlyList<string> CreateDirectory(string directory) => disk.CreateDirectory(directory);

    public override void SyncDirectory(string directory) => disk.SyncDirectory(directory);

    public override IDisposable Lock(string path) => disk.Lock(path);

    private sealed class Lying(StoreFile inner, Random random) : StoreFile
    {
        public override long Length => inner.Length;

        public override int Read(Span<byte> buffer, long offset) => inner.Read(buffer, offset);

        public override void Write(ReadOnlySpan<byte> data, long offset) => inner.Write(data, offset);

        public override void Flush()
        {
            if (random.Next(4) != 0)
            {
                inner.Flush();
            }
        }

        public override void SetLength(long length) => inner.SetLength(length);

        public override void Dispose() => inner.Dispose();
    }
}
