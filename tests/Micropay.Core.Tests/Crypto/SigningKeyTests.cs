using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Crypto;

/// <summary>
/// <see cref="SigningKey"/>'s secret hygiene (no export without <see cref="KeyExportPolicy.AllowExport"/>, no secret in
/// <see cref="SigningKey.ToString"/>, nothing usable after <see cref="SigningKey.Dispose"/>), its import and export
/// formats, and its argument checks.
/// </summary>
public sealed class SigningKeyTests
{
    private static readonly byte[] Seed = Convert.FromHexString("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

    [Fact]
    public void Export_GeneratedWithoutAllowExport_IsRefusedWithAClearMessage()
    {
        using SigningKey key = SigningKey.Generate();

        var e = Assert.Throws<InvalidOperationException>(() => key.Export(SigningKeyFormat.RawSeed));
        Assert.Contains("KeyExportPolicy.AllowExport", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => key.Export(SigningKeyFormat.NSecPrivateKey));
        Assert.Equal(KeyExportPolicy.None, key.ExportPolicy);
    }

    [Fact]
    public void TryExport_ImportedWithoutAllowExport_IsRefusedAndWritesNothing()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] destination = new byte[64];

        Assert.Throws<InvalidOperationException>(() => key.TryExport(SigningKeyFormat.RawSeed, destination, out _));
        Assert.Throws<InvalidOperationException>(() => key.TryExport(SigningKeyFormat.NSecPrivateKey, destination, out _));
        Assert.All(destination, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ExportRawSeed_AllowExport_GivesBackTheImportedSeed()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed, KeyExportPolicy.AllowExport);

