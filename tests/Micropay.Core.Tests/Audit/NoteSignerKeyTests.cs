using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Audit;

/// <summary>Signer keys in the text form of Go's golang.org/x/mod/sumdb/note, against its reference example.</summary>
public sealed class NoteSignerKeyTests
{
    // Go's sumdb/note reference keys and note (the same as SignedNoteTests').
    private const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string Text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string Note = Text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    [Fact]
    public void TryParse_TheReferenceSignerKey_GivesTheReferenceVerifierKeyAndNote()
    {
        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? key, out string? error), error);
        using (key)
        {
            Assert.Null(error);
            Assert.Equal("PeterNeumann", key.Name);
            Assert.Equal(0xc74f20a3u, key.KeyId);
            Assert.Equal(PeterVerifierKey, key.VerifierKey.ToString());
            Assert.Equal(KeyExportPolicy.None, key.SigningKey.ExportPolicy);
            Assert.Equal(Encoding.UTF8.GetBytes(Note), Encoding.UTF8.GetBytes(SignedNote.Sign(Text, key.Name, key.SigningKey)));
        }
    }

    [Fact]
    public void ToPrivateText_AnExportableKey_WritesTheTextItWasReadFrom()
    {
        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? key, out _, KeyExportPolicy.AllowExport));
        using (key)
        {
            Assert.Equal(PeterSignerKey, key.ToPrivateText());
        }
    }

    [Fact]
    public void ToPrivateText_AKeyWithoutExport_ThrowsWithTheRemedy()
    {
        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? read, out _));
        using (read)
        {
            var thrown = Assert.Throws<InvalidOperationException>(read.ToPrivateText);
            Assert.Contains("KeyExportPolicy.AllowExport", thrown.Message, StringComparison.Ordinal);
            Assert.Contains("PeterNeumann", thrown.Message, StringComparison.Ordinal);
        }

        using NoteSignerKey generated = NoteSignerKey.Generate("micropay.example/ledger");
        Assert.Throws<InvalidOperationException>(generated.ToPrivateText);
    }

    [Fact]
    public void Generate_AnExportableKey_RoundTripsThroughItsText()
    {
        using NoteSignerKey key = NoteSignerKey.Generate("micropay.example/ledger", KeyExportPolicy.AllowExport);
        string text = key.ToPrivateText();

        Assert.StartsWith($"PRIVATE+KEY+micropay.example/ledger+{key.KeyId:x8}+A", text, StringComparison.Ordinal);
        Assert.True(NoteSignerKey.TryParse(text, out NoteSignerKey? again, out string? error), error);
        using (again)
        {
            Assert.Equal(key.VerifierKey.ToString(), again.VerifierKey.ToString());
            string note = SignedNote.Sign("hello\n", again.Name, again.SigningKey);
            Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [key.VerifierKey], out _, out _));
        }
    }

    [Fact]
    public void Dispose_FreesOnlyAKeyTheSignerKeyOwns()
    {
        using SigningKey borrowed = SigningKey.Import(Convert.FromHexString(CosignatureTests.WitnessSeed), SigningKeyFormat.RawSeed);
        NoteSignerKey created = NoteSignerKey.Create("borrowed", borrowed);
        Assert.Same(borrowed, created.SigningKey);
        created.Dispose();
        borrowed.Sign("still usable"u8, new byte[SigningKey.SignatureSize]);

        NoteSignerKey generated = NoteSignerKey.Generate("owned");
        generated.Dispose();
        Assert.Throws<ObjectDisposedException>(() => generated.SigningKey.Sign("freed"u8, new byte[SigningKey.SignatureSize]));

        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? read, out _));
        read.Dispose();
        Assert.Throws<ObjectDisposedException>(() => read.SigningKey.Sign("freed"u8, new byte[SigningKey.SignatureSize]));
    }

    [Fact]
    public void ToString_ShowsThePublicVerifierKeyOnly()
    {
        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? key, out _));
        using (key)
        {
            Assert.Equal($"NoteSignerKey({PeterVerifierKey})", key.ToString());
            Assert.DoesNotContain("AYEKFALV", key.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("PRIVATE+KEY+")]
    [InlineData("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeuman+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz==")]
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx 09iUvxdXHKDFz")]
    // The same seed with the cosignature type byte (0x04).
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+BIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")]
    // Go's reference verifier key, with the prefix: a public key is not a seed of that hash.
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    public void TryParse_AMangledSignerKey_IsRefusedWithAReason(string? text)
    {
        Assert.False(NoteSignerKey.TryParse(text, out NoteSignerKey? key, out string? error));
        Assert.Null(key);
        Assert.NotNull(error);
    }

    [Fact]
    public void CallerMistakes_Throw()
    {
        Assert.Throws<ArgumentException>("name", () => NoteSignerKey.Generate("two words"));
        Assert.Throws<ArgumentException>("name", () => NoteSignerKey.Generate(string.Empty));
        using SigningKey key = SigningKey.Generate();
        Assert.Throws<ArgumentException>("name", () => NoteSignerKey.Create("a+b", key));
        Assert.Throws<ArgumentOutOfRangeException>("exportPolicy", () => NoteSignerKey.Generate("ok", (KeyExportPolicy)7));
        Assert.Throws<ArgumentOutOfRangeException>("exportPolicy", () => NoteSignerKey.TryParse(PeterSignerKey, out _, out _, (KeyExportPolicy)7));
    }
}
