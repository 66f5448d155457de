using System.Globalization;

namespace Micropay.Core.Tests.Soak;

/// <summary>
/// How long and how hard the soak test runs. <c>MICROPAY_SOAK_SECONDS</c> sets the duration (default 120 s, at least
/// 60 s), <c>MICROPAY_SOAK_ROUNDS_PER_SECOND</c> the load (default 40 workload rounds a second over 4 workers) and
/// <c>MICROPAY_SOAK_REPORT</c> a file the report is also written to. Sampling, warm-up and snapshot intervals follow from
/// the duration.
/// </summary>
internal sealed record SoakSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(120);

    public double RoundsPerSecond { get; init; } = 40;

    public int Workers { get; init; } = 4;

    /// <summary>Keep every round's transfer batch in a static list: the leak the test must catch.</summary>
    public bool PlantLeak { get; init; }

    public string? ReportPath { get; init; }

    /// <summary>Samples before this are not used for the growth figures: JIT, pools, first segments, first snapshot.</summary>
    public TimeSpan WarmUp => TimeSpan.FromSeconds(Math.Max(30, Duration.TotalSeconds / 5));

    /// <summary>About 120 samples a run, 2 to 5 seconds apart.</summary>
    public TimeSpan SampleInterval => TimeSpan.FromSeconds(Math.Clamp(Duration.TotalSeconds / 120, 2, 5));

    /// <summary>After the warm-up, data phases and quiet phases (no data stored) of this length alternate: 20 to 60 seconds.</summary>
    public TimeSpan QuietPhase => TimeSpan.FromSeconds(Math.Clamp(Duration.TotalSeconds / 10, 20, 60));

    /// <summary>Whether <paramref name="elapsed"/> falls in a quiet phase (the second, fourth, ... phase after the warm-up).</summary>
    public bool IsQuiet(TimeSpan elapsed) => elapsed > WarmUp && (long)((elapsed - WarmUp) / QuietPhase) % 2 == 1;

    /// <summary>The start of the phase <paramref name="elapsed"/> falls in (the warm-up's end for the first).</summary>
    public TimeSpan PhaseStart(TimeSpan elapsed) => elapsed <= WarmUp ? TimeSpan.Zero : WarmUp + (QuietPhase * (long)((elapsed - WarmUp) / QuietPhase));

    /// <summary>A snapshot and a compaction this often: 5 to 30 seconds.</summary>
    public TimeSpan SnapshotInterval => TimeSpan.FromSeconds(Math.Clamp(Duration.TotalSeconds / 20, 5, 30));

    /// <summary>Journal segments of 2 MiB, so compaction deletes some every snapshot.</summary>
    public long SegmentSizeBytes => 2L * 1024 * 1024;

    public static SoakSettings FromEnvironment(string secondsVariable = "MICROPAY_SOAK_SECONDS", double defaultSeconds = 120)
    {
        double seconds = Read(secondsVariable) ?? defaultSeconds;
        return new SoakSettings
        {
            Duration = TimeSpan.FromSeconds(Math.Max(60, seconds)),
            RoundsPerSecond = Read("MICROPAY_SOAK_ROUNDS_PER_SECOND") ?? 40,
            ReportPath = Environment.GetEnvironmentVariable("MICROPAY_SOAK_REPORT") is { Length: > 0 } path ? path : null,
        };
    }

    private static double? Read(string name) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0 ? value : null;
}
