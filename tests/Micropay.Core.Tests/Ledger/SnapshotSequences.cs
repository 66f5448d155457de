using System.Buffers;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Ledger;

/// <summary>Snapshot bytes as a multi-segment <see cref="ReadOnlySequence{T}"/>, cut at chosen offsets.</summary>
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

        return Sequences.Join(parts);
    }
}
