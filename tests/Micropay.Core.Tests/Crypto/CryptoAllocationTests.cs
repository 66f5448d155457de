using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary>Signing and verifying allocate nothing once warm: one verification per payment must not feed the GC.</summary>
public sealed class CryptoAllocationTests
{
    private static readonly byte[] Seed = Convert.FromHexString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

    [Fact]
    public void VerificationKeyVerify_Warm_AllocatesNothing()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        VerificationKey verificationKey = VerificationKey.Create(key.VerificationKey.AsSpan());
        byte[] message = new byte[176];
        byte[] signature = new byte[64];
        key.Sign(message, signature);
        bool allValid = true;

        long allocated = Allocations.OfWarm(() => allValid &= verificationKey.Verify(message, signature));

        Assert.True(allValid);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void SigningKeySign_Warm_AllocatesNothing()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] message = new byte[128];
        byte[] signature = new byte[64];

        long allocated = Allocations.OfWarm(() => key.Sign(message, signature));

        Assert.True(key.VerificationKey.Verify(message, signature));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void SignedMessageVerify_Warm_AllocatesNothing()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] body = new byte[208];
        byte[] signature = new byte[64];
        SignedMessage.Sign(key, DomainTags.ChannelCertificate, 5, body, signature);
        bool allValid = true;

        long allocated = Allocations.OfWarm(() => allValid &= SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelCertificate, 5, body, signature));

        Assert.True(allValid);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Allocations_AnAllocatingAction_IsSeen()
    {
        // The measurement must be able to fail: an action that allocates 24+ bytes a call shows up.
        object? sink = null;

        long allocated = Allocations.OfWarm(() => sink = new byte[1]);

        Assert.NotNull(sink);
        Assert.True(allocated >= Allocations.MeasuredCalls * 24L, $"allocated {allocated}");
    }
}
