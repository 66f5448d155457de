namespace Micropay.Core.Hosting;

/// <summary>Thresholds of the health check registered by <see cref="MicropayHealthChecksBuilderExtensions.AddMicropay"/>.</summary>
public sealed class MicropayHealthCheckOptions
{
    /// <summary>The default <see cref="DegradedBelowFreeBytes"/>: 1 GiB.</summary>
    public const long DefaultDegradedBelowFreeBytes = 1L << 30;

    /// <summary>The default <see cref="UnhealthyBelowFreeBytes"/>: 64 MiB (one default journal segment).</summary>
    public const long DefaultUnhealthyBelowFreeBytes = 64L << 20;

    /// <summary>
    /// Report Degraded when the free space on the journal's (or audit log's) volume is below this many bytes; 0 turns
    /// the check off. <see cref="DefaultDegradedBelowFreeBytes"/> by default.
    /// </summary>
    public long DegradedBelowFreeBytes { get; set; } = DefaultDegradedBelowFreeBytes;

    /// <summary>
    /// Report the registration's failure status (Unhealthy unless set otherwise) when the free space is below this many
    /// bytes: a full disk fails the next append, which stops the engine. 0 turns the check off.
    /// <see cref="DefaultUnhealthyBelowFreeBytes"/> by default.
    /// </summary>
    public long UnhealthyBelowFreeBytes { get; set; } = DefaultUnhealthyBelowFreeBytes;
}
