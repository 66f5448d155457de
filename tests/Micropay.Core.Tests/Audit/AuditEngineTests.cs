using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Xunit;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Audit;

/// <summary>The audit log inside the engine: leaves, headers, checkpoints over durable batches, receipts, reopen.</summary>
public sealed class AuditEngineTests() : TemporaryDirectoryTest("mp-audit-engine-")
{
    internal static readonly SigningKey Operator = SigningKey.Import(Convert.FromHexString("0202020202020202020202020202020202020202020202020202020202020202"), SigningKeyFormat.RawSeed);

    private string Journal => Path.Combine(Directory, "journal");

    private string Tiles => Path.Combine(Directory, "audit");

    private LedgerEngineOptions Options(DurabilityMode mode = DurabilityMode.Durable, int snapshotEvery = 0, int checkpointEvery = 1000) => new()
    {
        Durability = mode,
        Store = new FileLedgerStore(Journal),
        OperatorKey = Operator,
        InstanceId = 0x1234,
        SnapshotIntervalBatches = snapshotEvery,
        ClockPulses = false,
        Audit = new AuditOptions { Directory = Tiles, CheckpointEveryBatches = checkpointEvery, CheckpointInterval = TimeSpan.Zero },
    };

    [Fact]
    public async Task A_transfer_gets_a_receipt_that_verifies_offline_and_after_reopen()
    {
        byte[] receiptBytes;
        string vkey;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options()))
        {
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(2)));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));

            // A failed attempt is a leaf too, provably failed: found by its place in the journal.
            Assert.Equal(CreateTransferResult.CreditAccountNotFound, await engine.CreateTransferAsync(Tr(11, 1, 3, 5)));
            ulong failedBatch = engine.ReleasedBatchNumber;
            Assert.Equal(ReceiptStatus.NotFound, engine.TryGetReceipt((UInt128)11, out _));
            Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt(failedBatch, 0, out AuditReceipt? failed));
            Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(failed!, engine.AuditVerifierKey!, out AuditLeaf failedLeaf));
            Assert.Equal((uint)CreateTransferResult.CreditAccountNotFound, failedLeaf.Result);
            Assert.True(failedLeaf.TryGetTransfer(out Transfer attempted));
            Assert.Equal((UInt128)11, attempted.Id);
            Assert.Equal(ReceiptStatus.NotFound, engine.TryGetReceipt(failedBatch, 1, out _));

            Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt((UInt128)10, out AuditReceipt? receipt));
            vkey = engine.AuditVerifierKey!.ToString();
            Assert.True(NoteVerifierKey.TryParse(vkey, out NoteVerifierKey? key, out _));
            Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, key!, out AuditLeaf leaf));
            Assert.True(leaf.IsOk);
            Assert.True(leaf.TryGetTransfer(out Transfer t));
            Assert.Equal((UInt128)10, t.Id);
            Assert.True(engine.TryGetTransfer(10, out Transfer stored));
            Assert.Equal(stored.Timestamp, leaf.Timestamp);
            receiptBytes = receipt!.ToBytes();
            Assert.Equal(ReceiptStatus.NotFound, engine.TryGetReceipt((UInt128)99, out _));
        }

        Assert.True(NoteVerifierKey.TryParse(vkey, out NoteVerifierKey? again, out _));
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receiptBytes, again!, out _));

        await using (LedgerEngine reopened = await LedgerEngine.OpenAsync(Options()))
        {
            Assert.Equal(ReceiptStatus.Ok, reopened.TryGetReceipt((UInt128)10, out AuditReceipt? receipt));
            Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, again!));
            Assert.Equal(CreateTransferResult.Ok, await reopened.CreateTransferAsync(Tr(12, 2, 1, 1)));
            SignedCheckpoint before = reopened.LatestCheckpoint!;
            SignedCheckpoint after = reopened.Checkpoint();
            Assert.True(after.Size > before.Size);
            byte[] proof = reopened.GetConsistencyProof(before.Size, after.Size);
            Assert.True(MerkleProofs.VerifyConsistency(before.Size, after.Size, before.Checkpoint.RootHash, after.Checkpoint.RootHash, proof));
        }
    }

    [Fact]
    public async Task A_receipt_can_require_witnesses_cosignatures()
    {
        using SigningKey witnessKey = SigningKey.Import(Convert.FromHexString("0303030303030303030303030303030303030303030303030303030303030303"), SigningKeyFormat.RawSeed);
        using SigningKey otherKey = SigningKey.Import(Convert.FromHexString("0404040404040404040404040404040404040404040404040404040404040404"), SigningKeyFormat.RawSeed);
        var witness = CosignerKey.Create("witness.example", witnessKey.VerificationKey);
        var other = CosignerKey.Create("other.example", otherKey.VerificationKey);
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options());
        await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]);
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
        Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt((UInt128)10, out AuditReceipt? receipt));
        NoteVerifierKey key = engine.AuditVerifierKey!;

        // Without the witness's line the receipt is the ledger's word only.
        Assert.Equal(ReceiptResult.TooFewCosignatures, ReceiptVerifier.Verify(receipt!, key, [witness], 1, out _));
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, key, [witness], 0, out _));

        Assert.True(Checkpoint.TryParse(engine.LatestCheckpoint!.Checkpoint.ToText(), out Checkpoint? body, out _));
        string cosigned = receipt!.CheckpointNote + Cosignature.SignatureLine(body!.ToText(), witness, witnessKey, 1_800_000_000);
        AuditReceipt witnessed = receipt.WithCheckpointNote(cosigned);
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(witnessed, key, [witness, other], 1, out AuditLeaf leaf));
        Assert.True(leaf.IsOk);
        Assert.Equal(ReceiptResult.TooFewCosignatures, ReceiptVerifier.Verify(witnessed, key, [witness, other], 2, out _));

        // A cosignature by the witness's name and key id that does not verify (signed over another checkpoint) fails the receipt.
        string forged = receipt.CheckpointNote + Cosignature.SignatureLine(Checkpoint.Create(body.Origin, body.Size + 1, new byte[32]).ToText(), witness, witnessKey, 1_800_000_000);
        Assert.Equal(ReceiptResult.TooFewCosignatures, ReceiptVerifier.Verify(receipt.WithCheckpointNote(forged), key, [witness], 0, out _));
    }

    [Fact]
    public async Task A_stored_checkpoint_the_rebuilt_tree_contradicts_stops_the_open_and_a_torn_one_is_cut()
    {
        string origin;
        long size;
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options()))
        {
            await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]);
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 5)));
            SignedCheckpoint checkpoint = engine.Checkpoint();
            origin = checkpoint.Checkpoint.Origin;
            size = checkpoint.Size;
        }

        string file = Path.Combine(Tiles, "checkpoints.bin");
        byte[] good = await File.ReadAllBytesAsync(file);

        // A torn last record (half written when the power went) is cut; the one before it is the latest.
        await File.WriteAllBytesAsync(file, [.. good, .. good.AsSpan(0, good.Length / 2).ToArray()]);
        await using (LedgerEngine reopened = await LedgerEngine.OpenAsync(Options()))
        {
            Assert.Equal(size, reopened.LatestCheckpoint!.Size);
        }

        Assert.Equal(good.Length, new FileInfo(file).Length);

        // A checkpoint the operator signed over another root at the same size: the journal's history is not the one signed.
        string forged = SignedNote.Sign(Checkpoint.Create(origin, size, new byte[32]).ToText(), origin, Operator);
        byte[] note = System.Text.Encoding.UTF8.GetBytes(forged);
        byte[] record = new byte[20 + note.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(record, note.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(4), 1);
        note.CopyTo(record, 12);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(
            record.AsSpan(12 + note.Length), System.IO.Hashing.Crc32.HashToUInt32(System.IO.Hashing.Crc32ParameterSet.Crc32C, record.AsSpan(0, 12 + note.Length)));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(16 + note.Length), note.Length);
        await File.WriteAllBytesAsync(file, [.. good, .. record]);
        AuditLogException refused = await Assert.ThrowsAsync<AuditLogException>(async () => await LedgerEngine.OpenAsync(Options()));
        Assert.Contains("history was rewritten", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_event_is_a_leaf_and_each_header_carries_the_root_after_its_batch()
    {
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options()))
        {
            await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2), Acct(1) }, new CreateAccountResult[3]);
            await engine.CreateTransfersAsync(new[] { Tr(10, 1, 2, 5), Tr(11, 1, 3, 5) }, new CreateTransferResult[2]);
        }

        // Rebuild the tree independently (the in-memory MerkleLog) from each event's leaf, checking that the leaf holds the
        // journal's record at its place, and that every header carries the root and size after its batch.
        var batches = new List<CommitBatch>();
        await using (var store = new FileLedgerStore(Journal))
        {
            await store.OpenAsync();
            await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
            {
                batches.Add(new CommitBatch(batch.Header, batch.Events.ToArray()));
            }
        }

        await using LedgerEngine reopened = await LedgerEngine.OpenAsync(Options());
        var log = new MerkleLog();
        byte[] root = new byte[32];
        foreach (CommitBatch batch in batches)
        {
            Assert.Equal(CommitBatchHeader.Version2, batch.Header.Version);
            for (int i = 0; i < batch.Header.EventCount; i++)
            {
                Assert.Equal(ReceiptStatus.Ok, reopened.TryGetReceipt(batch.BatchNumber, i, out AuditReceipt? receipt));
                Assert.True(receipt!.TryGetLeaf(out AuditLeaf leaf));
                Assert.Equal(batch.Header.Operation, leaf.Operation);
                Assert.Equal(batch.BatchNumber, leaf.BatchNumber);
                Assert.Equal(i, leaf.EventIndex);
                Assert.True(batch.Events.Span.Slice(i * batch.Header.EventSize, batch.Header.EventSize).SequenceEqual(leaf.Event.Span));
                Assert.Equal(log.Size, receipt.LeafIndex);
                log.AppendLeaf(receipt.LeafBytes.Span);
            }

            log.GetRoot(root);
            Assert.Equal((ulong)log.Size, batch.Header.AuditTreeSize);
            Assert.Equal(new BatchHash(root), batch.Header.AuditRoot);
        }

        Assert.Equal(1 + 3 + 2, log.Size);
    }

    [Fact]
    public async Task A_snapshot_and_reopen_keep_old_leaves_provable_and_check_the_tiles()
    {
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options(snapshotEvery: 3)))
        {
            await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]);
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)));
            }

            await engine.TakeSnapshotAsync();
        }

        await using (LedgerEngine reopened = await LedgerEngine.OpenAsync(Options()))
        {
            NoteVerifierKey key = reopened.AuditVerifierKey!;
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(ReceiptStatus.Ok, reopened.TryGetReceipt((UInt128)(100 + i), out AuditReceipt? receipt));
                Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, key));
            }
        }

        // A flipped hash in the tiles below the snapshot's tree is caught when the engine opens.
        string level0 = Path.Combine(Tiles, "hashes-0.bin");
        byte[] bytes = await File.ReadAllBytesAsync(level0);
        bytes[5] ^= 1;
        await File.WriteAllBytesAsync(level0, bytes);
        await Assert.ThrowsAsync<AuditLogException>(async () => await LedgerEngine.OpenAsync(Options()));
    }
}
