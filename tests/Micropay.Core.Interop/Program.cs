// Interop vectors: what the real engine writes (signed checkpoints, receipts, inclusion and consistency proofs), for
// an independent implementation to check unchanged. go/verify.go checks them with Go's golang.org/x/mod/sumdb/note
// and sumdb/tlog; run.sh runs both. VectorWriter.cs describes the file.
//
// The ledger runs with a fixed operator key, instance id and clock, so the vectors are the same bytes on every run. It
// takes accounts and a few hundred transfers (some failing: unknown accounts, overdrafts, a broken linked chain)
// over several batches and one restart, signing checkpoints at several sizes. Beside the good vectors it writes
// tampered copies (a flipped bit in a signature or a proof, a wrong leaf hash, checkpoint bodies that break the
// tlog-checkpoint rules, ...), each marked with the one check that must reject it.
//
// Usage: Micropay.Core.Interop <output directory>; writes <output directory>/vectors.json. Exits 1 when the engine
// does not behave as expected (every vector is first checked with the library's own verifiers).

using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Interop;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Micropay.Core.Interop <output directory>");
    return 2;
}

string output = Path.GetFullPath(args[0]);
Directory.CreateDirectory(output);
string work = Path.Combine(Path.GetTempPath(), "micropay-interop-" + Guid.NewGuid().ToString("N"));

// A test key from a published seed: the vectors carry its private text too, so that Go signs the same notes to compare.
using SigningKey operatorKey = SigningKey.Import(Seed("operator"), SigningKeyFormat.RawSeed, KeyExportPolicy.AllowExport);
using SigningKey witnessKey = SigningKey.Import(Seed("witness"), SigningKeyFormat.RawSeed);
var witness = CosignerKey.Create("witness.example.org/interop", witnessKey.VerificationKey);
var instanceId = new UInt128(0x4d6963726f706179, 0x496e7465726f7031); // "MicropayInterop1"
var clock = new FixedClock(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

LedgerEngineOptions Options() => new()
{
    Store = new FileLedgerStore(Path.Combine(work, "journal")),
    OperatorKey = operatorKey,
    InstanceId = instanceId,
    TimeProvider = clock,
    ClockPulses = false,
    // Checkpoints only when asked, so their sizes are the same on every run.
    Audit = new AuditOptions { Directory = Path.Combine(work, "audit"), CheckpointEveryBatches = 0, CheckpointInterval = TimeSpan.Zero },
};

var checkpoints = new List<SignedCheckpoint>();
var receipts = new List<(string Name, AuditReceipt Receipt)>();
var events = new List<(UInt128 Id, ulong Batch, int Index, bool Ok)>();
UInt128 nextTransferId = 1000;
NoteVerifierKey? ledgerKey = null;

try
{
    await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options()))
    {
        ledgerKey = engine.AuditVerifierKey!;

        // Accounts 1 and 5 to 8 may go negative; 2 to 4 may not (their overdrafts fail); id 0 is refused.
        Account[] accounts = [.. Enumerable.Range(1, 8).Select(i => new Account
        {
            Id = (UInt128)i,
            LedgerId = 1,
            Code = 1,
            Flags = i is >= 2 and <= 4 ? AccountFlags.DebitsMustNotExceedCredits : AccountFlags.None,
        }), new Account { Id = 0, LedgerId = 1, Code = 1 }];
        Check(await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]) == 1, "one account fails (id 0)");

        foreach (int size in new[] { 1, 5, 31, 64, 100 })
        {
            await Transfers(engine, size);
            if (size is 5 or 64 or 100)
            {
                checkpoints.Add(engine.Checkpoint());
                TakeReceipts(engine, $"before-restart-{checkpoints[^1].Size}", 3);
            }
        }
    }

    await using (LedgerEngine engine = await LedgerEngine.OpenAsync(Options()))
    {
        // The checkpoint signed before the restart is recovered, the same note.
        Check(engine.LatestCheckpoint?.Note == checkpoints[^1].Note, "the latest checkpoint is recovered after a restart");
        Check(engine.AuditVerifierKey!.ToString() == ledgerKey.ToString(), "the same verifier key after a restart");
        foreach (int size in new[] { 2, 77, 128, 1, 40 })
        {
            await Transfers(engine, size);
            if (size is 77 or 1 or 40)
            {
                checkpoints.Add(engine.Checkpoint());
            }
        }

        SignedCheckpoint final = checkpoints[^1];
        Check(final.Size == engine.DurableAuditTreeSize, "the last checkpoint covers every durable batch");
        TakeReceipts(engine, "final", 1);

        // Every leaf, in order: one receipt per event of every batch.
        var leaves = new List<byte[]>();
        for (ulong batch = 1; batch <= engine.ReleasedBatchNumber; batch++)
        {
            for (int index = 0; engine.TryGetReceipt(batch, index, out AuditReceipt? receipt) == ReceiptStatus.Ok; index++)
            {
                Check(receipt!.LeafIndex == leaves.Count && receipt.CheckpointNote == final.Note, $"leaf {leaves.Count} is batch {batch} event {index}");
                leaves.Add(receipt.LeafBytes.ToArray());
            }
        }

        Check(leaves.Count == final.Size, $"{leaves.Count} leaves, the final tree's size {final.Size}");
        Check(events.Count(e => !e.Ok) > 20 && events.Count(e => e.Ok) > 200, "hundreds of transfers, some failing");

        using var vectors = new VectorWriter(Path.Combine(output, "vectors.json"));
        vectors.Header(ledgerKey.ToString(), NoteSignerKey.Create(ledgerKey.Name, operatorKey).ToPrivateText(), witness.ToString());
        vectors.Leaves(leaves);
        WriteNotes(vectors, final);
        WriteReceipts(vectors);
        WriteProofs(vectors, engine, leaves, final.Size);
        Console.WriteLine(
            $"interop vectors: {leaves.Count} leaves, {checkpoints.Count} checkpoints, {receipts.Count} receipts, {events.Count} transfers " +
            $"({events.Count(e => !e.Ok)} failed); {vectors.Good} vectors must verify, {vectors.Bad} must fail -> {Path.Combine(output, "vectors.json")}");
    }
}
catch (UnexpectedResultException e)
{
    Console.Error.WriteLine($"Unexpected result: {e.Message}");
    return 1;
}
finally
{
    if (Directory.Exists(work))
    {
        Directory.Delete(work, recursive: true);
    }
}

