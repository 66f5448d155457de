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

    /// <summary>
    /// A bit flip in the last record when that record is the key's first registration: the record is cut and reported,
    /// and the key with it (the checker first still expected the key; found by the 5,000-seed Stress run).
    /// </summary>
    [Fact]
    public async Task Seed5176_BitFlipCutsTheKeysRegistration_KeyNoLongerExpected()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(5176));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("the damaged last record was cut and reported", outcome.Trace, StringComparison.Ordinal);
        Assert.Contains("submit register key", outcome.Trace, StringComparison.Ordinal);
    }

    /// <summary>
    /// With the audit log on, a bit flip in the last record is not a silent cut: the durable signed checkpoint covers
    /// the batch the store cut, so the open refuses (AuditLogException) instead of recovering to an earlier state.
    /// </summary>
    [Fact]
    public async Task FullSeed62_BitFlipInTheLastRecordUnderACheckpoint_OpenRefuses()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(62, Workload: SimulatedWorkload.Full));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("the open refused the damaged store: AuditLogException", outcome.Trace, StringComparison.Ordinal);
    }

    /// <summary>A power cut while a receipt signs its checkpoint after a recovery: an I/O error to the caller, then recovery as from any crash.</summary>
    [Fact]
    public async Task FullSeed220_PowerCutWhileAReceiptSignsItsCheckpoint_Recovers()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(220, Workload: SimulatedWorkload.Full));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("the receipt's checkpoint hit the fault", outcome.Trace, StringComparison.Ordinal);
    }

    /// <summary>A closed channel whose payer account refuses the refund's credit keeps the rest in escrow (a documented known gap), conserved.</summary>
    [Fact]
    public async Task FullSeed117_RefundRefusedByThePayersFlags_RestStaysInEscrow()
    {
        SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(117, Workload: SimulatedWorkload.Full));
        Assert.False(outcome.Failed, outcome.Describe());
        Assert.Contains("left in escrow: the payer's account refuses the refund (CreditsMustNotExceedDebits)", outcome.Trace, StringComparison.Ordinal);
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
