namespace PayPerRequest.Tests.Server;

/// <summary>The system's clock plus an offset a test moves forward (never back: the ledger's timestamps only grow).</summary>
internal sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
}
