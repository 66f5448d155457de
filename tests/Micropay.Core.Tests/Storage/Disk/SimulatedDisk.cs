using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Storage.Disk;

/// <summary>
/// A disk model for <see cref="FileLedgerStore"/>'s file-system seam: what was fsync'd is durable, what was only written
/// may be lost, kept or torn at 512-byte sectors when the power goes, and any call can fail with EIO on demand.
/// </summary>
/// <remarks>
/// <para><b>Files</b> are inodes with two images: the page cache (what reads return) and the disk. A write changes the
/// cache and marks its sectors dirty; <see cref="StoreFile.Flush"/> copies the dirty sectors and the length to the disk.
/// A failed flush behaves like Linux after an EIO ("fsyncgate"): a random subset of the dirty sectors reached the disk,
/// the rest are marked clean anyway, so reads still return them and no later flush writes them.</para>
/// <para><b>Directories</b> record creations, renames and deletions as pending operations; a directory fsync makes its
/// pending operations durable. Metadata is journaled in order (as ext4, XFS and APFS do), so a power cut keeps a random
/// prefix of each directory's pending operations.</para>
/// <para><b>Power loss</b> (<see cref="Restart"/> after <see cref="CutPower"/>, or after the budget of
/// <see cref="CutPowerAfter"/> ran out): every file's dirty sectors are each kept or lost, its length is the old or the
/// new one, the page cache is rebuilt from the disk, the boot id changes and every handle and lock of the old "process"
/// is dead. <see cref="KillProcess"/> is the other crash: handles and locks die, the page cache survives (SIGKILL).</para>
/// <para>Thread-safe (one lock), so the store's concurrent readers work; deterministic for a given seed and call order.</para>
/// </remarks>
internal sealed class SimulatedDisk : StoreFileSystem
{
    public const int SectorSize = 512;

    private readonly Lock _lock = new();
    private readonly Random _random;
    private readonly Dictionary<string, Inode> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Inode> _durableNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private readonly HashSet<string> _durableDirectories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DirectoryOperation>> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _locks = new(StringComparer.Ordinal);
    private int _generation;
    private int _boot;
    private bool _powerOff;
    private long _budget = long.MaxValue;

    public SimulatedDisk(int seed, string root)
    {
        _random = new Random(seed);
        for (string? path = Path.GetFullPath(root); path is not null; path = Path.GetDirectoryName(path))
        {
            _directories.Add(path);
            _durableDirectories.Add(path);
        }
    }

    /// <summary>When set, a call for which it returns true fails with an <see cref="IOException"/> (EIO) instead of running.</summary>
    public Func<DiskCall, bool>? FailWhen { get; set; }

    /// <summary>The number of operations that changed something or flushed (writes, flushes, truncations, directory changes and syncs).</summary>
    public long Operations { get; private set; }

    /// <summary>Whether the power is off (or the process killed): every call fails until <see cref="Restart"/>.</summary>
    public bool IsDown
    {
        get
        {
            lock (_lock)
            {
                return _powerOff;
            }
        }
    }

    /// <inheritdoc />
    public override string? BootId
    {
        get
        {
            lock (_lock)
            {
                return "boot-" + _boot;
            }
        }
    }

    /// <summary>Lets <paramref name="operations"/> more changing operations run, then cuts the power (the next one fails).</summary>
    public void CutPowerAfter(long operations)
    {
        lock (_lock)
        {
            _budget = operations;
        }
    }

    /// <summary>Cuts the power now: every call fails until <see cref="Restart"/>.</summary>
    public void CutPower()
    {
        lock (_lock)
        {
            _powerOff = true;
        }
    }

    /// <summary>The process dies (SIGKILL): its handles and locks are gone, the page cache and the disk stay as they are.</summary>
    public void KillProcess()
    {
        lock (_lock)
        {
            _generation++;
            _locks.Clear();
            _powerOff = false;
            _budget = long.MaxValue;
        }
    }

    /// <summary>Power comes back after a cut: unsynced data is lost, kept or torn; a new boot starts.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            foreach ((string directory, List<DirectoryOperation> operations) in _pending)
            {
                int kept = _random.Next(operations.Count + 1);
                for (int i = 0; i < kept; i++)
                {
                    ApplyDurably(operations[i]);
                }
            }

            _pending.Clear();
            foreach (string directory in _directories.Where(d => !_durableDirectories.Contains(d)).ToList())
            {
                _directories.Remove(directory);
            }

            _names.Clear();
            foreach ((string name, Inode inode) in _durableNames.ToList())
            {
                if (_durableDirectories.Contains(Path.GetDirectoryName(name)!))
                {
                    _names[name] = inode;
                }
                else
                {
                    _durableNames.Remove(name);
                }
            }

