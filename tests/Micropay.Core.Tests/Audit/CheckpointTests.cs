using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Audit;

/// <summary>Checkpoint bodies in the C2SP tlog-checkpoint format, and a checkpoint of a Merkle log signed as a note.</summary>
public sealed class CheckpointTests
{
    // The example of the C2SP tlog-checkpoint specification.
    private const string Example = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    [Fact]
    public void TryParse_TheSpecificationsExample_ReadsAndRoundTrips()
    {
        Assert.True(Checkpoint.TryParse(Example, out Checkpoint? checkpoint, out string? error), error);
        Assert.Equal("example.com/behind-the-sofa", checkpoint!.Origin);
        Assert.Equal(20852163, checkpoint.Size);
        Assert.Equal(Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="), checkpoint.RootHash.ToArray());
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(Example, checkpoint.ToText());

        Assert.True(Checkpoint.TryParse(Example + "extension one\nextension two\n", out Checkpoint? extended, out _));
        Assert.Equal(["extension one", "extension two"], extended!.Extensions);
        Assert.Equal(Example + "extension one\nextension two\n", extended.ToText());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")]
    [InlineData("example.com/behind-the-sofa\n20852163\n")]
    [InlineData("\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n9223372036854775808\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2\n")]
    [InlineData("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n")]
    [InlineData("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n")]
    [InlineData("example.com/behind\tthe-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    public void TryParse_AMalformedBody_IsRefusedWithAReason(string? text)
    {
        Assert.False(Checkpoint.TryParse(text, out Checkpoint? checkpoint, out string? error));
        Assert.Null(checkpoint);
        Assert.NotNull(error);
    }

    [Fact]
    public void SignedNote_ACheckpointOfAMerkleLog_VerifiesAndItsProofsHold()
    {
        var log = new MerkleLog();
        for (int i = 0; i < 13; i++)
        {
            log.AppendLeaf(Encoding.UTF8.GetBytes($"event {i}"));
        }

        byte[] root = new byte[MerkleHashes.Size];
        log.GetRoot(root);
        using SigningKey key = SigningKey.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), SigningKeyFormat.RawSeed);
        string note = SignedNote.Sign(Checkpoint.Create("micropay.example/ledger", log.Size, root).ToText(), "micropay.example/ledger", key);

        NoteVerifierKey verifier = NoteVerifierKey.Create("micropay.example/ledger", key.VerificationKey);
        Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [verifier], out string? text, out _));
        Assert.True(Checkpoint.TryParse(text, out Checkpoint? checkpoint, out _));
        byte[] leaf = new byte[MerkleHashes.Size];
        MerkleHashes.Leaf(Encoding.UTF8.GetBytes("event 6"), leaf);
        Assert.True(MerkleProofs.VerifyInclusion(6, checkpoint!.Size, leaf, log.GetInclusionProof(6, checkpoint.Size), checkpoint.RootHash));
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void TryParse_ArbitraryText_NeverThrows(string text)
    {
        if (Checkpoint.TryParse(text, out Checkpoint? checkpoint, out _))
        {
            Assert.Equal(text, checkpoint.ToText());
        }
    }
}