return 0;

// One batch of transfers: most apply; some debit or credit an unknown account, overdraw a guarded account, or sit in a
// linked chain that another event breaks.
async Task Transfers(LedgerEngine engine, int count)
{
    var batch = new Transfer[count];
    for (int i = 0; i < count; i++)
    {
        UInt128 id = nextTransferId++;
        int n = (int)(id % 1000);
        batch[i] = new Transfer
        {
            Id = id,
            DebitAccountId = n % 11 == 3 ? 99 : n % 13 == 5 ? (UInt128)(2 + (n % 3)) : (UInt128)(n % 2 == 0 ? 1 : 5 + (n % 4)),
            CreditAccountId = n % 17 == 9 ? 98 : (UInt128)(n % 2 == 0 ? 5 + (n % 4) : 1 + (n % 4)),
            Amount = (UInt128)(1 + (n * 37 % 1000)),
            LedgerId = 1,
            Code = 1,
        };
    }

    if (count >= 4)
    {
        // A linked chain of two whose second event fails (an unknown account): both fail.
        batch[1].Flags = TransferFlags.Linked;
        batch[2].CreditAccountId = 97;
    }

    var results = new CreateTransferResult[count];
    await engine.CreateTransfersAsync(batch, results);
    ulong batchNumber = engine.ReleasedBatchNumber;
    for (int i = 0; i < count; i++)
    {
        events.Add((batch[i].Id, batchNumber, i, results[i] == CreateTransferResult.Ok));
    }
}

