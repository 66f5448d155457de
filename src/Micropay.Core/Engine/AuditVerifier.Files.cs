using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The verifier's small parts: a read-only, buffered file reader; the audit log's files; the tree as a compact range.
public static partial class AuditVerifier
{
    /// <summary>Receives each complete subtree a <see cref="TreeBuilder"/> finishes at a height that is a multiple of the tile height.</summary>
    private interface ITileSink
    {
        /// <summary>The subtree of 256^<paramref name="level"/> leaves at <paramref name="index"/> (level 0: a leaf) hashes to <paramref name="hash"/>.</summary>
        void Completed(int level, long index, ReadOnlySpan<byte> hash);
    }

    /// <summary>
    /// An RFC 9162 tree as a compact range: the hash of each complete subtree of the size's binary decomposition, so the
    /// root at the current size costs O(log n) and the whole tree O(log n) memory, whatever its size.
    /// </summary>
    private sealed class TreeBuilder
    {
        private const int MaxHeight = 63;
        private readonly byte[] _frontier = new byte[(MaxHeight + 1) * MerkleHashes.Size];

        /// <summary>The number of leaves.</summary>
        public long Size { get; private set; }

        /// <summary>Appends a leaf hash; each complete pair it finishes merges one level up (the binary carry of the size).</summary>
        public void Append(ReadOnlySpan<byte> leafHash, ITileSink sink)
        {
            Span<byte> carry = stackalloc byte[MerkleHashes.Size];
            leafHash.CopyTo(carry);
            long n = Size;
            sink.Completed(0, n, carry);
            int height = 0;
            while ((n & (1L << height)) != 0)
            {
                MerkleHashes.Node(Subtree(height), carry, carry);
                height++;
                if (height % AuditLog.TileHeight == 0)
                {
                    sink.Completed(height / AuditLog.TileHeight, n >> height, carry);
                }
            }

            carry.CopyTo(_frontier.AsSpan(height * MerkleHashes.Size, MerkleHashes.Size));
            Size = n + 1;
        }

        /// <summary>Writes the root: the complete subtrees folded from the smallest (rightmost) up.</summary>
        public void GetRoot(Span<byte> destination)
        {
            if (Size == 0)
            {
                MerkleHashes.EmptyRoot.CopyTo(destination);
                return;
            }

            bool first = true;
            for (int height = 0; height <= MaxHeight; height++)
            {
                if ((Size & (1L << height)) == 0)
                {
                    continue;
                }

                if (first)
                {
                    Subtree(height).CopyTo(destination);
                    first = false;
                }
                else
                {
                    MerkleHashes.Node(Subtree(height), destination[..MerkleHashes.Size], destination);
                }
            }
        }

        /// <summary>Sets the tree to <paramref name="size"/> leaves with a recorded frontier (largest subtree first), as a snapshot keeps it.</summary>
        public void Seed(long size, ReadOnlySpan<byte> frontier)
        {
            Array.Clear(_frontier);
            int taken = 0;
            for (int height = MaxHeight; height >= 0; height--)
            {
                if ((size & (1L << height)) != 0)
                {
                    frontier.Slice(taken++ * MerkleHashes.Size, MerkleHashes.Size).CopyTo(_frontier.AsSpan(height * MerkleHashes.Size));
                }
            }

            Size = size;
        }

        private ReadOnlySpan<byte> Subtree(int height) => _frontier.AsSpan(height * MerkleHashes.Size, MerkleHashes.Size);
    }

    /// <summary>A file opened read-only (or found missing), read at offsets through a small buffer; never throws on reads.</summary>
    private sealed class FileReader : IDisposable
    {
        private const int BufferSize = 1 << 16;
        private readonly StoreFile? _file;
        private byte[] _buffer = [];
        private long _bufferOffset;
        private int _bufferCount;

        private FileReader(string path, StoreFile? file, string? error)
        {
            Path = path;
            _file = file;
            Error = error;
            try
            {
                Length = file?.Length ?? 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _file = null;
                file?.Dispose();
                Error = e.Message;
            }
        }

        /// <summary>The file's full path.</summary>
        public string Path { get; }

        /// <summary>Whether the file was opened.</summary>
        public bool Exists => _file is not null;

        /// <summary>Its length when opened (0 when missing).</summary>
        public long Length { get; }

        /// <summary>Why it cannot be read (missing, or the last read's failure), or null.</summary>
        public string? Error { get; private set; }

        public static FileReader Open(StoreFileSystem fs, string path)
        {
            try
            {
                return new FileReader(path, fs.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), null);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return new FileReader(path, null, "the file is missing");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileReader(path, null, e.Message);
            }
        }

        /// <summary>Reads exactly <paramref name="destination"/>'s length at <paramref name="offset"/>; false when the file ends first, is missing or fails.</summary>
        public bool TryRead(long offset, Span<byte> destination)
        {
            if (_file is null || offset < 0 || offset > Length - destination.Length)
            {
                return false;
            }

            try
            {
                if (destination.Length > BufferSize)
                {
                    return ReadFully(offset, destination) == destination.Length;
                }

                if (offset < _bufferOffset || offset + destination.Length > _bufferOffset + _bufferCount)
                {
                    if (_buffer.Length == 0)
                    {
                        _buffer = new byte[BufferSize];
                    }

                    _bufferOffset = offset;
                    _bufferCount = ReadFully(offset, _buffer.AsSpan(0, (int)Math.Min(BufferSize, Length - offset)));
                    if (_bufferCount < destination.Length)
                    {
                        return false;
                    }
                }

                _buffer.AsSpan((int)(offset - _bufferOffset), destination.Length).CopyTo(destination);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Error = e.Message;
                _bufferCount = 0;
                return false;
            }
        }

        public void Dispose() => _file?.Dispose();

        private int ReadFully(long offset, Span<byte> destination)
        {
            int total = 0;
            while (total < destination.Length)
            {
                int read = _file!.Read(destination[total..], offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }
    }

    /// <summary>The audit log's files (layouts in <see cref="AuditLog"/>), each opened read-only or found missing.</summary>
    private sealed class AuditFiles : IDisposable
    {
        /// <summary>The levels of tiles: hashes-0.bin to hashes-7.bin.</summary>
        public const int Levels = 8;

        private AuditFiles(StoreFileSystem fs, string directory)
        {
            Results = FileReader.Open(fs, System.IO.Path.Combine(directory, "results.bin"));
            Batches = FileReader.Open(fs, System.IO.Path.Combine(directory, "batches.bin"));
            Checkpoints = FileReader.Open(fs, System.IO.Path.Combine(directory, "checkpoints.bin"));
            for (int level = 0; level < Levels; level++)
            {
                Hashes[level] = FileReader.Open(fs, System.IO.Path.Combine(directory, $"hashes-{level}.bin"));
            }
        }

        public FileReader Results { get; }

        public FileReader Batches { get; }

        public FileReader Checkpoints { get; }

        public FileReader[] Hashes { get; } = new FileReader[Levels];

        public static AuditFiles Open(StoreFileSystem fs, string directory) => new(fs, directory);

        public void Dispose()
        {
            Results.Dispose();
            Batches.Dispose();
            Checkpoints.Dispose();
            foreach (FileReader level in Hashes)
            {
                level.Dispose();
            }
        }
    }
}
