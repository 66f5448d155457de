using System.Collections.Concurrent;
using Micropay.Core.Channels;

namespace Micropay.Core.Engine;

/// <summary>
/// The channels' status and lanes as of the last released batch: updated by the publisher thread from each batch's
/// <see cref="ChannelChangeLog"/> once the batch is durable, read by any thread without locks (like the account mirror,
/// but per channel and per lane).
/// </summary>
/// <remarks>
/// <para>
/// Invariants: a channel or lane appears here only once a batch that created it was released; each record's version
/// is odd exactly while the publisher writes it. Records are created once (per channel, per lane: at the first release
/// that names them) and updated in place, so the steady path allocates nothing.
/// </para>
/// <para>
/// Memory ordering (per record, a seqlock): the publisher makes the version odd with an interlocked increment (a full
/// fence), writes the fields, and release-stores the even version. A reader acquire-loads the version, copies the
/// fields, issues a full fence and loads the version again: equal and even means the copy is whole. Records are added
/// to the dictionaries after their fields are written (the dictionaries publish them safely).
/// </para>
/// </remarks>
internal sealed class PublishedChannels
{
    // Writes: the publisher thread (and the constructor of the engine, before its threads start). Reads: any thread.
    private readonly ConcurrentDictionary<UInt128, ChannelRecord> _channels = new();

    /// <summary>Publishes a released batch's changes. Publisher thread only.</summary>
    public void Apply(ChannelChangeLog log)
    {
        foreach (ref readonly ChannelChange change in log.Entries)
        {
            if (!_channels.TryGetValue(change.Config.Id, out ChannelRecord? channel))
            {
                channel = new ChannelRecord();
                channel.Write(change);
                _channels[change.Config.Id] = channel;
                continue;
            }

            channel.Write(change);
        }
    }

    /// <summary>Publishes a recovered channel (before the engine's threads start).</summary>
    public void AddRecovered(ChannelState state)
    {
        var channel = new ChannelRecord();
        channel.Write(new ChannelChange(state.Config, false, 0, default, state.Status, state.CloseDeadline, state.TickIndex));
        foreach ((uint lane, LaneState laneState) in state.Lanes ?? [])
        {
            channel.Write(new ChannelChange(state.Config, true, lane, laneState, default, 0, 0));
        }

        _channels[state.Config.Id] = channel;
    }

    /// <summary>A channel's status, close deadline and highest redeemed tick index, as of a released batch.</summary>
    public bool TryGetState(UInt128 channelId, out ChannelStatus status, out ulong closeDeadline, out uint tickIndex)
    {
        if (_channels.TryGetValue(channelId, out ChannelRecord? channel))
        {
            channel.Read(out status, out closeDeadline, out tickIndex);
            return true;
        }

        status = default;
        closeDeadline = 0;
        tickIndex = 0;
        return false;
    }

    /// <summary>A lane's best redeemed voucher (sequence and cumulative amount), as of a released batch.</summary>
    public bool TryGetLane(UInt128 channelId, uint lane, out LaneState state)
    {
        if (_channels.TryGetValue(channelId, out ChannelRecord? channel) && channel.Lanes.TryGetValue(lane, out LaneRecord? record))
        {
            state = record.Read();
            return true;
        }

        state = default;
        return false;
    }

    private sealed class ChannelRecord
    {
        private int _version;
        private ChannelStatus _status;
        private ulong _closeDeadline;
        private uint _tickIndex;

        public ConcurrentDictionary<uint, LaneRecord> Lanes { get; } = new();

        public void Write(in ChannelChange change)
        {
            if (change.IsLane)
            {
                if (Lanes.TryGetValue(change.Lane, out LaneRecord? lane))
                {
                    lane.Write(change.LaneState);
                    return;
                }

                lane = new LaneRecord();
                lane.Write(change.LaneState);
                Lanes[change.Lane] = lane;
                return;
            }

            Interlocked.Increment(ref _version);
            _status = change.Status;
            _closeDeadline = change.CloseDeadline;
            _tickIndex = change.TickIndex;
            Volatile.Write(ref _version, _version + 1);
        }

        public void Read(out ChannelStatus status, out ulong closeDeadline, out uint tickIndex)
        {
            var spinner = default(SpinWait);
            while (true)
            {
                int before = Volatile.Read(ref _version);
                status = _status;
                closeDeadline = _closeDeadline;
                tickIndex = _tickIndex;
                Interlocked.MemoryBarrier();
                if ((before & 1) == 0 && before == Volatile.Read(ref _version))
                {
                    return;
                }

                spinner.SpinOnce();
            }
        }
    }

    private sealed class LaneRecord
    {
        private int _version;
        private ulong _sequence;
        private UInt128 _redeemed;

        public void Write(in LaneState state)
        {
            Interlocked.Increment(ref _version);
            _sequence = state.Sequence;
            _redeemed = state.Redeemed;
            Volatile.Write(ref _version, _version + 1);
        }

        public LaneState Read()
        {
            var spinner = default(SpinWait);
            while (true)
            {
                int before = Volatile.Read(ref _version);
                var state = new LaneState(_sequence, _redeemed);
                Interlocked.MemoryBarrier();
                if ((before & 1) == 0 && before == Volatile.Read(ref _version))
                {
                    return state;
                }

                spinner.SpinOnce();
            }
        }
    }
}
