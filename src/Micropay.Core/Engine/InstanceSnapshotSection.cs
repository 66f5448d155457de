using System.Buffers;
using System.Buffers.Binary;
using Micropay.Core.Ledger;

namespace Micropay.Core.Engine;

/// <summary>The ledger instance's id as a snapshot section ("instance").</summary>
/// <remarks>
/// <para>Layout (24 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0    4 Version     1
///      4    4 Reserved    0
///      8   16 InstanceId  the id (0 only for a ledger whose id was never set: snapshots of an engine never write that)
/// </code>
/// <para>A snapshot older than this section (written before instance ids existed) has none: the ledger then has no id
/// until the engine sets one, journaled, when it opens.</para>
/// </remarks>
internal sealed class InstanceSnapshotSection(LedgerStateMachine ledger) : SnapshotSection(SectionName)
{
    /// <summary>The section's name in the envelope.</summary>
    public const string SectionName = "instance";

    private const int PayloadSize = 24;
    private const uint Version = 1;

    public override long Size => PayloadSize;

    public override void Write(IBufferWriter<byte> destination)
    {
        Span<byte> payload = destination.GetSpan(PayloadSize)[..PayloadSize];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Version);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], 0);
        BinaryPrimitives.WriteUInt128LittleEndian(payload[8..], ledger.InstanceId);
        destination.Advance(PayloadSize);
    }

    /// <summary>Restores the id into a ledger just read from the same snapshot.</summary>
    /// <exception cref="LedgerSnapshotException">The section is not 24 bytes of version 1 with a zero reserved field.</exception>
    public static void Restore(LedgerStateMachine ledger, ReadOnlySequence<byte> section)
    {
        if (section.Length != PayloadSize)
        {
            throw new LedgerSnapshotException(0, $"the \"{SectionName}\" section is {section.Length} bytes; version 1 is {PayloadSize}");
        }

        Span<byte> payload = stackalloc byte[PayloadSize];
        section.CopyTo(payload);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (version != Version)
        {
            throw new LedgerSnapshotException(0, $"the \"{SectionName}\" section has version {version}; this build reads version {Version}");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]) != 0)
        {
            throw new LedgerSnapshotException(4, $"the \"{SectionName}\" section's reserved field is not zero");
        }

        ledger.RestoreInstanceId(BinaryPrimitives.ReadUInt128LittleEndian(payload[8..]));
    }
}
