using System.Buffers;
using System.Buffers.Binary;
using Micropay.Core.Ledger;

namespace Micropay.Core.Channels;

/// <content>
/// The channels as a snapshot section ("channels"). Layout, version 1, little-endian:
/// <code>
/// offset size field
///      0    4 Version        1
///      4    4 ChannelCount   channels in creation order, each:
///              176 Config          ChannelConfig's encoding
///               16 OpenDeposit
///               16 Deposit         open deposit plus top-ups
///               16 Redeemed        paid to the payee
///               16 Refunded        returned to the payer at close
///                8 OpenedAt
///                8 CloseDeadline   0 unless closing
///                8 ClosedAt        0 unless closed
///                4 TickIndex       hash-chain: highest index redeemed
///                1 Status          ChannelStatus
///                3 Reserved        0
///                4 LaneCount       then per lane, in ascending lane order:
///                     4 Lane, 4 Reserved (0), 8 Sequence, 16 Redeemed
/// </code>
/// The deadline queue is not stored: it is rebuilt from each channel's expiry and close deadline, and its stale
/// entries never mattered.
/// </content>
internal sealed partial class ChannelBook
{
    private const uint SnapshotVersion = 1;
    private const int ChannelFixedSize = ChannelConfig.EncodedSize + (16 * 5) + (8 * 3) + 4 + 1 + 3 + 4;
    private const int LaneSize = 32;

    /// <summary>The bytes <see cref="WriteSnapshot"/> writes now.</summary>
    public long SnapshotSize
    {
        get
        {
            long size = ExtensionSectionHeader.Size;
            foreach (ChannelState channel in _byIndex)
            {
                size += ChannelFixedSize + ((long)(channel.Lanes?.Count ?? 0) * LaneSize);
            }

            return size;
        }
    }

