using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Micropay.Core.Storage;

/// <summary>
/// The state bytes of one snapshot file, read through a memory mapping of the file instead of a copy: the pages come
/// from the page cache, so no fresh memory is faulted in and zeroed for them (on the 2-core VM the kernel zeroes fresh
/// anonymous pages at ~1.1 GB/s, which made reading a 1.4 GB snapshot into a new array the largest cost of an open).
/// </summary>
/// <remarks>
/// <para>Invariants: the view is mapped copy-on-write (a stray write through the memory changes a private page, never
/// the file, and cannot fault) and holds one added reference on the view handle from construction until the first
/// <see cref="Dispose(bool)"/>, so the pointer stays valid exactly that long. The file itself may be renamed over or
/// deleted meanwhile: on Unix the mapping keeps the old file's pages.</para>
/// <para>Ownership: <see cref="FileLedgerStore"/> hands each mapping to one internal caller only (the engine's recovery,
/// through <c>ReadLatestSnapshotForRecovery</c>; public reads get copies), which disposes it once no span over it is in
/// use. There is deliberately no finalizer: a span does not keep its memory manager reachable, so a finalizer could
/// unmap memory a span still reads (CA2015). A mapping nobody disposes stays mapped until the process ends; the store
/// disposes the one it keeps from OpenAsync if it is never handed out.</para>
/// </remarks>
internal sealed unsafe class SnapshotMapping : MemoryManager<byte>
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;
    private readonly int _length;
    private int _released;

    private SnapshotMapping(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* start, int length)
    {
        _file = file;
        _view = view;
        _start = start;
        _length = length;
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="handle"/>'s file from <paramref name="offset"/>.</summary>
    /// <param name="handle">The open file; the mapping does not keep it open (the caller disposes it).</param>
    /// <param name="offset">Where the mapped bytes start.</param>
    /// <param name="length">How many bytes; 1 or more, and within the file.</param>
    /// <exception cref="IOException">The file cannot be mapped.</exception>
    public static SnapshotMapping Map(SafeFileHandle handle, long offset, int length)
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

    /// <inheritdoc />
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        return new Span<byte>(_start, _length);
    }

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);

        // Mapped memory never moves; passing this as the pinnable keeps the mapping reachable while the handle is held.
        return new MemoryHandle(_start + elementIndex, pinnable: this);
    }

    /// <inheritdoc />
    public override void Unpin()
    {
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        if (disposing)
        {
            _view.Dispose();
            _file.Dispose();
        }
    }
}
