namespace PayPerRequest.Server;

/// <summary>The ledger's clock: nanoseconds since the Unix epoch, as the engine stamps batches and channels expire.</summary>
public static class LedgerClock
{
    /// <summary>Nanoseconds in a second.</summary>
    public const ulong Second = 1_000_000_000UL;

    /// <summary>The time now, in the ledger's nanoseconds.</summary>
    /// <param name="time">The clock.</param>
    /// <returns>Nanoseconds since the Unix epoch.</returns>
    public static ulong Now(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return (ulong)(time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100UL;
    }
}