// Receipts for every (7 * step)-th transfer so far and the last: an applied one by its id, a failed one by its place.
void TakeReceipts(LedgerEngine engine, string when, int step)
{
    for (int i = 0; i < events.Count; i += step * 7)
    {
        Receipt(engine, when, events[i]);
    }

    Receipt(engine, when, events[^1]);
}

void Receipt(LedgerEngine engine, string when, (UInt128 Id, ulong Batch, int Index, bool Ok) e)
{
    ReceiptStatus status = e.Ok ? engine.TryGetReceipt(e.Id, out AuditReceipt? receipt) : engine.TryGetReceipt(e.Batch, e.Index, out receipt);
    Check(status == ReceiptStatus.Ok, $"receipt for transfer {e.Id}: {status}");
    Check(ReceiptVerifier.Verify(receipt!, ledgerKey!, out AuditLeaf leaf) == ReceiptResult.Ok, $"receipt for transfer {e.Id} verifies");
    Check(leaf.BatchNumber == e.Batch && leaf.EventIndex == e.Index && leaf.IsOk == e.Ok && leaf.TryGetTransfer(out Transfer t) && t.Id == e.Id, $"receipt for transfer {e.Id} is its event");
    receipts.Add(($"{when}/leaf-{receipt!.LeafIndex}-{(e.Ok ? "applied" : "failed")}", receipt));
}

