using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// A small ledger log for crafting receipts by hand: 13 leaves in an in-memory tree, the ledger's key and origin, and
/// receipts built from any leaf, proof and signed note, so each verifier outcome can be produced on purpose.
/// </summary>
internal static class ReceiptTestKit
{
    public const string Origin = "ledger.example/receipts";
    public const int TreeSize = 13;

    public static readonly SigningKey LedgerKey = SigningKey.Import(Convert.FromHexString("0707070707070707070707070707070707070707070707070707070707070707"), SigningKeyFormat.RawSeed);

    public static readonly SigningKey OtherKey = SigningKey.Import(Convert.FromHexString("0808080808080808080808080808080808080808080808080808080808080808"), SigningKeyFormat.RawSeed);

    public static readonly NoteVerifierKey Verifier = NoteVerifierKey.Create(Origin, LedgerKey.VerificationKey);

    public static readonly byte[][] Leaves = [.. Enumerable.Range(0, TreeSize).Select(MakeLeaf)];

    public static readonly MerkleLog Log = BuildLog();

    /// <summary>The tree's root at <paramref name="size"/>.</summary>
    public static byte[] Root(long size)
    {
        byte[] root = new byte[MerkleHashes.Size];
        Log.GetRoot(size, root);
        return root;
    }

    /// <summary>A checkpoint of the tree at <paramref name="size"/>, signed as the ledger signs them (origin = key name).</summary>
    public static string Note(long size = TreeSize, string origin = Origin, string name = Origin, SigningKey? key = null) =>
        SignedNote.Sign(Checkpoint.Create(origin, size, Root(size)).ToText(), name, key ?? LedgerKey);

    /// <summary>The receipt the ledger would give for leaf <paramref name="index"/> under its checkpoint at <paramref name="size"/>.</summary>
    public static AuditReceipt Valid(long index, long size = TreeSize) =>
        new(index, Leaves[index], Log.GetInclusionProof(index, size), Note(size));

    private static byte[] MakeLeaf(int i)
    {
        byte[] record = new byte[128];
        new Random(i).NextBytes(record);
        return new AuditLeaf(BatchOperation.CreateTransfers, i % 4 == 3 ? 7u : 0u, 1_000UL + (ulong)i, 1 + ((ulong)i / 3), i % 3, record).ToBytes();
    }

    private static MerkleLog BuildLog()
    {
        var log = new MerkleLog();
        foreach (byte[] leaf in Leaves)
        {
            log.AppendLeaf(leaf);
        }

        return log;
    }
}
