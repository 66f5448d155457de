namespace Micropay.Core.Simulation;

/// <summary>
/// Runs that exercised a path the checker first got wrong (each failed against the first simulator, not against src),
/// kept as plain cases so the path stays covered: the trace must show the path was taken, and the run must pass.
/// </summary>
public sealed class FoundSeedTests
{
    /// <summary>A bit flip in the last acknowledged record: the store cuts it as a torn tail and the engine reports the cut (ARCHITECTURE 4b, 4c.7), never silently.</summary>
    [Fact]
    public async Task Seed23_BitFlipInTheLastRecord_CutAndReported()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(23));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("the damaged last record was cut and reported", outcome.Trace, StringComparison.Ordinal);
    }

    /// <summary>A snapshot write that fails with EIO: the engine reports it to the snapshot's caller and keeps running (the journal is unaffected).</summary>
    [Fact]
    public async Task Seed15_SnapshotWriteFails_EngineKeepsRunning()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(15));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("Writing the snapshot at batch", outcome.Trace, StringComparison.Ordinal);
    }

    /// <summary>A bit flip in the latest snapshot: the open passes over it to an older snapshot and the journal, and recovers the known state exactly.</summary>
    [Fact]
    public async Task Seed11_BitFlipInTheLatestSnapshot_RecoversFromAnOlderOne()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(11));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("bit flip in snapshot-", outcome.Trace, StringComparison.Ordinal);
    }
}