void WriteNotes(VectorWriter vectors, SignedCheckpoint final)
{
    string origin = final.Checkpoint.Origin;
    foreach (SignedCheckpoint checkpoint in checkpoints)
    {
        vectors.Note($"checkpoint-{checkpoint.Size}", checkpoint.Note, checkpoint.Size, checkpoint.Checkpoint.RootHash.ToArray());
    }

    // A witness's cosignature line after the ledger's: a verifier that does not know the witness ignores the line.
    string body = final.Checkpoint.ToText();
    string cosigned = final.Note + Cosignature.SignatureLine(body, witness, witnessKey, 1735689600);
    Check(Cosignature.TryVerify(Encoding.UTF8.GetBytes(cosigned), witness, out _) == CosignatureResult.Ok, "the witness's cosignature verifies");
    vectors.Note("cosigned", cosigned, final.Size, final.Checkpoint.RootHash.ToArray(), cosigned: true);

    // Extension lines after the root are part of the format: signed by the library, they open and parse.
    var extended = Checkpoint.Create(origin, final.Size, final.Checkpoint.RootHash, "extension line one", "— second extension");
    vectors.Note("checkpoint-with-extensions", SignedNote.Sign(extended.ToText(), origin, operatorKey), final.Size, final.Checkpoint.RootHash.ToArray());

    // Tampered notes: the signature no longer matches, or no known key signed.
    void BadNote(string name, string note)
    {
        Check(SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [ledgerKey!], out _, out _) != NoteResult.Ok, $"the library refuses the note {name}");
        vectors.Note(name, note, null, null, "open");
    }

    BadNote("tampered/signature-bit-flipped", FlipSignatureBit(final.Note, 0, 4 + 10));
    BadNote("tampered/key-id-bit-flipped", FlipSignatureBit(final.Note, 0, 0));
    BadNote("tampered/size-changed", final.Note.Replace($"\n{final.Size}\n", $"\n{final.Size + 1}\n", StringComparison.Ordinal));
    BadNote("tampered/root-changed", final.Note.Replace(Convert.ToBase64String(final.Checkpoint.RootHash), Convert.ToBase64String(checkpoints[0].Checkpoint.RootHash), StringComparison.Ordinal));
    BadNote("tampered/only-the-witness-signed", body + "\n" + cosigned[(cosigned.IndexOf("\n\n", StringComparison.Ordinal) + 2)..].Split('\n')[1] + "\n");
    string badCosignature = FlipSignatureBit(cosigned, 1, 4 + 8 + 10);
    Check(Open(badCosignature) is not null && Cosignature.TryVerify(Encoding.UTF8.GetBytes(badCosignature), witness, out _) == CosignatureResult.BadSignature, "the library refuses a flipped cosignature");
    vectors.Note("tampered/cosignature-bit-flipped", badCosignature, final.Size, final.Checkpoint.RootHash.ToArray(), "cosignature");

    // Validly signed by the ledger's key, but not checkpoints by the tlog-checkpoint rules, or not this log's. Two are
    // limits of the implementations rather than words of the specification: a size over 2^63 - 1 (Go's tlog and the
    // library keep sizes in an int64) and a root in non-canonical base64 (bits set in the padding).
    string root = Convert.ToBase64String(final.Checkpoint.RootHash);
    string rootWithPaddingBits = root[..42] + (char)(root[42] + 1) + "=";
    Check(Convert.FromBase64String(rootWithPaddingBits).AsSpan().SequenceEqual(final.Checkpoint.RootHash), "the non-canonical root decodes to the same bytes");
    (string Name, string Text, string FailAt)[] bodies =
    [
        ("not-a-checkpoint/size-with-leading-zero", $"{origin}\n0{final.Size}\n{root}\n", "body"),
        ("not-a-checkpoint/size-with-plus-sign", $"{origin}\n+{final.Size}\n{root}\n", "body"),
        ("not-a-checkpoint/size-negative", $"{origin}\n-{final.Size}\n{root}\n", "body"),
        ("not-a-checkpoint/size-over-int64-limit", $"{origin}\n9223372036854775808\n{root}\n", "body"),
        ("not-a-checkpoint/root-31-bytes", $"{origin}\n{final.Size}\n{Convert.ToBase64String(final.Checkpoint.RootHash[..31])}\n", "body"),
        ("not-a-checkpoint/root-non-canonical-base64", $"{origin}\n{final.Size}\n{rootWithPaddingBits}\n", "body"),
        ("not-a-checkpoint/root-unpadded-base64", $"{origin}\n{final.Size}\n{root.TrimEnd('=')}\n", "body"),
        ("not-a-checkpoint/no-root-line", $"{origin}\n{final.Size}\n", "body"),
        ("not-a-checkpoint/empty-origin", $"\n{final.Size}\n{root}\n", "body"),
        ("another-log/origin-is-not-the-key-name", $"example.com/another-log\n{final.Size}\n{root}\n", "origin"),
    ];
    foreach ((string name, string text, string failAt) in bodies)
    {
        string note = SignedNote.Sign(text, origin, operatorKey);
        Check(SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [ledgerKey!], out _, out _) == NoteResult.Ok, $"the note {name} opens");
        Check(Open(note) is not { } parsed || parsed.Origin != ledgerKey!.Name, $"the library refuses the checkpoint {name}");
        vectors.Note(name, note, null, null, failAt);
    }
}

