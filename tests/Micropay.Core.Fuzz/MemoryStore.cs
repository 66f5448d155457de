using Micropay.Core.Storage;

namespace Micropay.Core.Fuzz;

/// <summary>A read-only store file over a byte array, so the file store's readers run on fuzz input without a disk.</summary>
internal sealed class MemoryStoreFile(byte[] data) : StoreFile
{
    public override long Length => data.Length;

    public override int Read(Span<byte> buffer, long offset)
    {
        if (offset >= data.Length)
        {
            return 0;
        }

        int count = (int)Math.Min(buffer.Length, data.Length - offset);
        data.AsSpan((int)offset, count).CopyTo(buffer);
        return count;
    }

    public override void Write(ReadOnlySpan<byte> data, long offset) => throw new NotSupportedException("The fuzz file is read-only.");

    public override void Flush()
    {
    }

    public override void SetLength(long length) => throw new NotSupportedException("The fuzz file is read-only.");

    public override void Dispose()
    {
    }
}

/// <summary>A file system of one read-only file, for the readers that open a path (the snapshot reader).</summary>
internal sealed class MemoryFileSystem(string path, byte[] data) : StoreFileSystem
{
    public override string? BootId => null;

    public override StoreFile OpenFile(string path1, FileMode mode, FileAccess access, FileShare share) =>
        path1 == path && mode == FileMode.Open && access == FileAccess.Read
            ? new MemoryStoreFile(data)
            : throw new NotSupportedException("The fuzz file system only opens its one file for reading.");

    public override bool FileExists(string path1) => path1 == path;

    public override void Move(string source, string destination, bool overwrite) => throw new NotSupportedException();

    public override void Delete(string path1) => throw new NotSupportedException();

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern) => [path];

    public override IReadOnlyList<string> CreateDirectory(string directory) => throw new NotSupportedException();

    public override void SyncDirectory(string directory) => throw new NotSupportedException();

    public override IDisposable Lock(string path1) => throw new NotSupportedException();
}
