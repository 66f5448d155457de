using System.Buffers;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// Multi-segment buffers for the snapshot APIs that take an <see cref="IBufferWriter{T}"/> or a
/// <see cref="ReadOnlySequence{T}"/>: a writer made of fixed-size segments, and a sequence cut at chosen offsets.
/// </summary>
internal static class SnapshotSequences
{
    /// <summary>The bytes as a sequence with a segment boundary at each cut (offsets past the end are taken modulo its length + 1).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, IEnumerable<int> cutSeeds)
    {
        int[] cuts = [.. cutSeeds.Select(seed => seed % (bytes.Length + 1)).Append(0).Append(bytes.Length).Distinct().Order()];
        List<ReadOnlyMemory<byte>> parts = [];
        for (int i = 1; i < cuts.Length; i++)
        {
            parts.Add(bytes.AsMemory(cuts[i - 1], cuts[i] - cuts[i - 1]));
        }

        return Join(parts);
    }

    /// <summary>The parts, in order, as one sequence (empty parts included).</summary>
    public static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over segments of a fixed size (larger when a size hint asks for more): a request
/// that does not fit the rest of the current segment starts a new one, as pipe and pooled writers do. Checks the
/// contract from the writer's side (no advancing past what was handed out).
/// </summary>
internal sealed class SegmentedBufferWriter(int segmentSize) : IBufferWriter<byte>
{
    private readonly List<ReadOnlyMemory<byte>> _done = [];
    private byte[] _current = [];
    private int _used;

    /// <summary>How many segments were started.</summary>
    public int Segments { get; private set; }

    public void Advance(int count)
    {
        if (count < 0 || _used + count > _current.Length)
        {
            throw new InvalidOperationException($"Advance({count}) past the {_current.Length - _used} bytes handed out.");
        }

        _used += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_current.Length - _used < needed)
        {
            if (_used > 0)
            {
                _done.Add(_current.AsMemory(0, _used));
            }

            _current = new byte[Math.Max(needed, segmentSize)];
            _used = 0;
            Segments++;
        }

        return _current.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>Everything advanced so far, as a sequence of the segments (each trimmed to what was written).</summary>
    public ReadOnlySequence<byte> WrittenSequence() => SnapshotSequences.Join([.. _done, _current.AsMemory(0, _used)]);
}
