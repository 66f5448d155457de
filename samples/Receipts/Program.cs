// Receipts: a payer gets proof that the ledger recorded its payment, and checks it offline with nothing but the ledger's
// public key; an auditor checks that the ledger never rewrote its history.
//
// The ledger runs with its audit log on: every event it commits (each transfer, failed ones too) is a leaf of an
// RFC 9162 Merkle tree, and the operator's key signs checkpoints of the tree in the C2SP signed-note format that
// transparency-log tooling (Go's sumdb/note, sigstore, witnesses) reads unchanged. A receipt is the leaf (the event as
// the journal holds it, with the result and the time the ledger assigned), its inclusion proof and a checkpoint: the
// payer can keep it and show it to anyone, years later, without asking the ledger.
//
// The roles, and what each holds:
//   the ledger operator: runs the engine and holds the signing key for checkpoints;
//   the payer:           holds a receipt and the ledger's verifier key (a line of text, published by the operator);
//   a witness:           an independent party with its own key that co-signs checkpoints it has seen (C2SP
//                        tlog-cosignature), so the operator cannot show different histories to different people;
//   an auditor:          compares two checkpoints with a consistency proof: the newer tree extends the older one;
//                        and, given the ledger's files, re-derives the whole journal, tree and checkpoints offline.
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
// Amounts are integers in the ledger's smallest unit, 1/1000 of a cent ("millicent"), as in the other samples.

using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

UInt128 payerId = 1;
UInt128 shopId = 2;
UInt128 paymentId = 0xC0FFEE;

string directory = Path.Combine(Path.GetTempPath(), "micropay-receipts-" + Guid.NewGuid().ToString("N"));
using SigningKey operatorKey = SigningKey.Generate();
using SigningKey witnessKey = SigningKey.Generate();
var witness = CosignerKey.Create("witness.example.org", witnessKey.VerificationKey);

LedgerEngineOptions Options() => new()
{
    Store = new FileLedgerStore(Path.Combine(directory, "journal")),
    OperatorKey = operatorKey,
    Audit = new AuditOptions { Directory = Path.Combine(directory, "audit") },
};