void WriteReceipts(VectorWriter vectors)
{
    foreach ((string name, AuditReceipt receipt) in receipts)
    {
        (byte[] leaf, byte[] hash, byte[] proof, long size) = Parts(receipt);
        vectors.Receipt(name, receipt.LeafIndex, size, leaf, hash, proof, receipt.CheckpointNote);
    }

    // Tampered copies of a receipt whose proof has a few hashes; the library's own verifiers refuse each too.
    AuditReceipt r = receipts.First(x => x.Receipt.Proof.Length >= 4 * 32 && x.Receipt.LeafIndex % 2 == 1 && x.Name.StartsWith("final", StringComparison.Ordinal)).Receipt;
    (byte[] l, byte[] h, byte[] p, long s) = Parts(r);
    string n = r.CheckpointNote;
    long i = r.LeafIndex;
    Bad("tampered/proof-bit-flipped", i, s, l, h, Flip(p, 32 + 5), n, "proof");
    Bad("tampered/proof-last-hash-flipped", i, s, l, h, Flip(p, p.Length - 1), n, "proof");
    Bad("tampered/proof-hash-dropped", i, s, l, h, p[..^32], n, "proof");
    Bad("tampered/proof-hash-added", i, s, l, h, [.. p, .. h], n, "proof");
    Bad("tampered/proof-hashes-swapped", i, s, l, h, [.. p.AsSpan(32, 32), .. p.AsSpan(0, 32), .. p.AsSpan(64)], n, "proof");
    Bad("tampered/wrong-leaf-hash", i, s, l, Flip(h, 0), p, n, "leaf_hash");
    Bad("tampered/wrong-leaf-hash-without-0x00-prefix", i, s, l, SHA256.HashData(l), p, n, "leaf_hash");
    byte[] amountChanged = Flip(l, AuditLeaf.HeaderSize + 64); // the first byte of the transfer's amount
    Bad("tampered/leaf-amount-changed", i, s, amountChanged, LeafHash(amountChanged), p, n, "proof");
    Bad("tampered/leaf-index-off-by-one", i - 1, s, l, h, p, n, "proof");
    Bad("tampered/note-signature-bit-flipped", i, s, l, h, p, FlipSignatureBit(n, 0, 20), "open");
    AuditReceipt older = receipts.First(x => x.Name.StartsWith("before-restart", StringComparison.Ordinal) && x.Receipt.Proof.Length > 0).Receipt;
    byte[] olderLeaf = older.LeafBytes.ToArray();
    Bad("tampered/proof-for-an-older-tree", older.LeafIndex, s, olderLeaf, LeafHash(olderLeaf), older.Proof.ToArray(), n, "proof");

    void Bad(string name, long index, long size, byte[] leaf, byte[] hash, byte[] proof, string note, string failAt)
    {
        bool verifies = Open(note) is { } checkpoint && checkpoint.Size == size && LeafHash(leaf).AsSpan().SequenceEqual(hash) &&
            MerkleProofs.VerifyInclusion(index, size, hash, proof, checkpoint.RootHash);
        Check(!verifies, $"the library refuses the receipt {name}");
        vectors.Receipt(name, index, size, leaf, hash, proof, note, failAt);
    }
}

