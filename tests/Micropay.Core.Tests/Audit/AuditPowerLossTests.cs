using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests.Storage.Disk;
using Xunit.Abstractions;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The engine with its audit log on, the journal and the audit files on one <see cref="SimulatedDisk"/> that loses, keeps
/// or tears whatever was not fsync'd when the power is cut: after the reboot every receipt handed out still verifies and
/// is the reopened ledger's receipt for the same leaf, every acknowledged transfer gets a receipt, and the reopened
/// ledger's checkpoint is consistent with every checkpoint signed before the cut, also after the journal before a
/// snapshot was compacted away (the old leaves then come from the audit files alone). The same compaction on a disk
/// that drops the audit files' fsyncs (a planted bug: the flush before each snapshot missing) is caught.
/// </summary>
public sealed class AuditPowerLossTests(ITestOutputHelper output)
{
    private const string Root = "/simulated";
    private const string StoreDirectory = "/simulated/store";
    private const string AuditDirectory = "/simulated/audit";
    private const int Callers = 3;

    [Fact]
    public async Task PowerCut_AtRandomMoments_ReceiptsAndCheckpointsFromBeforeHold_AlsoAfterCompaction()
    {
        int acknowledged = 0, receipts = 0, checkpoints = 0;
        for (int seed = 0; seed < 8; seed++)
        {
            History history = await RunRandomCutsAsync(seed);
            acknowledged += history.Acknowledged.Count;
            receipts += history.Receipts.Count;
            checkpoints += history.Checkpoints.Count;
        }

        output.WriteLine($"{acknowledged} acknowledged transfers, {receipts} receipts and {checkpoints} checkpoints checked after the cuts");
        Assert.True(acknowledged >= 400, $"only {acknowledged} transfers were acknowledged: too few to test anything");
        Assert.True(receipts >= 100 && checkpoints >= 40, $"only {receipts} receipts and {checkpoints} checkpoints were taken");
    }

    [Fact]
    public async Task PowerCut_AfterSnapshotAndCompaction_OldLeavesStayProvableFromTheAuditFiles()
    {
        for (int seed = 0; seed < 4; seed++)
        {
            string? caught = await RunCompactionThenCutAsync(seed, lyingAuditDisk: false);
            Assert.True(caught is null, $"seed {seed}: {caught}");
        }
    }

    [Fact]
    public async Task PowerCut_AfterCompactionOnADiskThatDropsTheAuditFilesFsyncs_IsCaught_SoTheTestCanFail()
    {
        for (int seed = 0; seed < 4; seed++)
        {
            string? caught = await RunCompactionThenCutAsync(seed, lyingAuditDisk: true);
            output.WriteLine($"seed {seed}: {caught ?? "not caught"}");
            Assert.True(caught is not null, $"seed {seed}: the audit files lost every write since their creation, and nothing noticed");
        }
    }

    /// <summary>
    /// Life 1 pays until the power goes at a random step; life 2 checks everything from life 1, pays more, snapshots,
    /// compacts the journal, pays until another random cut; life 3 checks everything from both lives.
    /// </summary>
    private async Task<History> RunRandomCutsAsync(int seed)
    {
        var random = new Random(seed);
        var disk = new SimulatedDisk(seed, Root);
        var history = new History();

        // Life 1.
        LedgerEngine engine = await LedgerEngine.OpenAsync(Options(disk, out _));
        history.Key = engine.AuditVerifierKey!.ToString();
        await CreateAccountsAsync(engine);
        disk.CutPowerAfter(random.Next(30, 700));
        await PayUntilCutAsync(engine, history, 300);
        await CrashAsync(engine, disk);

        // Life 2: everything from life 1 holds; then a snapshot, compaction, and another cut.
        engine = await LedgerEngine.OpenAsync(Options(disk, out FileLedgerStore store));
        try
        {
            Assert.Empty(Check(engine, history));
            await PayUntilCutAsync(engine, history, 40);
            await engine.TakeSnapshotAsync();
            Assert.True(await store.CompactAsync() > 0, $"seed {seed}: compaction deleted no segment");
            disk.CutPowerAfter(random.Next(0, 400));
            await PayUntilCutAsync(engine, history, 150);
        }
        catch (Exception e) when (IsPowerCut(e))
        {
        }

        await CrashAsync(engine, disk);

        // Life 3: everything from both lives holds.
        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(Options(disk, out _));
        Assert.Empty(Check(reopened, history));
        return history;
    }

