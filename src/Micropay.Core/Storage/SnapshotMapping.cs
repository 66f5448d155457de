using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Micropay.Core.Storage;

/// <summary>
/// The state bytes of one snapshot file, read through a memory mapping of the file instead of a copy: the pages come
/// from the page cache, so no fresh memory is faulted in and zeroed for them (on a virtual machine with free page
/// reporting, reading a large snapshot into a new array made that the largest cost of an open: benchmarks/README.md).
/// </summary>
/// <remarks>
/// <para>Invariants: the view is mapped copy-on-write (a stray write through the memory changes a private page, never
/// the file, and cannot fault) and holds one added reference on the view handle from construction until
/// <see cref="Dispose"/>, so <see cref="Pointer"/> and every window of <see cref="CreateSequence"/> stay valid exactly
/// that long. The file itself may be renamed over or deleted meanwhile: on Unix the mapping keeps the old file's pages.
/// The mapping is one contiguous range of any length; only its windows are bounded, because a span is (2 GiB).</para>
/// <para>I/O errors: a page of the mapping is read from the disk when first touched, and if that read fails the kernel
/// delivers SIGBUS, which the .NET runtime does not turn into an exception: the process ends. The store's checksum pass
/// touches every page before a mapping is handed out, so only a page evicted since and then unreadable can do this;
/// <see cref="FileLedgerStore.ReadLatestSnapshotAsync"/> documents it. For the engine's recovery, the one reader in the
/// library, it is harmless: recovery has changed nothing durable when it reads, so the next open starts over.</para>
/// <para>Ownership: <see cref="FileLedgerStore"/> hands each mapping out once, as the owner of the
/// <see cref="LedgerSnapshot"/> its <c>ReadLatestSnapshotAsync</c> returns, and the caller disposes that snapshot (so
/// this mapping) once nothing reads it; reading a window afterwards throws <see cref="ObjectDisposedException"/>.
/// There is deliberately no finalizer, here or on the snapshot: a span does not keep its memory manager reachable, so a
/// finalizer could unmap memory a span still reads (CA2015). A mapping nobody disposes stays mapped until the process
/// ends; the store disposes the one it keeps from OpenAsync if it is never handed out.</para>
/// </remarks>
internal sealed unsafe class SnapshotMapping : IDisposable
{
    /// <summary>The most bytes one window of <see cref="CreateSequence"/> holds by default: 1 GiB, under a span's limit.</summary>
    public const int DefaultWindowBytes = 1 << 30;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;
    private readonly long _length;
    private int _released;

    private SnapshotMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* start, long length)
    {
        _file = file;
        _view = view;
        _start = start;
        _length = length;
    }

    /// <summary>The number of mapped bytes.</summary>
    public long Length => _length;

    /// <summary>The first mapped byte; the <see cref="Length"/> bytes from it are contiguous and valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
            return _start;
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="handle"/>'s file from <paramref name="offset"/>.</summary>
    /// <param name="handle">The open file; the mapping does not keep it open (the caller disposes it).</param>
    /// <param name="offset">Where the mapped bytes start.</param>
    /// <param name="length">How many bytes; 1 or more, and within the file.</param>
    /// <exception cref="IOException">The file cannot be mapped.</exception>
    public static SnapshotMapping Map(SafeFileHandle handle, long offset, long length)
    {
        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(
            handle, mapName: null, capacity: 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: true);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(offset, length, MemoryMappedFileAccess.CopyOnWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);

            // A view starts at a page boundary; PointerOffset is where the requested offset lies inside it.
            return new SnapshotMapping(file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The mapped bytes as a sequence: one segment when they fit <paramref name="windowBytes"/>, else consecutive windows
    /// of that size (the last one shorter). Valid until <see cref="Dispose"/>; reading a window after it throws
    /// <see cref="ObjectDisposedException"/> rather than touching unmapped memory, as long as the span is taken afterwards.
    /// </summary>
    /// <param name="windowBytes">The most bytes one segment holds (tests use small windows to cut small states).</param>
    public ReadOnlySequence<byte> CreateSequence(int windowBytes = DefaultWindowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowBytes);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        var windows = new List<ReadOnlyMemory<byte>>((int)((_length + windowBytes - 1) / windowBytes));
        for (long offset = 0; offset < _length; offset += windowBytes)
        {
            windows.Add(new Window(this, _start + offset, (int)Math.Min(windowBytes, _length - offset)).Memory);
        }

        return Sequences.Join(windows);
    }

    /// <summary>Unmaps the bytes; every pointer and window over them is invalid from here on. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>A window of the mapping as memory; owns nothing (the mapping is released by its owner).</summary>
    private sealed class Window : MemoryManager<byte>
    {
        private readonly SnapshotMapping _owner;
        private readonly byte* _start;
        private readonly int _length;

        public Window(SnapshotMapping owner, byte* start, int length)
        {
            _owner = owner;
            _start = start;
            _length = length;
        }

        public override Span<byte> GetSpan()
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _owner._released) != 0, _owner);
            return new Span<byte>(_start, _length);
        }

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _owner._released) != 0, _owner);
            ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);

            // Mapped memory never moves; passing this as the pinnable keeps the window (and its owner) reachable while held.
            return new MemoryHandle(_start + elementIndex, pinnable: this);
        }

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
