using System.Buffers.Binary;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// Fixing the ledger instance's id: the first batch of every ledger, one record, applied by
/// <see cref="LedgerStateMachine.SetInstanceId"/>.
/// </summary>
/// <remarks>
/// <para>Record layout (128 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0    4 Magic       "MPIN" (0x4D 0x50 0x49 0x4E)
///      4    2 Version     1
///      6    2 Reserved    0
///      8   16 InstanceId  not 0
///     24  104 Reserved    0
/// </code>
/// <para>A record that is not this (which the store's checksums make a matter of a bug, not of a disk) decodes as id
/// 0, which the ledger refuses, so it never sets an id by accident.</para>
/// </remarks>
internal sealed class SetInstanceIdOperation() : Operation<InstanceIdRecord, InstanceIdResult>(BatchOperation.SetInstanceId, "SetInstanceId", RecordSize)
{
    private const int RecordSize = 128;
    private const ushort Version = 1;

    private static ReadOnlySpan<byte> Magic => "MPIN"u8;

    /// <summary>
    /// Even in Buffered mode: once OpenAsync returns, callers sign messages binding the id, so a crash must never let the
    /// next open choose another.
    /// </summary>
    public override bool ReleasedOnlyWhenDurable => true;

    public override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<InstanceIdRecord> events, Span<InstanceIdResult> results)
    {
        int failed = 0;
        for (int i = 0; i < events.Length; i++)
        {
            results[i] = ledger.SetInstanceId(timestamp, events[i].Id);
            failed += results[i] == InstanceIdResult.Ok ? 0 : 1;
        }

        return failed;
    }

    public override void Encode(ReadOnlySpan<InstanceIdRecord> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            Span<byte> record = destination.Slice(i * RecordSize, RecordSize);
            record.Clear();
            Magic.CopyTo(record);
            BinaryPrimitives.WriteUInt16LittleEndian(record[4..], Version);
            BinaryPrimitives.WriteUInt128LittleEndian(record[8..], events[i].Id);
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<InstanceIdRecord> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            ReadOnlySpan<byte> record = source.Slice(i * RecordSize, RecordSize);
            bool sound = record[..4].SequenceEqual(Magic) &&
                BinaryPrimitives.ReadUInt16LittleEndian(record[4..]) == Version &&
                BinaryPrimitives.ReadUInt16LittleEndian(record[6..]) == 0 &&
                !record[24..].ContainsAnyExcept((byte)0);
            events[i] = new InstanceIdRecord(sound ? BinaryPrimitives.ReadUInt128LittleEndian(record[8..]) : UInt128.Zero);
        }
    }

    public override bool IsLinked(in InstanceIdRecord e) => false;

    public override long ToOutcome(InstanceIdResult result) => (long)result;

    public override InstanceIdResult FromOutcome(long outcome) => (InstanceIdResult)outcome;
}

/// <summary>The event of <see cref="SetInstanceIdOperation"/>: the id to fix.</summary>
internal readonly record struct InstanceIdRecord(UInt128 Id);