            foreach (Inode inode in _durableNames.Values.Distinct())
            {
                inode.LosePower(_random);
            }

            _generation++;
            _boot++;
            _locks.Clear();
            _powerOff = false;
            _budget = long.MaxValue;
        }
    }

    /// <summary>The bytes a read of <paramref name="path"/> returns now (page cache), or null when it does not exist.</summary>
    public byte[]? ReadAll(string path)
    {
        lock (_lock)
        {
            return _names.TryGetValue(Path.GetFullPath(path), out Inode? inode) ? inode.Cache.AsSpan(0, (int)inode.CacheLength).ToArray() : null;
        }
    }

    /// <summary>Replaces the cached bytes of <paramref name="path"/> at <paramref name="offset"/>, durably (damage on the platter).</summary>
    public void Corrupt(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            Inode inode = _names[Path.GetFullPath(path)];
            inode.Write(bytes, offset);
            inode.Flush(_random, fail: false);
        }
    }

    public override StoreFile OpenFile(string path, FileMode mode, FileAccess access, FileShare share)
    {
        path = Path.GetFullPath(path);
        lock (_lock)
        {
            bool creates = mode is FileMode.Create or FileMode.CreateNew or FileMode.OpenOrCreate;
            Check(new DiskCall(DiskOperation.Open, path), changes: creates && !_names.ContainsKey(path) || mode == FileMode.Create);
            string directory = Path.GetDirectoryName(path)!;
            if (!_directories.Contains(directory))
            {
                throw new DirectoryNotFoundException($"Could not find a part of the path '{path}'.");
            }

            if (_names.TryGetValue(path, out Inode? inode))
            {
                if (mode == FileMode.CreateNew)
                {
                    throw new IOException($"The file '{path}' already exists.");
                }

                if (mode == FileMode.Create || mode == FileMode.Truncate)
                {
                    inode.SetLength(0);
                }
            }
            else
            {
                if (!creates)
                {
                    throw new FileNotFoundException($"Could not find file '{path}'.", path);
                }

                inode = new Inode();
                _names[path] = inode;
                Pend(directory, new DirectoryOperation(DirectoryOperationKind.Create, path, null, inode));
            }

            return new SimulatedFile(this, inode, path, _generation);
        }
    }

    public override bool FileExists(string path)
    {
        lock (_lock)
        {
            Check(new DiskCall(DiskOperation.Stat, Path.GetFullPath(path)), changes: false);
            return _names.ContainsKey(Path.GetFullPath(path));
        }
    }

    public override void Move(string source, string destination, bool overwrite)
    {
        source = Path.GetFullPath(source);
        destination = Path.GetFullPath(destination);
        lock (_lock)
        {
            Check(new DiskCall(DiskOperation.Move, source), changes: true);
            if (!_names.TryGetValue(source, out Inode? inode))
            {
                throw new FileNotFoundException($"Could not find file '{source}'.", source);
            }

            if (!overwrite && _names.ContainsKey(destination))
            {
                throw new IOException($"The file '{destination}' already exists.");
            }

            _names.Remove(source);
            _names[destination] = inode;
            Pend(Path.GetDirectoryName(destination)!, new DirectoryOperation(DirectoryOperationKind.Rename, source, destination, inode));
        }
    }

    public override void Delete(string path)
    {
        path = Path.GetFullPath(path);
        lock (_lock)
        {
            Check(new DiskCall(DiskOperation.Delete, path), changes: true);
            if (_names.Remove(path))
            {
                Pend(Path.GetDirectoryName(path)!, new DirectoryOperation(DirectoryOperationKind.Delete, path, null, null));
            }
        }
    }

    public override IEnumerable<string> EnumerateFiles(string directory, string pattern)
    {
        directory = Path.GetFullPath(directory);
        int star = pattern.IndexOf('*', StringComparison.Ordinal);
        string prefix = pattern[..star];
        string suffix = pattern[(star + 1)..];
        lock (_lock)
        {
            Check(new DiskCall(DiskOperation.List, directory), changes: false);
            return _names.Keys
                .Where(name => Path.GetDirectoryName(name) == directory)
                .Where(name =>
                {
                    string file = Path.GetFileName(name);
                    return file.Length >= prefix.Length + suffix.Length &&
                        file.StartsWith(prefix, StringComparison.Ordinal) && file.EndsWith(suffix, StringComparison.Ordinal);
                })
                .Order(StringComparer.Ordinal)
                .ToList();
        }
    }

    public override IReadOnlyList<string> CreateDirectory(string directory)
    {
        directory = Path.GetFullPath(directory);
        lock (_lock)
        {
            var missing = new List<string>();
            for (string? path = directory; path is not null && !_directories.Contains(path); path = Path.GetDirectoryName(path))
            {
                missing.Add(path);
            }

            missing.Reverse();
            foreach (string path in missing)
            {
                Check(new DiskCall(DiskOperation.CreateDirectory, path), changes: true);
                _directories.Add(path);
                Pend(Path.GetDirectoryName(path)!, new DirectoryOperation(DirectoryOperationKind.CreateDirectory, path, null, null));
            }

            return missing;
        }
    }

    public override void SyncDirectory(string directory)
    {
        lock (_lock)
        {
            SyncDirectoryLocked(Path.GetFullPath(directory));
        }
    }

    private void SyncDirectoryLocked(string directory)
    {
        Check(new DiskCall(DiskOperation.SyncDirectory, directory), changes: true);
        if (_pending.Remove(directory, out List<DirectoryOperation>? operations))
        {
            foreach (DirectoryOperation operation in operations)
            {
                ApplyDurably(operation);
            }
        }
    }

    public override IDisposable Lock(string path)
    {
        path = Path.GetFullPath(path);
        lock (_lock)
        {
            Check(new DiskCall(DiskOperation.Lock, path), changes: false);
            if (!_locks.Add(path))
            {
                throw new IOException($"The file '{path}' is locked by another process.");
            }

            if (!_names.ContainsKey(path))
            {
                var inode = new Inode();
                _names[path] = inode;
                Pend(Path.GetDirectoryName(path)!, new DirectoryOperation(DirectoryOperationKind.Create, path, null, inode));
            }

            return new HeldLock(this, path, _generation);
        }
    }

    private void Pend(string directory, DirectoryOperation operation)
    {
        if (!_pending.TryGetValue(directory, out List<DirectoryOperation>? list))
        {
            list = [];
            _pending[directory] = list;
        }

        list.Add(operation);
    }

    private void ApplyDurably(DirectoryOperation operation)
    {
        switch (operation.Kind)
        {
            case DirectoryOperationKind.Create:
                _durableNames[operation.Path] = operation.Inode!;
                break;
            case DirectoryOperationKind.Rename:
                _durableNames.Remove(operation.Path);
                _durableNames[operation.Destination!] = operation.Inode!;
                break;
            case DirectoryOperationKind.Delete:
                _durableNames.Remove(operation.Path);
                break;
            case DirectoryOperationKind.CreateDirectory:
                _durableDirectories.Add(operation.Path);
                break;
        }
    }

    /// <summary>Fails the call when the power is off, the budget is spent or <see cref="FailWhen"/> says so; counts changing calls.</summary>
    private void Check(DiskCall call, bool changes)
    {
        if (_powerOff)
        {
            throw new IOException($"EIO (simulated): the disk has no power ({call.Operation} '{call.Path}').");
        }

        if (changes)
        {
            if (_budget <= 0)
            {
                _powerOff = true;
                throw new IOException($"EIO (simulated): the power was cut before {call.Operation} '{call.Path}'.");
            }

            _budget--;
            Operations++;
        }

        if (FailWhen?.Invoke(call) == true)
        {
            throw new IOException($"EIO (simulated): {call.Operation} '{call.Path}' failed.");
        }
    }

    private void CheckHandle(int generation, DiskCall call, bool changes)
    {
        if (generation != _generation)
        {
            throw new IOException($"EIO (simulated): the handle belongs to a process that crashed ({call.Operation} '{call.Path}').");
        }

        Check(call, changes);
    }

    private enum DirectoryOperationKind
    {
        Create,
        Rename,
        Delete,
        CreateDirectory,
    }

    private sealed record DirectoryOperation(DirectoryOperationKind Kind, string Path, string? Destination, Inode? Inode);

    /// <summary>One file's contents: the page cache, the disk, and which cached sectors are dirty.</summary>
    private sealed class Inode
    {
        public byte[] Cache = [];
        public long CacheLength;
        public byte[] Durable = [];
        public long DurableLength;
        public readonly SortedSet<long> Dirty = [];
        public bool LengthDirty;

        public void Write(ReadOnlySpan<byte> data, long offset)
        {
            long end = offset + data.Length;
            if (end > CacheLength)
            {
                // The gap between the old end and the write reads as zeros and must reach the disk as such.
                MarkDirty(CacheLength, end);
                Grow(ref Cache, end);
                CacheLength = end;
                LengthDirty = true;
            }

            data.CopyTo(Cache.AsSpan((int)offset));
            MarkDirty(offset, end);
        }

        public void SetLength(long length)
        {
            if (length < CacheLength)
            {
                Array.Clear(Cache, (int)length, (int)(CacheLength - length));
                if (length % SectorSize != 0)
                {
                    MarkDirty(length - 1, length);
                }

                Dirty.RemoveWhere(sector => sector * SectorSize >= length);
            }
            else if (length > CacheLength)
            {
                Grow(ref Cache, length);
                MarkDirty(CacheLength, length);
            }

            CacheLength = length;
            LengthDirty = true;
        }

        /// <summary>fsync: the dirty sectors and the length reach the disk; when it fails, a random subset does and the rest are marked clean anyway.</summary>
        public void Flush(Random random, bool fail)
        {
            if (LengthDirty && (!fail || random.Next(2) == 0))
            {
                Grow(ref Durable, CacheLength);
                if (CacheLength < DurableLength)
                {
                    Array.Clear(Durable, (int)CacheLength, (int)(DurableLength - CacheLength));
                }

                DurableLength = CacheLength;
            }

            foreach (long sector in Dirty)
            {
                if (!fail || random.Next(2) == 0)
                {
                    CopySector(Cache, CacheLength, ref Durable, sector);
                }
            }

            Dirty.Clear();
            LengthDirty = false;
        }

        /// <summary>The power goes: each dirty sector is kept or lost, the length is the old or the new one; the cache is the disk again.</summary>
        public void LosePower(Random random)
        {
            foreach (long sector in Dirty)
            {
                if (random.Next(2) == 0)
                {
                    CopySector(Cache, CacheLength, ref Durable, sector);
                }
            }

            if (LengthDirty && random.Next(2) == 0)
            {
                Grow(ref Durable, CacheLength);
                if (CacheLength < DurableLength)
                {
                    Array.Clear(Durable, (int)CacheLength, (int)(DurableLength - CacheLength));
                }

                DurableLength = CacheLength;
            }

            Dirty.Clear();
            LengthDirty = false;
            Cache = Durable.AsSpan(0, (int)DurableLength).ToArray();
            CacheLength = DurableLength;
        }

        private void MarkDirty(long from, long to)
        {
            for (long sector = from / SectorSize; sector * SectorSize < to; sector++)
            {
                Dirty.Add(sector);
            }
        }

        private static void CopySector(byte[] source, long sourceLength, ref byte[] destination, long sector)
        {
            long start = sector * SectorSize;
            if (start >= sourceLength)
            {
                return;
            }

            int count = (int)Math.Min(SectorSize, sourceLength - start);
            Grow(ref destination, start + count);
            source.AsSpan((int)start, count).CopyTo(destination.AsSpan((int)start));
        }

        private static void Grow(ref byte[] array, long length)
        {
            if (array.Length < length)
            {
                Array.Resize(ref array, (int)Math.Max(length, array.Length * 2L));
            }
        }
    }

    private sealed class SimulatedFile(SimulatedDisk disk, Inode inode, string path, int generation) : StoreFile
    {
        private bool _disposed;

        public override long Length
        {
            get
            {
                lock (disk._lock)
                {
                    Use(DiskOperation.Stat, changes: false);
                    return inode.CacheLength;
                }
            }
        }

        public override int Read(Span<byte> buffer, long offset)
        {
            lock (disk._lock)
            {
                Use(DiskOperation.Read, changes: false);
                if (offset >= inode.CacheLength)
                {
                    return 0;
                }

                int count = (int)Math.Min(buffer.Length, inode.CacheLength - offset);
                inode.Cache.AsSpan((int)offset, count).CopyTo(buffer);
                return count;
            }
        }

        public override void Write(ReadOnlySpan<byte> data, long offset)
        {
            lock (disk._lock)
            {
                try
                {
                    Use(DiskOperation.Write, changes: true);
                }
                catch (IOException) when (!disk._powerOff && generation == disk._generation)
                {
                    // An injected EIO: a prefix of whole sectors may have reached the page cache first (a short write).
                    int sectors = disk._random.Next((data.Length / SectorSize) + 1);
                    if (sectors > 0)
                    {
                        inode.Write(data[..(sectors * SectorSize)], offset);
                    }

                    throw;
                }

                inode.Write(data, offset);
            }
        }

        public override void Flush()
        {
            lock (disk._lock)
            {
                try
                {
                    Use(DiskOperation.Flush, changes: true);
                }
                catch (IOException) when (!disk._powerOff && generation == disk._generation)
                {
                    inode.Flush(disk._random, fail: true);
                    throw;
                }

                inode.Flush(disk._random, fail: false);
            }
        }

        public override void SetLength(long length)
        {
            lock (disk._lock)
            {
                Use(DiskOperation.SetLength, changes: true);
                inode.SetLength(length);
            }
        }

        public override void Dispose() => _disposed = true;

        private void Use(DiskOperation operation, bool changes)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            disk.CheckHandle(generation, new DiskCall(operation, path), changes);
        }
    }

    private sealed class HeldLock(SimulatedDisk disk, string path, int generation) : IDisposable
    {
        public void Dispose()
        {
            lock (disk._lock)
            {
                if (generation == disk._generation)
                {
                    disk._locks.Remove(path);
                }
            }
        }
    }
}