void WriteProofs(VectorWriter vectors, LedgerEngine engine, List<byte[]> leaves, long size)
{
    // Sizes around the powers of two, the checkpoints' and the whole tree's.
    long[] sizes = [.. new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, size - 1, size }
        .Concat(checkpoints.Select(c => c.Size)).Where(n => n >= 1 && n <= size).Distinct().Order()];
    byte[]? sample = null;
    foreach (long n in sizes)
    {
        foreach (long index in new[] { 0, 1, n / 3, n / 2, n - 2, n - 1 }.Where(i => i >= 0 && i < n).Distinct())
        {
            byte[] proof = engine.GetInclusionProof(index, n);
            vectors.Inclusion($"leaf-{index}@{n}", index, n, proof);
            sample = n == size && index == n / 3 ? proof : sample;
        }
    }

    Check(!MerkleProofs.VerifyInclusion(size / 3, size, LeafHash(leaves[(int)(size / 3)]), Flip(sample!, 3), checkpoints[^1].Checkpoint.RootHash), "the library refuses a flipped inclusion proof");
    vectors.Inclusion("tampered/proof-bit-flipped", size / 3, size, Flip(sample!, 3), "proof");

    long[] few = [.. sizes.Where(n => n is 1 or 2 or 3 or 4 or 7 or 8 or 9 or 16 or 31 or 32 or 33 or 64 or 100 or 128 or 129 or 255 or 256 or 257 || n == size)];
    foreach (long n in few)
    {
        foreach (long m in few.Where(m => m <= n))
        {
            vectors.Consistency($"{m}->{n}", m, n, null, null, engine.GetConsistencyProof(m, n));
        }
    }

    // Between the checkpoints' notes: the roots the ledger signed.
    for (int i = 0; i < checkpoints.Count; i++)
    {
        for (int j = i; j < checkpoints.Count; j++)
        {
            SignedCheckpoint a = checkpoints[i], b = checkpoints[j];
            byte[] proof = engine.GetConsistencyProof(a.Size, b.Size);
            Check(MerkleProofs.VerifyConsistency(a.Size, b.Size, a.Checkpoint.RootHash, b.Checkpoint.RootHash, proof), $"consistency {a.Size}->{b.Size}");
            vectors.Consistency($"checkpoints/{a.Size}->{b.Size}", a.Size, b.Size, a.Note, b.Note, proof);
        }
    }

    // Tampered consistency proofs; the library's own verifier refuses each too.
    SignedCheckpoint first = checkpoints[0], mid = checkpoints[2], last = checkpoints[^1];
    byte[] good = engine.GetConsistencyProof(mid.Size, last.Size);
    Check(good.Length >= 3 * 32, "the consistency proof has a few hashes");
    Bad("tampered/checkpoints-proof-bit-flipped", mid, last, Flip(good, 7));
    Bad("tampered/checkpoints-proof-hash-dropped", mid, last, good[..^32]);
    Bad("tampered/checkpoints-proof-of-other-sizes", mid, last, engine.GetConsistencyProof(first.Size, last.Size));
    Bad("tampered/checkpoints-proof-reversed", mid, last, [.. Enumerable.Range(0, good.Length / 32).Reverse().SelectMany(k => good.AsSpan(k * 32, 32).ToArray())]);
    Bad("tampered/checkpoints-newer-first", last, mid, good);
    vectors.Consistency("tampered/proof-bit-flipped", 100, size, null, null, Flip(engine.GetConsistencyProof(100, size), 40), "proof");

    void Bad(string name, SignedCheckpoint a, SignedCheckpoint b, byte[] proof)
    {
        Check(!MerkleProofs.VerifyConsistency(a.Size, b.Size, a.Checkpoint.RootHash, b.Checkpoint.RootHash, proof), $"the library refuses the consistency proof {name}");
        vectors.Consistency(name, a.Size, b.Size, a.Note, b.Note, proof, "proof");
    }
}

Checkpoint? Open(string note) =>
    SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [ledgerKey!], out string? text, out _) == NoteResult.Ok && Checkpoint.TryParse(text, out Checkpoint? body, out _) ? body : null;

(byte[] Leaf, byte[] Hash, byte[] Proof, long Size) Parts(AuditReceipt receipt)
{
    Checkpoint? body = Open(receipt.CheckpointNote);
    Check(body is not null, "a receipt's checkpoint opens");
    byte[] leaf = receipt.LeafBytes.ToArray();
    return (leaf, LeafHash(leaf), receipt.Proof.ToArray(), body!.Size);
}

static byte[] LeafHash(byte[] leaf)
{
    byte[] hash = new byte[MerkleHashes.Size];
    MerkleHashes.Leaf(leaf, hash);
    return hash;
}

static byte[] Flip(byte[] bytes, int at)
{
    byte[] copy = (byte[])bytes.Clone();
    copy[at] ^= 0x01;
    return copy;
}

// Flips one bit of the decoded blob (key id, then signature) of signature line `line` of a note.
static string FlipSignatureBit(string note, int line, int at)
{
    int split = note.LastIndexOf("\n\n", StringComparison.Ordinal) + 2;
    string[] lines = note[split..^1].Split('\n');
    int space = lines[line].LastIndexOf(' ');
    lines[line] = lines[line][..(space + 1)] + Convert.ToBase64String(Flip(Convert.FromBase64String(lines[line][(space + 1)..]), at));
    return note[..split] + string.Join('\n', lines) + "\n";
}

static byte[] Seed(string role) => SHA256.HashData(Encoding.UTF8.GetBytes("micropay interop vectors: " + role));

static void Check(bool ok, string what)
{
    if (!ok)
    {
        throw new UnexpectedResultException(what);
    }
}
