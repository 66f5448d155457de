namespace Micropay.Core.Channels;

/// <summary>
/// What one batch changed in the channels (a lane's best voucher, a channel's status or tick index), in order, so that
/// the engine publishes exactly those changes once the batch is released. Written by the writer thread while it applies
/// the batch (any batch: a deadline may close a channel at the start of a batch of transfers), read by the publisher
/// after; reused from batch to batch, so it allocates only when it grows.
/// </summary>
internal sealed class ChannelChangeLog
{
    private ChannelChange[] _entries = new ChannelChange[16];

    /// <summary>The changes logged since <see cref="Clear"/>.</summary>
    public ReadOnlySpan<ChannelChange> Entries => _entries.AsSpan(0, Count);

    /// <summary>How many.</summary>
    public int Count { get; private set; }

    /// <summary>Logs a change.</summary>
    public void Add(in ChannelChange change)
    {
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, Count * 2);
        }

        _entries[Count++] = change;
    }

    /// <summary>Forgets every change (the batch was published).</summary>
    public void Clear()
    {
        // The entries hold references to configs: cleared so a reused log keeps no closed channel alive.
        _entries.AsSpan(0, Count).Clear();
        Count = 0;
    }
}

/// <summary>One change: a lane's new best voucher (<see cref="IsLane"/>), or a channel's new status, close deadline and tick index.</summary>
/// <param name="Config">The channel.</param>
/// <param name="IsLane">A lane change (else a channel change).</param>
/// <param name="Lane">The lane.</param>
/// <param name="LaneState">The lane's best voucher's sequence and cumulative amount.</param>
/// <param name="Status">The channel's status.</param>
/// <param name="CloseDeadline">The end of the payer's settle delay (0 unless closing).</param>
/// <param name="TickIndex">Hash-chain channels: the highest tick index redeemed.</param>
internal readonly record struct ChannelChange(
    ChannelConfig Config, bool IsLane, uint Lane, LaneState LaneState, ChannelStatus Status, ulong CloseDeadline, uint TickIndex);