    /// <summary>
    /// Pays, snapshots, compacts the journal, pays a little more and cuts the power; then reopens and checks. Returns
    /// how a failure showed (an open that throws, or a problem the checks found), or null when everything held.
    /// </summary>
    private async Task<string?> RunCompactionThenCutAsync(int seed, bool lyingAuditDisk)
    {
        var disk = new SimulatedDisk(seed, Root);
        StoreFileSystem files = lyingAuditDisk ? new LyingDisk(
            disk,
            liesAbout: path => Path.GetFullPath(path).StartsWith(Path.GetFullPath(AuditDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal),
            dropFlush: () => true) : disk;
        var history = new History();

        LedgerEngine engine = await LedgerEngine.OpenAsync(Options(files, out FileLedgerStore store));
        history.Key = engine.AuditVerifierKey!.ToString();
        await CreateAccountsAsync(engine);
        await PayUntilCutAsync(engine, history, 120 + (seed * 17));
        await engine.TakeSnapshotAsync();
        int deleted = await store.CompactAsync();
        Assert.True(deleted > 0, $"seed {seed}: compaction deleted no segment");
        await PayUntilCutAsync(engine, history, 10);
        disk.CutPower();
        await CrashAsync(engine, disk);

        LedgerEngine reopened;
        try
        {
            reopened = await LedgerEngine.OpenAsync(Options(files, out _));
        }
        catch (Exception e) when (lyingAuditDisk && e is AuditLogException or LedgerEngineException)
        {
            return $"the open refused the audit files: {e.GetType().Name}: {e.Message}";
        }

        await using LedgerEngine disposeReopened = reopened;
        List<string> problems = Check(reopened, history);
        return problems.Count == 0 ? null : $"{problems.Count} problems, the first: {problems[0]}";
    }

    private static LedgerEngineOptions Options(StoreFileSystem files, out FileLedgerStore store)
    {
        // Segments of 4 KiB hold about fifteen single-transfer batches, so compaction has whole segments to delete.
        store = new FileLedgerStore(StoreDirectory, new FileLedgerStoreOptions { SegmentSizeBytes = FileLedgerStoreOptions.MinSegmentSizeBytes }, files);
        return new LedgerEngineOptions
        {
            Durability = DurabilityMode.Durable,
            Store = store,
            OperatorKey = AuditEngineTests.Operator,
            InstanceId = 0x5150,
            SnapshotIntervalBatches = 5,
            ClockPulses = false,
            Audit = new AuditOptions { Directory = AuditDirectory, FileSystem = files, CheckpointEveryBatches = 3, CheckpointInterval = TimeSpan.Zero },
        };
    }

    private static async Task CreateAccountsAsync(LedgerEngine engine) =>
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));

    /// <summary>
    /// <see cref="Callers"/> callers pay until <paramref name="count"/> transfers were submitted or the power is cut;
    /// each acknowledged transfer is recorded, every fourth gets its receipt taken at once, every tenth a checkpoint.
    /// </summary>
    private static async Task PayUntilCutAsync(LedgerEngine engine, History history, int count)
    {
        int submitted = 0;
        Task[] callers = [.. Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            try
            {
                for (int n = Interlocked.Increment(ref submitted); n <= count; n = Interlocked.Increment(ref submitted))
                {
                    UInt128 id = history.NextId();
                    if (await engine.CreateTransferAsync(Tr(id, 1, 2, 1)) != CreateTransferResult.Ok)
                    {
                        throw new InvalidOperationException($"transfer {id} failed");
                    }

                    history.Acknowledge(id);
                    if (n % 4 == 0)
                    {
                        Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt(id, out AuditReceipt? receipt));
                        history.AddReceipt(receipt!.ToBytes());
                    }

                    if (n % 10 == 0)
                    {
                        history.AddCheckpoint(engine.Checkpoint());
                    }
                }
            }
            catch (Exception e) when (IsPowerCut(e))
            {
                // The cut reached this caller: what was acknowledged before it is what counts.
            }
        }))];
        await Task.WhenAll(callers);
    }

    /// <summary>What the reopened engine must still give: a list of every way it does not (empty when all holds).</summary>
    private static List<string> Check(LedgerEngine engine, History history)
    {
        var problems = new List<string>();
        Assert.Equal(history.Key, engine.AuditVerifierKey!.ToString());
        NoteVerifierKey key = engine.AuditVerifierKey!;
        SignedCheckpoint now = engine.Checkpoint();
        Assert.True(now.Size <= engine.DurableAuditTreeSize);

        foreach (SignedCheckpoint before in history.Checkpoints)
        {
            if (!IsConsistent(engine, before.Checkpoint, now))
            {
                problems.Add($"the checkpoint of size {before.Size} (batch {before.BatchNumber}) is not consistent with the reopened one of size {now.Size}");
            }
        }

        if (engine.LatestCheckpoint is { } latest && !IsConsistent(engine, latest.Checkpoint, now))
        {
            problems.Add($"the latest checkpoint (size {latest.Size}) is not consistent with a new one");
        }

        foreach (byte[] bytes in history.Receipts)
        {
            // Offline, the receipt verifies as it did (nothing of the ledger is needed for that) ...
            Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(bytes, key, out AuditLeaf leaf));
            Assert.True(AuditReceipt.TryParse(bytes, out AuditReceipt? receipt, out _));
            Assert.True(Checkpoint.TryParse(SignedNoteText(receipt.CheckpointNote, key), out Checkpoint? signed, out _));

            // ... and the ledger still holds the same leaf at the same place, in a tree that extends the one it signed.
            ReceiptStatus status = engine.TryGetReceipt(leaf.BatchNumber, leaf.EventIndex, out AuditReceipt? again);
            if (status == ReceiptStatus.Compacted)
            {
                // Its batch was compacted out of the journal: the leaf's bytes are the receipt holder's now, and the tiles
                // must still prove them at their place in the reopened tree.
                byte[] proof = engine.GetInclusionProof(receipt.LeafIndex, now.Size);
                byte[] leafHash = new byte[MerkleHashes.Size];
                MerkleHashes.Leaf(receipt.LeafBytes.Span, leafHash);
                if (!MerkleProofs.VerifyInclusion(receipt.LeafIndex, now.Size, leafHash, proof, now.Checkpoint.RootHash))
                {
                    problems.Add($"the compacted leaf {receipt.LeafIndex} (a receipt was given for it) is no longer provable");
                }

                continue;
            }

            if (status != ReceiptStatus.Ok)
            {
                problems.Add($"the leaf of batch {leaf.BatchNumber} event {leaf.EventIndex} (a receipt was given for it) is {status}");
                continue;
            }

            if (again!.LeafIndex != receipt.LeafIndex || !again.LeafBytes.Span.SequenceEqual(receipt.LeafBytes.Span))
            {
                problems.Add($"leaf {receipt.LeafIndex} became leaf {again.LeafIndex} with other bytes");
            }

            if (!IsConsistent(engine, signed, now))
            {
                problems.Add($"the checkpoint of a receipt (size {signed.Size}) is not consistent with the reopened one");
            }
        }

        foreach (UInt128 id in history.Acknowledged)
        {
            ReceiptStatus status = engine.TryGetReceipt(id, out AuditReceipt? receipt);
            if (status == ReceiptStatus.Compacted)
            {
                // Its batch was compacted away (the leaves of those with receipts were proved above).
                continue;
            }

            if (status != ReceiptStatus.Ok)
            {
                problems.Add($"acknowledged transfer {id}: {status}");
                continue;
            }

            ReceiptResult result = ReceiptVerifier.Verify(receipt!, key, out AuditLeaf leaf);
            if (result != ReceiptResult.Ok || !leaf.TryGetTransfer(out Transfer transfer) || transfer.Id != id || !leaf.IsOk)
            {
                problems.Add($"acknowledged transfer {id}: its receipt is {result}");
            }
        }

        return problems;
    }

    private static bool IsConsistent(LedgerEngine engine, Checkpoint before, SignedCheckpoint now)
    {
        if (before.Size > now.Size)
        {
            return false;
        }

        byte[] proof = engine.GetConsistencyProof(before.Size, now.Size);
        return MerkleProofs.VerifyConsistency(before.Size, now.Size, before.RootHash, now.Checkpoint.RootHash, proof);
    }

    private static string? SignedNoteText(string note, NoteVerifierKey key) =>
        SignedNote.TryOpen(System.Text.Encoding.UTF8.GetBytes(note), [key], out string? text, out _) == NoteResult.Ok ? text : null;

    /// <summary>The engine dies with the power: disposed (its calls fail on the dead disk), then the disk reboots.</summary>
    private static async Task CrashAsync(LedgerEngine engine, SimulatedDisk disk)
    {
        disk.CutPower();
        try
        {
            await engine.DisposeAsync();
        }
        catch (Exception e) when (IsPowerCut(e))
        {
            // The engine faulted on the dead disk.
        }

        disk.Restart();
    }

    private static bool IsPowerCut(Exception e) =>
        e is LedgerEngineException or LedgerStoreException or IOException or ObjectDisposedException ||
        (e is AggregateException aggregate && aggregate.InnerExceptions.All(IsPowerCut));

    /// <summary>What one run handed out: acknowledged transfers, receipts and checkpoints (any thread).</summary>
    private sealed class History
    {
        private readonly Lock _lock = new();
        private ulong _nextId = 1_000;

        public string? Key { get; set; }

        public List<UInt128> Acknowledged { get; } = [];

        public List<byte[]> Receipts { get; } = [];

        public List<SignedCheckpoint> Checkpoints { get; } = [];

        public UInt128 NextId() => Interlocked.Increment(ref _nextId);

        public void Acknowledge(UInt128 id)
        {
            lock (_lock)
            {
                Acknowledged.Add(id);
            }
        }

        public void AddReceipt(byte[] receipt)
        {
            lock (_lock)
            {
                Receipts.Add(receipt);
            }
        }

        public void AddCheckpoint(SignedCheckpoint checkpoint)
        {
            lock (_lock)
            {
                Checkpoints.Add(checkpoint);
            }
        }
    }
}
