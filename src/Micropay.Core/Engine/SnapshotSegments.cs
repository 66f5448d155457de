using System.Buffers;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// Where the apply loop copies a snapshot too large for one array (past ~2 GiB, some 16M transfers): fixed-size
/// segments that <c>LedgerStateMachine.WriteSnapshot(IBufferWriter)</c> fills one piece at a time, then one sequence for the store
/// (<see cref="ILedgerStore.WriteSnapshotAsync"/> takes a state of any length as a sequence). The ledger asks for each piece whole, so a piece that does not fit the rest of a segment starts the next one.
/// </summary>
internal sealed class SnapshotSegments(int segmentBytes) : IBufferWriter<byte>
{
    private readonly List<byte[]> _arrays = [];
    private readonly List<int> _used = [];

    public void Advance(int count)
    {
        if (_arrays.Count == 0 || count < 0 || _used[^1] + count > _arrays[^1].Length)
        {
            throw new InvalidOperationException($"Advance({count}) goes past the buffer GetSpan or GetMemory handed out.");
        }

        _used[^1] += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_arrays.Count == 0 || _arrays[^1].Length - _used[^1] < needed)
        {
            // Uninitialized: every byte handed out is written before it is committed.
            _arrays.Add(GC.AllocateUninitializedArray<byte>(Math.Max(needed, segmentBytes)));
            _used.Add(0);
        }

        return _arrays[^1].AsMemory(_used[^1]);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>What was written, segment after segment.</summary>
    public ReadOnlySequence<byte> ToSequence()
    {
        var parts = new List<ReadOnlyMemory<byte>>(_arrays.Count);
        for (int i = 0; i < _arrays.Count; i++)
        {
            parts.Add(_arrays[i].AsMemory(0, _used[i]));
        }

        return Sequences.Join(parts);
    }
}

/// <summary>Hands out the rest of one array whose size was computed up front (a snapshot that fits an array).</summary>
internal sealed class FixedArrayWriter(byte[] array) : IBufferWriter<byte>
{
    private int _used;

    public void Advance(int count)
    {
        if (count < 0 || _used + count > array.Length)
        {
            throw new InvalidOperationException($"Advance({count}) goes past the array's end.");
        }

        _used += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (array.Length - _used < Math.Max(sizeHint, 1))
        {
            // The size was computed before writing: a writer asking for more than it announced is a bug.
            throw new InvalidOperationException($"A snapshot section wrote more than its announced size (asked for {sizeHint} bytes, {array.Length - _used} left).");
        }

        return array.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>Throws unless every byte was written (a section wrote less than its announced size).</summary>
    public void CheckFull()
    {
        if (_used != array.Length)
        {
            throw new InvalidOperationException($"The snapshot's sections wrote {_used} of the {array.Length} bytes they announced.");
        }
    }
}
