using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary><see cref="VerificationKey"/>: exactly 32 bytes, equality by bytes, lowercase hex, and a Verify that never throws.</summary>
public sealed class VerificationKeyTests
{
    private const string PublicKeyHex = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Create_NotExactly32Bytes_ThrowsArgumentExceptionNamingTheLength(int length)
    {
        var e = Assert.Throws<ArgumentException>(() => VerificationKey.Create(new byte[length]));
        Assert.Equal("bytes", e.ParamName);
        Assert.Contains($"exactly 32 bytes long, not {length}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void TryCreate_NotExactly32Bytes_ReturnsFalse(int length)
    {
        Assert.False(VerificationKey.TryCreate(new byte[length], out VerificationKey? key));
        Assert.Null(key);
    }

    [Fact]
    public void Create_32Bytes_KeepsThemAndCopiesThem()
    {
        byte[] bytes = Convert.FromHexString(PublicKeyHex);
        VerificationKey key = VerificationKey.Create(bytes);
        bytes[0] ^= 0xFF; // the key holds its own copy

        Assert.Equal(PublicKeyHex, key.ToString());
        byte[] copy = new byte[40];
        key.CopyTo(copy);
        Assert.Equal(Convert.FromHexString(PublicKeyHex), copy[..32]);
        Assert.Equal(Convert.FromHexString(PublicKeyHex), key.AsSpan().ToArray());
    }

    [Fact]
    public void CopyTo_ShorterThan32_ThrowsArgumentException()
    {
        VerificationKey key = VerificationKey.Create(Convert.FromHexString(PublicKeyHex));

        var e = Assert.Throws<ArgumentException>(() => key.CopyTo(new byte[31]));
        Assert.Equal("destination", e.ParamName);
    }

    [Fact]
    public void Equals_SameBytes_AreEqualWithEqualHashCodes()
    {
        VerificationKey a = VerificationKey.Create(Convert.FromHexString(PublicKeyHex));
        VerificationKey b = VerificationKey.Create(Convert.FromHexString(PublicKeyHex));
        byte[] otherBytes = Convert.FromHexString(PublicKeyHex);
        otherBytes[31] ^= 1;
        VerificationKey c = VerificationKey.Create(otherBytes);

        Assert.True(a.Equals(b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.False(a.Equals(c));
        Assert.True(a != c);
        Assert.False(a.Equals(null));
        Assert.False(a == null);
        Assert.True((VerificationKey?)null == null);
        Assert.False(a.Equals((object)"not a key"));
    }

    [Fact]
    public void ToString_AnyKey_Is64LowercaseHexDigits()
    {
        using SigningKey signer = SigningKey.Generate();

        string text = signer.VerificationKey.ToString();

        Assert.Matches("^[0-9a-f]{64}$", text);
        Assert.Equal(signer.VerificationKey, VerificationKey.Create(Convert.FromHexString(text)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(128)]
    public void Verify_SignatureNotExactly64Bytes_ReturnsFalseWithoutThrowing(int length)
    {
        using SigningKey signer = SigningKey.Generate();
        byte[] signature = new byte[Math.Max(length, 64)];
        signer.Sign("m"u8, signature);

        Assert.True(signer.VerificationKey.Verify("m"u8, signature.AsSpan(0, 64)));
        Assert.False(signer.VerificationKey.Verify("m"u8, signature.AsSpan(0, length)));
    }

    [Fact]
    public void Verify_EmptyAndLongMessages_Work()
    {
        using SigningKey signer = SigningKey.Generate();
        byte[] big = new byte[100_000];
        Random.Shared.NextBytes(big);
        byte[] s1 = new byte[64];
        byte[] s2 = new byte[64];

        signer.Sign([], s1);
        signer.Sign(big, s2);

        Assert.True(signer.VerificationKey.Verify([], s1));
        Assert.True(signer.VerificationKey.Verify(big, s2));
        Assert.False(signer.VerificationKey.Verify(big, s1));
    }

    [Fact]
    public void Verify_SignatureOfAnotherKey_ReturnsFalse()
    {
        using SigningKey a = SigningKey.Generate();
        using SigningKey b = SigningKey.Generate();
        byte[] signature = new byte[64];
        a.Sign("m"u8, signature);

        Assert.False(b.VerificationKey.Verify("m"u8, signature));
    }
}
