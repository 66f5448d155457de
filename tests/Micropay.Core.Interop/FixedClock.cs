namespace Micropay.Core.Interop;

/// <summary>
/// A clock stopped at one instant, so the vectors are the same bytes on every run: the ledger keeps its timestamps
/// increasing by itself (each event one nanosecond after the last), so leaves stay distinct.
/// </summary>
internal sealed class FixedClock : TimeProvider
{
    private readonly DateTimeOffset _now;

    public FixedClock(DateTimeOffset now) => _now = now;

    public override DateTimeOffset GetUtcNow() => _now;
}
