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
        await PassesThroughAsync(new SimulationSettings(23), "the damaged last record was cut and reported");
    }

    /// <summary>A snapshot write that fails with EIO: the engine reports it to the snapshot's caller and keeps running (the journal is unaffected).</summary>
    [Fact]
    public async Task Seed15_SnapshotWriteFails_EngineKeepsRunning()
    {
        await PassesThroughAsync(new SimulationSettings(15), "Writing the snapshot at batch");
    }

    /// <summary>
    /// A bit flip in the last record when that record is the key's first registration: the record is cut and reported,
    /// and the key with it (the checker first still expected the key; found by the 5,000-seed Stress run).
    /// </summary>
    [Fact]
    public async Task Seed5176_BitFlipCutsTheKeysRegistration_KeyNoLongerExpected()
    {
        await PassesThroughAsync(new SimulationSettings(5176), "the damaged last record was cut and reported", "submit register key");
    }

    /// <summary>
    /// With the audit log on, a bit flip in the last record is not a silent cut: the durable signed checkpoint covers
    /// the batch the store cut, so the open refuses (AuditLogException) instead of recovering to an earlier state.
    /// </summary>
    [Fact]
    public async Task FullSeed62_BitFlipInTheLastRecordUnderACheckpoint_OpenRefuses()
    {
        await PassesThroughAsync(new SimulationSettings(62, Workload: SimulatedWorkload.Full), "the open refused the damaged store: AuditLogException");
    }

    /// <summary>A power cut while a receipt signs its checkpoint after a recovery: an I/O error to the caller, then recovery as from any crash.</summary>
    [Fact]
    public async Task FullSeed220_PowerCutWhileAReceiptSignsItsCheckpoint_Recovers()
    {
        await PassesThroughAsync(new SimulationSettings(220, Workload: SimulatedWorkload.Full), "the receipt's checkpoint hit the fault");
    }

    /// <summary>A closed channel whose payer account refuses the refund's credit keeps the rest in escrow (a documented known gap), conserved.</summary>
    [Fact]
    public async Task FullSeed117_RefundRefusedByThePayersFlags_RestStaysInEscrow()
    {
        await PassesThroughAsync(new SimulationSettings(117, Workload: SimulatedWorkload.Full), "left in escrow: the payer's account refuses the refund (CreditsMustNotExceedDebits)");
    }

    /// <summary>A bit flip in the latest snapshot: the open passes over it to an older snapshot and the journal, and recovers the known state exactly.</summary>
    [Fact]
    public async Task Seed11_BitFlipInTheLatestSnapshot_RecoversFromAnOlderOne()
    {
        await PassesThroughAsync(new SimulationSettings(11), "bit flip in snapshot-");
    }

    /// <summary>Runs a seed: it must pass, and its trace must show every mark (the path it pins was taken).</summary>
    private static async Task PassesThroughAsync(SimulationSettings settings, params string[] marks)
    {
        SimulationOutcome outcome = await Simulator.RunAsync(settings);
        Assert.False(outcome.Failed, outcome.Describe());
        foreach (string mark in marks)
        {
            Assert.Contains(mark, outcome.Trace, StringComparison.Ordinal);
        }
    }
}