    /// <summary>Writes the section (writer thread, between batches).</summary>
    public void WriteSnapshot(IBufferWriter<byte> destination)
    {
        ExtensionSectionHeader.Write(destination.GetSpan(ExtensionSectionHeader.Size), SnapshotVersion, _byIndex.Count);
        destination.Advance(ExtensionSectionHeader.Size);
        foreach (ChannelState channel in _byIndex)
        {
            int laneCount = channel.Lanes?.Count ?? 0;
            Span<byte> record = destination.GetSpan(ChannelFixedSize)[..ChannelFixedSize];
            record.Clear();
            channel.Config.Encode(record);
            int at = ChannelConfig.EncodedSize;
            BinaryPrimitives.WriteUInt128LittleEndian(record[at..], channel.OpenDeposit);
            BinaryPrimitives.WriteUInt128LittleEndian(record[(at + 16)..], channel.Deposit);
            BinaryPrimitives.WriteUInt128LittleEndian(record[(at + 32)..], channel.Redeemed);
            BinaryPrimitives.WriteUInt128LittleEndian(record[(at + 48)..], channel.Refunded);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 64)..], channel.OpenedAt);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 72)..], channel.CloseDeadline);
            BinaryPrimitives.WriteUInt64LittleEndian(record[(at + 80)..], channel.ClosedAt);
            BinaryPrimitives.WriteUInt32LittleEndian(record[(at + 88)..], channel.TickIndex);
            record[at + 92] = (byte)channel.Status;
            BinaryPrimitives.WriteInt32LittleEndian(record[(at + 96)..], laneCount);
            destination.Advance(ChannelFixedSize);
            if (channel.Lanes is { } lanes)
            {
                foreach (uint lane in lanes.Keys.Order())
                {
                    LaneState state = lanes[lane];
                    Span<byte> entry = destination.GetSpan(LaneSize)[..LaneSize];
                    BinaryPrimitives.WriteUInt32LittleEndian(entry, lane);
                    BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], 0);
                    BinaryPrimitives.WriteUInt64LittleEndian(entry[8..], state.Sequence);
                    BinaryPrimitives.WriteUInt128LittleEndian(entry[16..], state.Redeemed);
                    destination.Advance(LaneSize);
                }
            }
        }
    }

    /// <summary>Restores the channels into a ledger just read from the same snapshot.</summary>
    /// <exception cref="LedgerSnapshotException">The section is malformed (the message names the offset and what is wrong).</exception>
    public static void RestoreSnapshot(LedgerStateMachine ledger, ReadOnlySequence<byte> section)
    {
        // Channel state is small next to the ledger's tables (about 300 bytes a channel): read it in one piece.
        byte[] bytes = section.ToArray();
        ReadOnlySpan<byte> span = bytes;
        int count = ExtensionSectionHeader.Read(span, "channels", SnapshotVersion, "channels");

        ChannelBook book = Of(ledger);
        int offset = ExtensionSectionHeader.Size;
        for (int i = 0; i < count; i++)
        {
            if (span.Length - offset < ChannelFixedSize)
            {
                throw new LedgerSnapshotException(offset, $"the \"channels\" section ends inside channel {i}");
            }

            ReadOnlySpan<byte> record = span.Slice(offset, ChannelFixedSize);
            if (!ChannelConfig.TryParse(record[..ChannelConfig.EncodedSize], out ChannelConfig? config, out ChannelFormatError error))
            {
                throw new LedgerSnapshotException(offset, $"channel {i}'s config does not parse: {error}");
            }

            int at = ChannelConfig.EncodedSize;
            var status = (ChannelStatus)record[at + 92];
            int laneCount = BinaryPrimitives.ReadInt32LittleEndian(record[(at + 96)..]);
            if (status is not (ChannelStatus.Open or ChannelStatus.Closing or ChannelStatus.Closed) || record.Slice(at + 93, 3).ContainsAnyExcept((byte)0) ||
                laneCount < 0 || book._channels.ContainsKey(config.Id))
            {
                throw new LedgerSnapshotException(offset, $"channel {i} has a bad status, reserved bytes, lane count or a duplicate id");
            }

            var channel = new ChannelState(
                config,
                book._byIndex.Count,
                BinaryPrimitives.ReadUInt128LittleEndian(record[at..]),
                BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 64)..]))
            {
                Deposit = BinaryPrimitives.ReadUInt128LittleEndian(record[(at + 16)..]),
                Redeemed = BinaryPrimitives.ReadUInt128LittleEndian(record[(at + 32)..]),
                Refunded = BinaryPrimitives.ReadUInt128LittleEndian(record[(at + 48)..]),
                CloseDeadline = BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 72)..]),
                ClosedAt = BinaryPrimitives.ReadUInt64LittleEndian(record[(at + 80)..]),
                TickIndex = BinaryPrimitives.ReadUInt32LittleEndian(record[(at + 88)..]),
                Status = status,
            };
            if (channel.Redeemed > channel.Deposit || channel.Refunded > channel.Deposit - channel.Redeemed)
            {
                throw new LedgerSnapshotException(offset, $"channel {i} paid out more than its deposit");
            }

            offset += ChannelFixedSize;
            if ((long)laneCount * LaneSize > span.Length - offset)
            {
                throw new LedgerSnapshotException(offset, $"the \"channels\" section ends inside channel {i}'s lanes");
            }

            if (laneCount > 0)
            {
                channel.Lanes = new Dictionary<uint, LaneState>(laneCount);
                for (int l = 0; l < laneCount; l++, offset += LaneSize)
                {
                    ReadOnlySpan<byte> entry = span.Slice(offset, LaneSize);
                    uint lane = BinaryPrimitives.ReadUInt32LittleEndian(entry);
                    if (BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]) != 0 ||
                        !channel.Lanes.TryAdd(lane, new LaneState(BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt128LittleEndian(entry[16..]))))
                    {
                        throw new LedgerSnapshotException(offset, $"channel {i}'s lane {lane} is repeated or has non-zero reserved bytes");
                    }
                }
            }

            book.Add(channel);
        }

        if (offset != span.Length)
        {
            throw new LedgerSnapshotException(offset, $"the \"channels\" section has {span.Length - offset} bytes after its last channel");
        }
    }

    /// <summary>Adds a channel read from a snapshot, with its deadlines.</summary>
    private void Add(ChannelState channel)
    {
        _channels.Add(channel.Config.Id, channel);
        _byIndex.Add(channel);
        if (channel.Status != ChannelStatus.Closed)
        {
            _deadlines.Push(channel.Config.ExpiresAt, channel.Index);
            if (channel.Status == ChannelStatus.Closing)
            {
                _deadlines.Push(channel.CloseDeadline, channel.Index);
            }
        }
    }
}
