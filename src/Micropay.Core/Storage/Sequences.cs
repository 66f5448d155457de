using System.Buffers;

namespace Micropay.Core.Storage;

/// <summary>Builds a <see cref="ReadOnlySequence{T}"/> of bytes from consecutive buffers (snapshots past one array's size).</summary>
internal static class Sequences
{
    /// <summary>The parts, in order, as one sequence; a single part gives a single-segment sequence.</summary>
    public static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        if (parts.Count == 1)
        {
            return new ReadOnlySequence<byte>(parts[0]);
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            var next = new Segment(parts[i], last.RunningIndex + last.Memory.Length);
            last.SetNext(next);
            last = next;
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

        public void SetNext(Segment next) => Next = next;
    }
}