        Assert.Equal(Seed, key.Export(SigningKeyFormat.RawSeed));
        Assert.Equal(Seed, key.Export(SigningKeyFormat.RawSeed)); // any number of times
    }

    [Fact]
    public void ExportNSecPrivateKey_AllowExport_IsTheNSecHeaderThenTheSeedAndImportsBack()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed, KeyExportPolicy.AllowExport);

        byte[] blob = key.Export(SigningKeyFormat.NSecPrivateKey);

        // NSec 26.4's Ed25519 private-key header.
        Assert.Equal(Convert.FromHexString("de6442de20004000"), blob[..8]);
        Assert.Equal(Seed, blob[8..]);
        using SigningKey back = SigningKey.Import(blob, SigningKeyFormat.NSecPrivateKey, KeyExportPolicy.AllowExport);
        Assert.Equal(key.VerificationKey, back.VerificationKey);
        Assert.Equal(Seed, back.Export(SigningKeyFormat.RawSeed));
    }

    [Fact]
    public void Generate_AllowExport_RoundTripsThroughBothFormats()
    {
        using SigningKey key = SigningKey.Generate(KeyExportPolicy.AllowExport);

        using SigningKey fromRaw = SigningKey.Import(key.Export(SigningKeyFormat.RawSeed), SigningKeyFormat.RawSeed);
        using SigningKey fromNSec = SigningKey.Import(key.Export(SigningKeyFormat.NSecPrivateKey), SigningKeyFormat.NSecPrivateKey);

        Assert.Equal(key.VerificationKey, fromRaw.VerificationKey);
        Assert.Equal(key.VerificationKey, fromNSec.VerificationKey);
        byte[] a = new byte[64];
        byte[] b = new byte[64];
        key.Sign("same message"u8, a);
        fromNSec.Sign("same message"u8, b);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(SigningKeyFormat.RawSeed, 32)]
    [InlineData(SigningKeyFormat.NSecPrivateKey, 40)]
    public void TryExport_AllowExport_WritesExactlyTheBlobOrNothingWhenShort(SigningKeyFormat format, int size)
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed, KeyExportPolicy.AllowExport);

        byte[] tooShort = new byte[size - 1];
        Assert.False(key.TryExport(format, tooShort, out int none));
        Assert.Equal(0, none);

        byte[] roomy = new byte[size + 8];
        Assert.True(key.TryExport(format, roomy, out int written));
        Assert.Equal(size, written);
        Assert.Equal(key.Export(format), roomy[..size]);
        Assert.All(roomy[size..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void ToString_AnyKey_ShowsThePublicKeyPrefixAndNoSecret()
    {
        using SigningKey key = SigningKey.Generate(KeyExportPolicy.AllowExport);
        string text = key.ToString();
        string seedHex = Convert.ToHexStringLower(key.Export(SigningKeyFormat.RawSeed));

        Assert.Equal($"SigningKey(Ed25519, public {key.VerificationKey.ToString()[..8]}…)", text);
        // No 3-byte run of the secret appears, in either case of hexadecimal.
        for (int i = 0; i + 6 <= seedHex.Length; i += 2)
        {
            Assert.DoesNotContain(seedHex.Substring(i, 6), text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Sign_AfterDispose_ThrowsObjectDisposedException()
    {
        SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed, KeyExportPolicy.AllowExport);
        VerificationKey verificationKey = key.VerificationKey;
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign("m"u8, new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => key.Export(SigningKeyFormat.RawSeed));
        Assert.Throws<ObjectDisposedException>(() => key.TryExport(SigningKeyFormat.RawSeed, new byte[32], out _));
        key.Dispose(); // twice is harmless
        // The public half stays readable: it is no secret.
        Assert.Same(verificationKey, key.VerificationKey);
        Assert.StartsWith("SigningKey(Ed25519, public ", key.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_SignatureBufferShorterThan64_ThrowsArgumentException()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);

        var e = Assert.Throws<ArgumentException>(() => key.Sign("m"u8, new byte[63]));
        Assert.Equal("signature", e.ParamName);
    }

    [Fact]
    public void Sign_LongerBuffer_WritesTheFirst64BytesOnly()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] buffer = new byte[66];
        buffer[64] = 0xAA;
        buffer[65] = 0xBB;

        key.Sign("m"u8, buffer);

        Assert.True(key.VerificationKey.Verify("m"u8, buffer.AsSpan(0, 64)));
        Assert.Equal(0xAA, buffer[64]);
        Assert.Equal(0xBB, buffer[65]);
    }

    [Fact]
    public void Sign_SameKeyAndMessage_IsDeterministic()
    {
        using SigningKey key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        byte[] a = new byte[64];
        byte[] b = new byte[64];

        key.Sign("deterministic"u8, a);
        key.Sign("deterministic"u8, b);

        Assert.Equal(a, b);
    }

    public static readonly TheoryData<string, SigningKeyFormat> BadBlobs = new()
    {
        { "", SigningKeyFormat.RawSeed },
        { "01020304050607080910111213141516171819202122232425262728293031", SigningKeyFormat.RawSeed },
        { "0102030405060708091011121314151617181920212223242526272829303132" + "33", SigningKeyFormat.RawSeed },
        { "", SigningKeyFormat.NSecPrivateKey },
        // The raw seed is not an NSec blob: the header is missing.
        { "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", SigningKeyFormat.NSecPrivateKey },
        // An NSec public-key blob (header DE 65 ...), not a private-key one.
        { "de6542de20004000" + "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664", SigningKeyFormat.NSecPrivateKey },
        // The right header, one byte short.
        { "de6442de20004000" + "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", SigningKeyFormat.NSecPrivateKey },
        // The right length, a header byte changed.
        { "de6442de20000000" + "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", SigningKeyFormat.NSecPrivateKey },
    };

    [Theory]
    [MemberData(nameof(BadBlobs))]
    public void TryImport_NotAKeyInTheFormat_ReturnsFalseWithoutThrowing(string blobHex, SigningKeyFormat format)
    {
        Assert.False(SigningKey.TryImport(Convert.FromHexString(blobHex), format, out SigningKey? key));
        Assert.Null(key);
    }

    [Theory]
    [MemberData(nameof(BadBlobs))]
    public void Import_NotAKeyInTheFormat_ThrowsArgumentExceptionNamingTheBlob(string blobHex, SigningKeyFormat format)
    {
        var e = Assert.Throws<ArgumentException>(() => SigningKey.Import(Convert.FromHexString(blobHex), format));
        Assert.Equal("blob", e.ParamName);
    }

    [Fact]
    public void Import_UndefinedFormatOrPolicy_ThrowsArgumentOutOfRangeException()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SigningKey.Import(Seed, (SigningKeyFormat)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => SigningKey.TryImport(Seed, (SigningKeyFormat)7, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => SigningKey.Import(Seed, SigningKeyFormat.RawSeed, (KeyExportPolicy)2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SigningKey.Generate((KeyExportPolicy)(-1)));
    }

    [Fact]
    public void Generate_TwoKeys_AreDifferent()
    {
        using SigningKey a = SigningKey.Generate();
        using SigningKey b = SigningKey.Generate();

        Assert.NotEqual(a.VerificationKey, b.VerificationKey);
    }
}
