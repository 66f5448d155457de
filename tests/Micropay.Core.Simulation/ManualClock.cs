namespace Micropay.Core.Simulation;

/// <summary>The simulated clock: time moves only when the simulator moves it (forward, or back in a jump).</summary>
internal sealed class ManualClock : TimeProvider
{
    // Written by the simulator, read by the engine's writer thread.
    private long _utcTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>The clock as nanoseconds since the Unix epoch (the engine's batch timestamp); a multiple of 100.</summary>
    public ulong Nanoseconds
    {
        get => (ulong)(Volatile.Read(ref _utcTicks) - DateTime.UnixEpoch.Ticks) * 100;
        set => Volatile.Write(ref _utcTicks, DateTime.UnixEpoch.Ticks + (long)(value / 100));
    }

    public override DateTimeOffset GetUtcNow() => new(Volatile.Read(ref _utcTicks), TimeSpan.Zero);
}
