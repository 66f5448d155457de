using System.Buffers.Binary;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary>
/// <see cref="SignedMessage"/>: the signature is over exactly <c>tag (32) || instance id (16, little-endian) || body</c>,
/// checked against a message built here independently; changing the tag or the instance id breaks it.
/// </summary>
public sealed class SignedMessageTests
{
    private static readonly byte[] Seed = Convert.FromHexString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    private static readonly UInt128 Instance = new(0x0123456789ABCDEF, 0xFEDCBA9876543210);

    [Fact]
    public void Sign_AnyBody_SignsTagThenInstanceIdThenBody()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] body = "the body"u8.ToArray();
        byte[] signature = new byte[64];

        SignedMessage.Sign(key, DomainTags.Voucher, Instance, body, signature);

        byte[] message = new byte[32 + 16 + body.Length];
        "micropay/voucher/v1"u8.CopyTo(message);
        BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(32), Instance);
        body.CopyTo(message, 48);
        Assert.Equal("efcdab8967452301", Convert.ToHexStringLower(message.AsSpan(40, 8))); // the high half, little-endian
        Assert.True(key.VerificationKey.Verify(message, signature));
        Assert.True(SignedMessage.Verify(key.VerificationKey, DomainTags.Voucher, Instance, body, signature));
    }

    [Fact]
    public void Verify_AnotherInstanceId_Fails()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] signature = new byte[64];
        SignedMessage.Sign(key, DomainTags.ChannelClose, Instance, "close"u8, signature);

        Assert.True(SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelClose, Instance, "close"u8, signature));
        Assert.False(SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelClose, Instance + 1, "close"u8, signature));
        Assert.False(SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelClose, Instance ^ (UInt128.One << 127), "close"u8, signature));
    }

    [Fact]
    public void Verify_AnotherDomainTag_Fails()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] signature = new byte[64];
        SignedMessage.Sign(key, DomainTags.ChannelOpen, Instance, "open"u8, signature);

        Assert.False(SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelClose, Instance, "open"u8, signature));
        Assert.False(SignedMessage.Verify(key.VerificationKey, DomainTags.Voucher, Instance, "open"u8, signature));
        Assert.False(SignedMessage.Verify(key.VerificationKey, DomainTags.ChannelCertificate, Instance, "open"u8, signature));
    }

    [Fact]
    public void Sign_BodyOf512Bytes_WorksAnd513Throws()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] signature = new byte[64];
        byte[] body = new byte[513];
        Random.Shared.NextBytes(body);

        SignedMessage.Sign(key, DomainTags.Voucher, Instance, body.AsSpan(0, 512), signature);
        Assert.True(SignedMessage.Verify(key.VerificationKey, DomainTags.Voucher, Instance, body.AsSpan(0, 512), signature));

        Assert.Equal("body", Assert.Throws<ArgumentException>(() => SignedMessage.Sign(key, DomainTags.Voucher, Instance, body, signature)).ParamName);
        Assert.Equal("body", Assert.Throws<ArgumentException>(() => SignedMessage.Verify(key.VerificationKey, DomainTags.Voucher, Instance, body, signature)).ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Sign_TagNot32Bytes_Throws(int length)
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);

        var e = Assert.Throws<ArgumentException>(() => SignedMessage.Sign(key, new byte[length], Instance, "b"u8, new byte[64]));
        Assert.Equal("tag32", e.ParamName);
    }
}
