using Micropay.Core.Storage;
using Micropay.Core.Tests.Storage.Disk;

namespace Micropay.Core.Simulation;

/// <summary>
/// The planted bugs: a file system over the simulated disk that lies to the code above it, as a store or audit log with
/// the bug would. <see cref="PlantedBug.DropFsync"/>: one file fsync in four returns without syncing (the data stays in
/// the page cache only), as a store that skipped an fsync before acknowledging would. <see cref="PlantedBug.DropTileWrite"/>:
/// one write in eight to an audit tile file (<c>hashes-L.bin</c>) returns without writing, as an audit log that lost a
/// tile would. Deterministic: its random source comes from the run's seed.
/// </summary>
internal sealed class LyingFileSystem(SimulatedDisk disk, Random random, PlantedBug bug) : StoreFileSystem
{
    public override string? BootId => disk.BootId;

    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share) =>
        new Lying(disk.OpenFile(path, mode, access, share), random, bug, isTile: Path.GetFileName(path).StartsWith("hashes-", StringComparison.Ordinal));

    public override bool FileExists(string path) => disk.FileExists(path);

    public override void Move(string source, string destination, bool overwrite) => disk.Move(source, destination, overwrite);

    public override void Delete(string path) => disk.Delete(path);

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => disk.EnumerateFiles(directory, pattern);

    public override IReadOnlyList<string> CreateDirectory(string directory) => disk.CreateDirectory(directory);

    public override void SyncDirectory(string directory) => disk.SyncDirectory(directory);

    public override IDisposable Lock(string path) => disk.Lock(path);

    private sealed class Lying(StoreFile inner, Random random, PlantedBug bug, bool isTile) : StoreFile
    {
        public override long Length => inner.Length;

        public override int Read(Span<byte> buffer, long offset) => inner.Read(buffer, offset);

        public override void Write(ReadOnlySpan<byte> data, long offset)
        {
            if (bug != PlantedBug.DropTileWrite || !isTile || random.Next(8) != 0)
            {
                inner.Write(data, offset);
            }
        }

        public override void Flush()
        {
            if (bug != PlantedBug.DropFsync || random.Next(4) != 0)
            {
                inner.Flush();
            }
        }

        public override void SetLength(long length) => inner.SetLength(length);

        public override void Dispose() => inner.Dispose();
    }
}
