using System.IO.Hashing;
using FsCheck;
using FsCheck.Fluent;
using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Xunit;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// The offline auditor over a real ledger (accounts, transfers some of which fail, keys, plain and co-signed orders,
/// cumulative and hash-chain channels with vouchers, ticks, a top-up and both closes): intact, then each kind of damage
/// and tampering, down to an attacker with write access who recomputes checksums, the hash chain, the headers' roots and
/// the audit files, and is caught by the signed checkpoints alone.
/// </summary>
public sealed class AuditVerifierTests() : TemporaryDirectoryTest("mp-audit-verifier-")
{
    private const ulong Hour = 3_600UL * 1_000_000_000UL;
    private const int TransferBatches = 12;
    private const int TransfersPerBatch = 25;
    private static readonly UInt128 Bank = 1;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;
    private static readonly UInt128 Other = 4;

    // RFC 8032 section 7.1, tests 1 and 2's secret keys: the payer's device and phone.
    private static readonly SigningKey Device = SigningKey.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), SigningKeyFormat.RawSeed);
    private static readonly SigningKey Phone = SigningKey.Import(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"), SigningKeyFormat.RawSeed);

    private string Journal => Path.Combine(Directory, "journal");

    private string Tiles => Path.Combine(Directory, "audit");

    private string Segment => System.IO.Directory.GetFiles(Journal, "segment-*.seg").Single();

    [Fact]
    public async Task VerifyAsync_IntactLedger_ReplaysEverythingAndVerifiesEveryCheckpointAndSignature()
    {
        Built built = await BuildAsync();
        var reports = new List<AuditProgress>();

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key, new SynchronousProgress(reports.Add));

        Assert.True(report.IsIntact, string.Join("\n", report.Findings));
        Assert.Equal(built.LastBatch, report.LastBatch);
        Assert.Equal(1UL, report.FirstReplayedBatch);
        Assert.Equal(built.LastBatch, report.Batches);
        Assert.Equal(built.Leaves, report.Leaves);
        Assert.True(report.Leaves > 256, "the ledger must fill a level-1 tile");
        Assert.Equal(built.Checkpoints, report.CheckpointsVerified);
        Assert.True(report.CheckpointsVerified >= 5);
        Assert.Equal(built.SignedEvents, report.SignaturesVerified);
        Assert.Equal(built.Root, report.RootHash.ToArray());
        AuditProgress last = reports[^1];
        Assert.Equal(last.BytesTotal, last.BytesDone);
        Assert.Equal(2 * new FileInfo(Segment).Length, last.BytesTotal);
        Assert.Equal(built.LastBatch, last.BatchesDone);
    }

    [Fact]
    public async Task VerifyAsync_ManySegments_IsIntact()
    {
        Built built = await BuildAsync(segmentSize: 8 * 1024);
        Assert.True(System.IO.Directory.GetFiles(Journal, "segment-*.seg").Length > 3);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.True(report.IsIntact, string.Join("\n", report.Findings));
        Assert.Equal(built.LastBatch, report.Batches);
        Assert.Equal(built.Checkpoints, report.CheckpointsVerified);
    }

    [Fact]
    public async Task VerifyAsync_FlippedByteInTheMiddleOfASegment_IsRecordDamagedAtThatBatchAndOffset()
    {
        Built built = await BuildAsync();
        List<RecordInfo> records = ReadRecords(Segment);
        long middle = new FileInfo(Segment).Length / 2;
        RecordInfo hit = records.Single(r => r.Offset <= middle && middle < r.Offset + r.Length);
        await FlipByteAsync(Segment, middle);
        byte[] before = await File.ReadAllBytesAsync(Segment);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding damaged = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.RecordDamaged);
        Assert.Equal(hit.Batch, damaged.BatchNumber);
        Assert.Equal(hit.Offset, damaged.Offset);
        Assert.Equal(Segment, damaged.Location);
        AuditFinding notVerified = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.NotVerified);
        Assert.Equal(hit.Batch, notVerified.BatchNumber);
        Assert.Equal(2, report.Findings.Count);
        Assert.Equal(hit.Batch - 1, report.Batches);
        Assert.Equal(before, await File.ReadAllBytesAsync(Segment));
    }

    [Fact]
    public async Task VerifyAsync_BatchRemoved_IsBatchMissingWhereItShouldBe()
    {
        Built built = await BuildAsync();
        SegmentFile journal = SegmentFile.Read(Segment);
        int at = journal.Records.Count / 2;
        ulong removed = journal.Records[at].Batch;
        long offset = journal.Records[at].Offset;
        journal.Records.RemoveAt(at);
        journal.Write(Segment);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding missing = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.BatchMissing);
        Assert.Equal(removed, missing.BatchNumber);
        Assert.Equal(offset, missing.Offset);
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.NotVerified && f.BatchNumber == removed);
        Assert.Equal(2, report.Findings.Count);
    }

    [Fact]
    public async Task VerifyAsync_TwoBatchesSwapped_IsBatchOutOfOrderAndTheRestStillReplays()
    {
        Built built = await BuildAsync();
        SegmentFile journal = SegmentFile.Read(Segment);
        int at = journal.Records.Count / 2;
        ulong moved = journal.Records[at].Batch;
        long offset = journal.Records[at].Offset + FileLedgerStore.FrameSize + journal.Records[at + 1].Payload.Length;
        (journal.Records[at], journal.Records[at + 1]) = (journal.Records[at + 1], journal.Records[at]);
        journal.Write(Segment);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding swapped = Assert.Single(report.Findings);
        Assert.Equal(AuditFindingKind.BatchOutOfOrder, swapped.Kind);
        Assert.Equal(moved, swapped.BatchNumber);
        Assert.Equal(offset, swapped.Offset);
        Assert.Equal(built.LastBatch, report.Batches);
        Assert.Equal(built.Checkpoints, report.CheckpointsVerified);
    }

    [Fact]
    public async Task VerifyAsync_AmountRewrittenWithChecksumChainHeadersAndAuditFilesRecomputed_IsCaughtOnlyByTheSignedCheckpoints()
    {
        Built built = await BuildAsync();
        ulong batch = TransferBatchNumbers(Segment)[2];

        // An attacker with write access changes the amount of a transfer between accounts without limits (so no result
        // changes), and recomputes everything but a signature.
        Tamper.RewriteEvent(Segment, Tiles, batch, eventIndex: 0, record =>
        {
            Assert.Equal((UInt128)10, System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(record[48..]));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(record[48..], 11);
        });

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.NotEmpty(report.Findings);
        Assert.All(report.Findings, f => Assert.Equal(AuditFindingKind.CheckpointContradicted, f.Kind));
        AuditFinding first = report.Findings[0];
        Assert.True(first.BatchNumber >= batch, first.ToString());
        Assert.Equal(Path.Combine(Tiles, "checkpoints.bin"), first.Location);
        List<(long Offset, ulong Batch, string Note)> checkpoints = AuditLog.ReadCheckpointRecords(await File.ReadAllBytesAsync(first.Location), out _);
        (long Offset, ulong Batch, string Note) contradicted = checkpoints.Single(c => c.Offset == first.Offset);
        Assert.Equal(contradicted.Batch, first.BatchNumber);
        ulong lastGood = checkpoints.Where(c => c.Batch < batch).Max(c => c.Batch);
        Assert.Contains($"somewhere in batches {lastGood + 1} to ", first.Message, StringComparison.Ordinal);

        // Every checkpoint before the rewritten batch still verifies; every one after it is contradicted.
        Assert.Equal(checkpoints.Count(c => c.Batch < batch), report.CheckpointsVerified);
        Assert.Equal(checkpoints.Count(c => c.Batch >= batch), report.Findings.Count);
        Assert.Equal(built.LastBatch, report.Batches);
    }

    [Fact]
    public async Task VerifyAsync_AmountRewrittenWithOnlyItsChecksum_BreaksTheChainTheLeafTheTilesAndTheHeadersRoots()
    {
        Built built = await BuildAsync();
        ulong batch = TransferBatchNumbers(Segment)[2];
        SegmentFile journal = SegmentFile.Read(Segment);
        RecordInfo record = journal.Records.Single(r => r.Batch == batch);
        record.Payload[CommitBatchHeader.Size + 48] ^= 1;
        journal.Write(Segment);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding chain = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.ChainBroken);
        Assert.Equal(batch + 1, chain.BatchNumber);
        Assert.DoesNotContain(report.Findings, f => f.Kind == AuditFindingKind.LeafMismatch);
        long leafIndex = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(
            (await File.ReadAllBytesAsync(Path.Combine(Tiles, "batches.bin"))).AsSpan((int)(batch - 1) * AuditLog.BatchRecordSize));
        AuditFinding leaf = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.TileMismatch && Path.GetFileName(f.Location) == "hashes-0.bin");
        Assert.Equal(batch, leaf.BatchNumber);
        Assert.Equal(leafIndex * 32, leaf.Offset);
        Assert.StartsWith($"Leaf {leafIndex}'s hash", leaf.Message, StringComparison.Ordinal);
        Assert.Equal(batch, report.Findings.First(f => f.Kind == AuditFindingKind.HeaderRootMismatch).BatchNumber);
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.CheckpointContradicted);
    }

    [Fact]
    public async Task VerifyAsync_ForgedOrderSignatureWithEverythingElseRecomputed_IsSignatureInvalidAtThatEvent()
    {
        Built built = await BuildAsync();
        SegmentFile journal = SegmentFile.Read(Segment);
        RecordInfo orders = journal.Records.First(r => ReadHeader(r).Operation == BatchOperation.ExecuteOrders);
        Tamper.RewriteEvent(Segment, Tiles, orders.Batch, eventIndex: 0, record => record[PaymentOrder.SignedSize + 3] ^= 0x40);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding forged = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.SignatureInvalid);
        Assert.Equal(orders.Batch, forged.BatchNumber);
        Assert.Equal(orders.Offset + FileLedgerStore.FrameSize + CommitBatchHeader.Size, forged.Offset);
        Assert.Contains(nameof(OrderResult.BadSignature), forged.Message, StringComparison.Ordinal);
        Assert.All(report.Findings.Where(f => f != forged), f => Assert.Equal(AuditFindingKind.CheckpointContradicted, f.Kind));
        Assert.Equal(built.SignedEvents - 1, report.SignaturesVerified);
    }

    [Fact]
    public async Task VerifyAsync_ForgedVoucherSignature_IsSignatureInvalid()
    {
        Built built = await BuildAsync();
        RecordInfo vouchers = SegmentFile.Read(Segment).Records.First(r => ReadHeader(r).Operation == BatchOperation.RedeemVouchers);
        Tamper.RewriteEvent(Segment, Tiles, vouchers.Batch, eventIndex: 0, record => record[^1] ^= 1);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding forged = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.SignatureInvalid);
        Assert.Equal(vouchers.Batch, forged.BatchNumber);
        Assert.Contains(nameof(ChannelResult.BadSignature), forged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_CorruptedTiles_AreTileMismatchAtTheirOffsets()
    {
        Built built = await BuildAsync();
        await FlipByteAsync(Path.Combine(Tiles, "hashes-0.bin"), (10 * 32) + 3);
        await FlipByteAsync(Path.Combine(Tiles, "hashes-1.bin"), 5);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.Equal(2, report.Findings.Count);
        Assert.All(report.Findings, f => Assert.Equal(AuditFindingKind.TileMismatch, f.Kind));
        Assert.Contains(report.Findings, f => Path.GetFileName(f.Location) == "hashes-0.bin" && f.Offset == 10 * 32);
        Assert.Contains(report.Findings, f => Path.GetFileName(f.Location) == "hashes-1.bin" && f.Offset == 0 && f.Message.Contains("tile 1/0", StringComparison.Ordinal));
        Assert.Equal(built.Checkpoints, report.CheckpointsVerified);
    }

    [Fact]
    public async Task VerifyAsync_ChangedLeafAndBatchRecordAndCheckpoint_AreEachReported()
    {
        Built built = await BuildAsync();
        await FlipByteAsync(Path.Combine(Tiles, "results.bin"), 0);
        await FlipByteAsync(Path.Combine(Tiles, "batches.bin"), (3 * AuditLog.BatchRecordSize) + 8);
        string checkpoints = Path.Combine(Tiles, "checkpoints.bin");
        (long Offset, ulong Batch, string Note) first = AuditLog.ReadCheckpointRecords(await File.ReadAllBytesAsync(checkpoints), out _)[0];
        await FlipByteAsync(checkpoints, first.Offset + 12 + 2);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding leaf = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.LeafMismatch);
        Assert.Equal(1UL, leaf.BatchNumber);
        Assert.Equal(0, leaf.Offset);
        Assert.Contains("has result", leaf.Message, StringComparison.Ordinal);
        Assert.Equal(4UL, Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.BatchIndexMismatch).BatchNumber);
        AuditFinding checkpoint = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.CheckpointInvalid);
        Assert.Equal(first.Offset, checkpoint.Offset);
        Assert.Equal(3, report.Findings.Count);
        Assert.Equal(built.Checkpoints - 1, report.CheckpointsVerified);
    }

    [Fact]
    public async Task VerifyAsync_TornLastRecord_IsReportedAndNotCut()
    {
        Built built = await BuildAsync();
        RecordInfo last = ReadRecords(Segment)[^1];
        using (FileStream file = File.OpenWrite(Segment))
        {
            file.SetLength(last.Offset + (last.Length / 2));
        }

        long length = new FileInfo(Segment).Length;

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        AuditFinding torn = Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.RecordDamaged);
        Assert.Equal(last.Batch, torn.BatchNumber);
        Assert.Equal(last.Offset, torn.Offset);
        Assert.Contains("torn write", torn.Message, StringComparison.Ordinal);

        // The batch was durable and a checkpoint covers it: its loss is not silent.
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.CheckpointContradicted && f.Message.Contains("covers more than", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.LeafMismatch && f.Message.Contains("past the journal's last leaf", StringComparison.Ordinal));
        Assert.Equal(length, new FileInfo(Segment).Length);
    }

    [Fact]
    public async Task VerifyAsync_CompactedJournal_StartsFromTheSnapshotAndChecksTheEarlierLeavesFromTheAuditFiles()
    {
        Built built = await BuildAsync(segmentSize: 8 * 1024, snapshotMidway: true);
        await using (var store = new FileLedgerStore(Journal))
        {
            await store.OpenAsync();
            Assert.True(await store.CompactAsync() > 0);
        }

        ulong journalStart = FirstBatchInJournal();
        Assert.True(journalStart > 1);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.True(report.IsIntact, string.Join("\n", report.Findings));
        Assert.True(report.FirstReplayedBatch > 1 && report.FirstReplayedBatch <= journalStart, $"{report.FirstReplayedBatch} / {journalStart}");
        Assert.Equal(built.LastBatch - report.FirstReplayedBatch + 1, report.Batches);
        Assert.Equal(built.Leaves, report.Leaves);
        Assert.Equal(built.Checkpoints, report.CheckpointsVerified);

        // The leaves before the snapshot come from the audit files' leaf hashes: a changed one is still caught, by the
        // tile above it, the snapshot's root and the checkpoints over it.
        await FlipByteAsync(Path.Combine(Tiles, "hashes-0.bin"), 8);
        AuditReport changed = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);
        AuditFinding snapshotRoot = Assert.Single(changed.Findings, f => f.Kind == AuditFindingKind.TileMismatch);
        Assert.Contains("but the snapshot of batch", snapshotRoot.Message, StringComparison.Ordinal);
        List<(long Offset, ulong Batch, string Note)> checkpoints = AuditLog.ReadCheckpointRecords(await File.ReadAllBytesAsync(Path.Combine(Tiles, "checkpoints.bin")), out _);
        int beforeSnapshot = checkpoints.Count(c => c.Batch <= snapshotRoot.BatchNumber);
        Assert.Equal(beforeSnapshot, changed.Findings.Count(f => f.Kind == AuditFindingKind.CheckpointContradicted));
        Assert.Equal(0, changed.Findings.Single(f => f.Kind == AuditFindingKind.CheckpointContradicted && f.BatchNumber == checkpoints[0].Batch).Offset);
        Assert.Equal(built.Checkpoints - beforeSnapshot, changed.CheckpointsVerified);
        Assert.Equal(beforeSnapshot + 1, changed.Findings.Count);
    }

    [Fact]
    public async Task VerifyAsync_CompactedJournalWithoutItsSnapshot_IsBatchMissingAndNothingIsReplayed()
    {
        Built built = await BuildAsync(segmentSize: 8 * 1024, snapshotMidway: true);
        await using (var store = new FileLedgerStore(Journal))
        {
            await store.OpenAsync();
            await store.CompactAsync();
        }

        foreach (string snapshot in System.IO.Directory.GetFiles(Journal, "snapshot-*.snap"))
        {
            File.Delete(snapshot);
        }

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.Equal(1UL, Assert.Single(report.Findings, f => f.Kind == AuditFindingKind.BatchMissing).BatchNumber);
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.NotVerified);
        Assert.Equal(0UL, report.Batches);
        Assert.Equal(0UL, report.FirstReplayedBatch);
    }

    [Fact]
    public async Task VerifyAsync_JournalCutShortAtARecordBoundary_IsCaughtByTheCheckpointsPastIt()
    {
        Built built = await BuildAsync();
        SegmentFile journal = SegmentFile.Read(Segment);
        journal.Records.RemoveRange(journal.Records.Count - 3, 3);
        journal.Write(Segment);

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.CheckpointContradicted && f.BatchNumber == built.LastBatch);
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.LeafMismatch && f.Message.Contains("past the journal's last leaf", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.BatchIndexMismatch);
        Assert.Equal(built.LastBatch - 3, report.LastBatch);
    }

    [Fact]
    public async Task VerifyAsync_WrongKeyOrMissingAuditFiles_ReportsWithoutThrowing()
    {
        Built built = await BuildAsync();
        using SigningKey stranger = SigningKey.Generate();

        AuditReport wrongKey = await AuditVerifier.VerifyAsync(Journal, Tiles, NoteVerifierKey.Create(built.Key.Name, stranger.VerificationKey));
        Assert.Equal(built.Checkpoints, wrongKey.Findings.Count(f => f.Kind == AuditFindingKind.CheckpointInvalid));
        Assert.Equal(0, wrongKey.CheckpointsVerified);

        AuditReport noAudit = await AuditVerifier.VerifyAsync(Journal, Path.Combine(Directory, "nowhere"), built.Key);
        Assert.Contains(noAudit.Findings, f => f.Kind == AuditFindingKind.LeafMismatch);
        Assert.Contains(noAudit.Findings, f => f.Kind == AuditFindingKind.TileMismatch);
        Assert.Contains(noAudit.Findings, f => f.Kind == AuditFindingKind.BatchIndexMismatch);
        Assert.Contains(noAudit.Findings, f => f.Kind == AuditFindingKind.CheckpointInvalid);
        Assert.Equal(built.LastBatch, noAudit.Batches);
        Assert.False(System.IO.Directory.Exists(Path.Combine(Directory, "nowhere")));
    }

    [Fact]
    public async Task VerifyAsync_GarbageEverywhere_NeverThrows()
    {
        Built built = await BuildAsync(segmentSize: 8 * 1024);
        var random = new Random(1234);
        foreach (string file in System.IO.Directory.GetFiles(Journal, "segment-*.seg").Concat(System.IO.Directory.GetFiles(Tiles)))
        {
            byte[] bytes = await File.ReadAllBytesAsync(file);
            for (int i = 0; i < 1 + (bytes.Length / 2000); i++)
            {
                if (bytes.Length > 0)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
                }
            }

            await File.WriteAllBytesAsync(file, bytes);
        }

        AuditReport report = await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Assert.False(report.IsIntact);
        Assert.Contains(report.Findings, f => f.Kind == AuditFindingKind.RecordDamaged);
    }

    [Fact]
    public async Task VerifyAsync_ChangesNoFile()
    {
        Built built = await BuildAsync();
        RecordInfo last = ReadRecords(Segment)[^1];
        using (FileStream file = File.OpenWrite(Segment))
        {
            file.SetLength(last.Offset + 10);
        }

        Dictionary<string, byte[]> before = AllFiles();

        await AuditVerifier.VerifyAsync(Journal, Tiles, built.Key);

        Dictionary<string, byte[]> after = AllFiles();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach ((string path, byte[] bytes) in before)
        {
            Assert.Equal(bytes, after[path]);
        }
    }

    [Fact]
    public async Task VerifyAsync_AnyByteOfTheJournalOrAuditFilesChanged_IsNeverIntact()
    {
        // Every byte the verifier reads is covered: a change anywhere in a segment or an audit file (a flip of any bits
        // at any offset, chosen by FsCheck) is a finding. Snapshot files are left out: for a journal that starts at batch
        // 1 the verifier does not read them.
        Built built = await BuildAsync();
        string[] files = [.. System.IO.Directory.GetFiles(Journal, "segment-*.seg"), .. System.IO.Directory.GetFiles(Tiles).Order().Where(f => new FileInfo(f).Length > 0)];
        Assert.Equal(["batches.bin", "checkpoints.bin", "hashes-0.bin", "hashes-1.bin", "results.bin"], files.Skip(1).Select(Path.GetFileName).Order());
        Dictionary<string, byte[]> original = files.ToDictionary(f => f, File.ReadAllBytes);
        Gen<(int File, double Where, byte Mask)> changes =
            from file in Gen.Choose(0, files.Length - 1)
            from at in Gen.Choose(0, 1_000_000).Select(x => x / 1_000_001.0)
            from mask in Gen.Choose(1, 255).Select(x => (byte)x)
            select (file, at, mask);

        Prop.ForAll(changes.ToArbitrary(), change =>
        {
            string path = files[change.File];
            byte[] bytes = [.. original[path]];
            int offset = (int)(change.Where * bytes.Length);
            bytes[offset] ^= change.Mask;
            File.WriteAllBytes(path, bytes);
            try
            {
                AuditReport report = Task.Run(() => AuditVerifier.VerifyAsync(Journal, Tiles, built.Key).AsTask()).GetAwaiter().GetResult();
                return !report.IsIntact;
            }
            finally
            {
                File.WriteAllBytes(path, original[path]);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Fact]
    public void CarriesSignatures_EveryOperationIsClassified()
    {
        BatchOperation[] unsigned = [BatchOperation.CreateAccounts, BatchOperation.CreateTransfers, BatchOperation.SetInstanceId, BatchOperation.TopUpChannels, BatchOperation.ManageKeys];
        foreach (Operation operation in OperationRegistry.Default.All)
        {
            // A new kind must be classified here: either its signatures are re-verified or it carries none.
            Assert.True(
                operation.CarriesSignatures != unsigned.Contains(operation.Code),
                $"{operation}: is it signed? Override CarriesSignatures and RecheckEdge in its description, or list it here as unsigned.");
        }
    }

    [Fact]
    public async Task VerifyAsync_BadArguments_Throw()
    {
        NoteVerifierKey key = NoteVerifierKey.Create("x", Device.VerificationKey);
        await Assert.ThrowsAsync<ArgumentException>(async () => await AuditVerifier.VerifyAsync("", Tiles, key));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await AuditVerifier.VerifyAsync(Journal, Tiles, null!));
        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () => await AuditVerifier.VerifyAsync(Journal, Tiles, key));
    }

    /// <summary>
    /// Builds the ledger through a durable engine with its audit log (a checkpoint every four batches and one at the end)
    /// and closes it; returns what the verifier must find.
    /// </summary>
    private async Task<Built> BuildAsync(long segmentSize = FileLedgerStoreOptions.DefaultSegmentSizeBytes, bool snapshotMidway = false)
    {
        int signed = 0;
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(segmentSize));
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee), Acct(Other) }, new CreateAccountResult[4]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(1, Bank, Payer, 1_000_000)));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Device.VerificationKey, SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, Phone.VerificationKey, SpendingPolicy.Unlimited));

        // Transfers in batches, every fifth to an account that does not exist (a failed event is a leaf too).
        for (int batch = 0; batch < TransferBatches; batch++)
        {
            Transfer[] transfers = [.. Enumerable.Range(0, TransfersPerBatch).Select(i =>
            {
                UInt128 id = (UInt128)(1000 + (batch * TransfersPerBatch) + i);
                return i % 5 == 4 ? Tr(id, Bank, 99, 7) : Tr(id, Bank, Other, (UInt128)(10 + i));
            })];
            Assert.Equal(TransfersPerBatch / 5, await engine.CreateTransfersAsync(transfers, new CreateTransferResult[TransfersPerBatch]));
            if (snapshotMidway && batch == TransferBatches / 2)
            {
                Assert.NotEqual(0UL, await engine.TakeSnapshotAsync());
            }
        }

        Assert.Equal(CreateTransferResult.ExceedsCredits, await engine.CreateTransferAsync(Tr(5000, Payer, Payee, 10_000_000)));

        // Payment orders: single, co-signed, and a batch.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(Order(engine, (UInt128)(6000 + i), 50)));
            signed++;
        }

        PaymentOrder big = Order(engine, 6100, 70);
        Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(big.WithCoSignature(CoSignature.SignEd25519(Phone, big, engine.InstanceId))));
        signed++;
        Assert.Equal(0, await engine.ExecuteOrdersAsync(new[] { Order(engine, 6200, 5), Order(engine, 6201, 6) }, new OrderResult[2]));
        signed += 2;

        // A cumulative channel: open, vouchers, a top-up, the payer's unilateral close.
        ChannelConfig cumulative = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, Device.VerificationKey, ulong.MaxValue - 1, Hour, 0);
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(Device, cumulative, 5_000)));
        signed++;
        for (ulong sequence = 1; sequence <= 3; sequence++)
        {
            Assert.Equal(ChannelResult.Ok, await engine.RedeemVoucherAsync(Voucher.Sign(Device, engine.InstanceId, cumulative.Id, 0, sequence, (UInt128)(100 * sequence), ulong.MaxValue)));
            signed++;
        }

        Assert.Equal(ChannelResult.Ok, await engine.TopUpChannelAsync(new ChannelTopUp(7000, cumulative.Id, 100)));
        Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Unilateral(Device, engine.InstanceId, cumulative.Id)));
        signed++;

        // A hash-chain channel: open, two ticks, a cooperative close (which carries no signature).
        using (HashChainWallet chain = HashChainWallet.Create(20))
        {
            ChannelConfig hashChain = ChannelConfig.CreateHashChain(engine.InstanceId, Payer, Payee, 1, Device.VerificationKey, ulong.MaxValue - 1, Hour, 1, chain.Root, unitAmount: 10, chainLength: 20);
            Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(ChannelOpenRequest.Sign(Device, hashChain, 300)));
            signed++;
            Assert.Equal(ChannelResult.Ok, await engine.RedeemTickAsync(chain.NextTick(hashChain.Id, 2)));
            Assert.Equal(ChannelResult.Ok, await engine.RedeemTickAsync(chain.NextTick(hashChain.Id, 3)));
            signed += 2;
            Assert.Equal(ChannelResult.Ok, await engine.CloseChannelAsync(ChannelClose.Cooperative(hashChain.Id)));
        }

        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(8000 + i), Other, Bank, 1)));
        }

        return await DescribeAsync(engine, signed);
    }

    private async Task<Built> DescribeAsync(LedgerEngine engine, int signed)
    {
        SignedCheckpoint final = engine.Checkpoint();
        await engine.DisposeAsync();
        int checkpoints = AuditLog.ReadCheckpointRecords(await File.ReadAllBytesAsync(Path.Combine(Tiles, "checkpoints.bin")), out _).Count;
        return new Built(engine.AuditVerifierKey!, final.BatchNumber, final.Size, final.Checkpoint.RootHash.ToArray(), checkpoints, signed);
    }

    private LedgerEngineOptions Options(long segmentSize) => new()
    {
        Durability = DurabilityMode.Durable,
        Store = new FileLedgerStore(Journal, new FileLedgerStoreOptions { SegmentSizeBytes = segmentSize, SnapshotsToKeep = 0 }),
        OperatorKey = AuditEngineTests.Operator,
        ClockPulses = false,
        Audit = new AuditOptions { Directory = Tiles, CheckpointEveryBatches = 4, CheckpointInterval = TimeSpan.Zero },
    };

    private static PaymentOrder Order(LedgerEngine engine, UInt128 id, UInt128 amount) =>
        PaymentOrder.Sign(Device, engine.InstanceId, Tr(id, Payer, Payee, amount), ulong.MaxValue);

    private static CommitBatchHeader ReadHeader(RecordInfo record) => Header(record.Payload);

    /// <summary>The batches of <see cref="TransfersPerBatch"/> transfers, in order.</summary>
    private static List<ulong> TransferBatchNumbers(string segment) =>
        [.. SegmentFile.Read(segment).Records.Where(r => ReadHeader(r) is { Operation: BatchOperation.CreateTransfers, EventCount: TransfersPerBatch }).Select(r => r.Batch)];

    private static List<RecordInfo> ReadRecords(string segment) => SegmentFile.Read(segment).Records;

    private ulong FirstBatchInJournal() => SegmentFile.Read(System.IO.Directory.GetFiles(Journal, "segment-*.seg").Order().First()).Records[0].Batch;

    private Dictionary<string, byte[]> AllFiles() =>
        System.IO.Directory.GetFiles(Directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    private static async Task FlipByteAsync(string path, long offset)
    {
        byte[] bytes = await File.ReadAllBytesAsync(path);
        bytes[offset] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bytes);
    }

    private static CommitBatchHeader Header(byte[] payload)
    {
        Assert.Equal(CommitBatchParseResult.Ok, CommitBatchHeader.TryParse(payload, out CommitBatchHeader header));
        return header;
    }

    private sealed record Built(NoteVerifierKey Key, ulong LastBatch, long Leaves, byte[] Root, int Checkpoints, int SignedEvents);

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool, after the audit returned).</summary>
    private sealed class SynchronousProgress(Action<AuditProgress> report) : IProgress<AuditProgress>
    {
        public void Report(AuditProgress value) => report(value);
    }

    /// <summary>A record of a segment: its batch, where it lies, its length with its frame, and its payload (the encoded batch, editable).</summary>
    private sealed record RecordInfo(ulong Batch, long Offset, long Length, byte[] Payload);

    /// <summary>A segment file read whole (with the store's own scanner), and written back with every record's frame and checksum recomputed.</summary>
    private sealed class SegmentFile
    {
        private byte[] _header = [];
        private ulong _salt;

        public List<RecordInfo> Records { get; } = [];

        public static SegmentFile Read(string path)
        {
            var segment = new SegmentFile();
            byte[] bytes = File.ReadAllBytes(path);
            segment._header = bytes[..FileLedgerStore.FileHeaderSize];
            using StoreFile file = StoreFileSystem.Os.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Assert.Null(FileLedgerStore.ReadSegmentHeader(file, out segment._salt, out _, out _));
            foreach (ScannedRecord record in FileLedgerStore.ScanSegment(file, segment._salt))
            {
                Assert.Null(record.Problem);
                segment.Records.Add(new RecordInfo(record.BatchNumber, record.Offset, record.Length, bytes[(int)(record.Offset + FileLedgerStore.FrameSize)..(int)(record.Offset + record.Length)]));
            }

            return segment;
        }

        public void Write(string path)
        {
            var crc = new Crc32(Crc32ParameterSet.Crc32C);
            using var output = new MemoryStream();
            output.Write(_header);
            foreach (RecordInfo record in Records)
            {
                byte[] framed = new byte[FileLedgerStore.FrameSize + record.Payload.Length];
                record.Payload.CopyTo(framed, FileLedgerStore.FrameSize);
                FileLedgerStore.EncodeFrame(framed, crc, _salt, record.Batch, record.Payload.Length);
                output.Write(framed);
            }

            File.WriteAllBytes(path, output.ToArray());
        }
    }

    /// <summary>The attacker with write access: rewrites an event and recomputes everything that does not need the ledger's key.</summary>
    private static class Tamper
    {
        /// <summary>
        /// Edits event <paramref name="eventIndex"/> of batch <paramref name="batchNumber"/> in the journal, recomputes its
        /// leaf's hash, then the tree's roots in every later version 2 header, the hash chain from there on, every record's
        /// checksum, and every level of tiles. Only checkpoints.bin (signed by the ledger's key) is left as it was.
        /// </summary>
        public static void RewriteEvent(string segmentPath, string auditDirectory, ulong batchNumber, int eventIndex, Action<Span<byte>> edit)
        {
            SegmentFile journal = SegmentFile.Read(segmentPath);
            RecordInfo target = journal.Records.Single(r => r.Batch == batchNumber);
            CommitBatchHeader header = Header(target.Payload);
            edit(target.Payload.AsSpan(CommitBatchHeader.Size + (eventIndex * header.EventSize), header.EventSize));

            // The leaf: its prefix from the batch record and results.bin, then the edited event; its hash replaces the old one in hashes-0.bin.
            byte[] batches = File.ReadAllBytes(Path.Combine(auditDirectory, "batches.bin"));
            ReadOnlySpan<byte> batchRecord = batches.AsSpan((int)((batchNumber - 1) * AuditLog.BatchRecordSize), AuditLog.BatchRecordSize);
            long leafIndex = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(batchRecord) + eventIndex;
            ulong timestamp = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(batchRecord[8..]) + (ulong)eventIndex;
            uint result = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(Path.Combine(auditDirectory, "results.bin")).AsSpan((int)(leafIndex * 4)));
            byte[] leaf = new byte[AuditLeaf.HeaderSize + header.EventSize];
            AuditLeaf.WriteHeader(leaf, header.Operation, result, timestamp, batchNumber, eventIndex, header.EventSize);
            target.Payload.AsSpan(CommitBatchHeader.Size + (eventIndex * header.EventSize), header.EventSize).CopyTo(leaf.AsSpan(AuditLeaf.HeaderSize));
            byte[] level0 = File.ReadAllBytes(Path.Combine(auditDirectory, "hashes-0.bin"));
            MerkleHashes.Leaf(leaf, level0.AsSpan((int)(leafIndex * 32), 32));
            var leafHashes = new List<byte[]>();
            for (int i = 0; i < level0.Length / 32; i++)
            {
                leafHashes.Add(level0[(i * 32)..((i + 1) * 32)]);
            }

            var log = new MerkleLog();
            foreach (byte[] hash in leafHashes)
            {
                log.AppendLeafHash(hash);
            }

            // The headers' roots and the chain, from the rewritten batch on.
            byte[] root = new byte[32];
            for (int i = journal.Records.IndexOf(target); i < journal.Records.Count; i++)
            {
                byte[] payload = journal.Records[i].Payload;
                CommitBatchHeader h = Header(payload);
                if (i > 0 && journal.Records[i].Batch > batchNumber)
                {
                    BatchHash.Compute(journal.Records[i - 1].Payload).CopyTo(payload.AsSpan(32, 32));
                }

                if (h.Version == CommitBatchHeader.Version2)
                {
                    log.GetRoot((long)h.AuditTreeSize, root);
                    root.CopyTo(payload, 64);
                }
            }

            journal.Write(segmentPath);

            // Every level of tiles: level L holds the roots of the complete subtrees of 256^L leaves.
            for (int level = 0; level < 8; level++)
            {
                long width = 1L << (8 * level);
                using var tiles = new MemoryStream();
                for (long start = 0; start + width <= leafHashes.Count; start += width)
                {
                    var subtree = new MerkleLog();
                    for (long j = start; j < start + width; j++)
                    {
                        subtree.AppendLeafHash(leafHashes[(int)j]);
                    }

                    subtree.GetRoot(root);
                    tiles.Write(root);
                }

                File.WriteAllBytes(Path.Combine(auditDirectory, $"hashes-{level}.bin"), tiles.ToArray());
            }
        }
    }
}