byte[] receiptBytes;
string verifierKeyText;
SignedCheckpoint first;
try
{
    // -----------------------------------------------------------------------------------------------------
    // 1. The payer pays the shop; the ledger hands back a receipt once the payment is durable.
    // -----------------------------------------------------------------------------------------------------
    await using (LedgerEngine ledger = await LedgerEngine.OpenAsync(Options()))
    {
        Check(await ledger.CreateAccountAsync(new Account { Id = payerId, LedgerId = 1, Code = 1 }) == CreateAccountResult.Ok, "payer account");
        Check(await ledger.CreateAccountAsync(new Account { Id = shopId, LedgerId = 1, Code = 1 }) == CreateAccountResult.Ok, "shop account");
        var payment = new Transfer { Id = paymentId, DebitAccountId = payerId, CreditAccountId = shopId, Amount = 250, LedgerId = 1, Code = 1 };
        Check(await ledger.CreateTransferAsync(payment) == CreateTransferResult.Ok, "payment");

        Check(ledger.TryGetReceipt(paymentId, out AuditReceipt? receipt) == ReceiptStatus.Ok, "receipt");
        receiptBytes = receipt!.ToBytes();
        verifierKeyText = ledger.AuditVerifierKey!.ToString();
        first = ledger.LatestCheckpoint!;
        Console.WriteLine($"The ledger's verifier key (published by the operator):\n  {verifierKeyText}\n");
        Console.WriteLine($"The checkpoint the receipt carries (a C2SP signed note):\n{Indent(first.Note)}");
        Console.WriteLine($"Receipt: {receiptBytes.Length} bytes (leaf {receipt.LeafIndex}, {receipt.Proof.Length / 32} proof hashes).\n");
    }

    // -----------------------------------------------------------------------------------------------------
    // 2. Offline, with only the verifier key: the payer (or anyone it shows the receipt to) checks it.
    // -----------------------------------------------------------------------------------------------------
    Check(NoteVerifierKey.TryParse(verifierKeyText, out NoteVerifierKey? ledgerKey, out string? keyError), $"verifier key: {keyError}");
    ReceiptResult verified = ReceiptVerifier.Verify(receiptBytes, ledgerKey!, out AuditLeaf leaf);
    Check(verified == ReceiptResult.Ok, $"receipt verifies ({verified})");
    Check(leaf.TryGetTransfer(out Transfer recorded) && recorded.Id == paymentId && recorded.Amount == 250 && leaf.IsOk, "the receipt is for this payment, applied");
    Console.WriteLine($"Offline check: {verified}. The ledger recorded transfer {recorded.Id:X} of {recorded.Amount} at {leaf.Timestamp} ns with result Ok.");

    // A receipt altered in any byte (here the amount inside the leaf) no longer verifies.
    byte[] forged = (byte[])receiptBytes.Clone();
    forged[24 + AuditLeaf.HeaderSize + 64] ^= 0x01; // the first byte of the transfer's amount
    ReceiptResult forgedResult = ReceiptVerifier.Verify(forged, ledgerKey!, out _);
    Check(forgedResult == ReceiptResult.ProofInvalid, "a forged receipt is refused");
    Console.WriteLine($"The same receipt with the amount changed: {forgedResult}.\n");

    // -----------------------------------------------------------------------------------------------------
    // 3. A witness co-signs the checkpoint it saw; anyone can check the witness's cosignature too.
    // -----------------------------------------------------------------------------------------------------
    string body = first.Checkpoint.ToText();
    ulong seen = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    string cosigned = first.Note + Cosignature.SignatureLine(body, witness, witnessKey, seen);
    CosignatureResult cosignature = Cosignature.TryVerify(Encoding.UTF8.GetBytes(cosigned), witness, out ulong at);
    Check(cosignature == CosignatureResult.Ok && at == seen, "witness cosignature");
    Console.WriteLine($"The checkpoint with a witness's cosignature ({witness}):\n{Indent(cosigned)}");

    // -----------------------------------------------------------------------------------------------------
    // 4. The ledger restarts and goes on; an auditor checks the new checkpoint extends the old one.
    // -----------------------------------------------------------------------------------------------------
    await using (LedgerEngine ledger = await LedgerEngine.OpenAsync(Options()))
    {
        for (int i = 0; i < 10; i++)
        {
            var more = new Transfer { Id = paymentId + 1 + (UInt128)i, DebitAccountId = payerId, CreditAccountId = shopId, Amount = 10, LedgerId = 1, Code = 1 };
            Check(await ledger.CreateTransferAsync(more) == CreateTransferResult.Ok, "later payment");
        }

        SignedCheckpoint later = ledger.Checkpoint();
        byte[] proof = ledger.GetConsistencyProof(first.Size, later.Size);
        bool extends = MerkleProofs.VerifyConsistency(first.Size, later.Size, first.Checkpoint.RootHash, later.Checkpoint.RootHash, proof);
        Check(extends, "consistency");
        Console.WriteLine($"After a restart: tree size {first.Size} -> {later.Size}; consistency proof of {proof.Length / 32} hashes: the new tree extends the old one.");

        // The receipt from before the restart still verifies, and the ledger gives a fresh one under the new checkpoint.
        Check(ReceiptVerifier.Verify(receiptBytes, ledgerKey!, out _) == ReceiptResult.Ok, "old receipt");
        Check(ledger.TryGetReceipt(paymentId, out AuditReceipt? again) == ReceiptStatus.Ok && ReceiptVerifier.Verify(again!, ledgerKey!) == ReceiptResult.Ok, "new receipt");
        Console.WriteLine("The old receipt still verifies, and so does a new one for the same payment.");
    }

    // -----------------------------------------------------------------------------------------------------
    // 5. With the ledger closed, an auditor checks the whole journal and audit log offline.
    // -----------------------------------------------------------------------------------------------------
    AuditReport audit = await AuditVerifier.VerifyAsync(Path.Combine(directory, "journal"), Path.Combine(directory, "audit"), ledgerKey!);
    Check(audit.IsIntact, "audit: " + string.Join("; ", audit.Findings));
    Console.WriteLine($"Offline audit of the journal: {audit}.");

    // One changed byte in the journal's first segment (inside a batch, past the segment's header) is found and located.
    string segment = Directory.GetFiles(Path.Combine(directory, "journal"), "*.seg").Order().First();
    byte[] segmentBytes = await File.ReadAllBytesAsync(segment);
    segmentBytes[segmentBytes.Length / 2] ^= 1;
    await File.WriteAllBytesAsync(segment, segmentBytes);
    AuditReport damaged = await AuditVerifier.VerifyAsync(Path.Combine(directory, "journal"), Path.Combine(directory, "audit"), ledgerKey!);
    Check(!damaged.IsIntact, "damaged audit");
    Console.WriteLine($"After one byte of the journal is flipped: {damaged.Findings[0]}");
}
finally
{
    Directory.Delete(directory, recursive: true);
}

static string Indent(string text) => string.Join('\n', text.TrimEnd('\n').Split('\n').Select(line => "  " + line)) + "\n";

static void Check(bool ok, string what)
{
    if (!ok)
    {
        Console.Error.WriteLine($"Unexpected result: {what}");
        Environment.Exit(1);
    }
}
