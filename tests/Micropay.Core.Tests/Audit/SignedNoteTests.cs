using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Audit;

/// <summary>C2SP signed notes and verifier keys, against the reference example of Go's golang.org/x/mod/sumdb/note.</summary>
public sealed class SignedNoteTests
{
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    private const string Text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string Note = Text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    [Fact]
    public void TryParse_TheReferenceVerifierKeys_RoundTrip()
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out string? error), error);
        Assert.Equal("PeterNeumann", peter!.Name);
        Assert.Equal(0xc74f20a3u, peter.KeyId);
        Assert.Equal(PeterVerifierKey, peter.ToString());
        Assert.True(NoteVerifierKey.TryParse(EnochVerifierKey, out NoteVerifierKey? enoch, out error), error);
        Assert.Equal(EnochVerifierKey, enoch!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("PeterNeumann")]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10")]
    [InlineData("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy 10TW")]
    [InlineData("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    public void TryParse_AMangledVerifierKey_IsRefused(string text)
    {
        Assert.False(NoteVerifierKey.TryParse(text, out NoteVerifierKey? key, out string? error));
        Assert.Null(key);
        Assert.NotNull(error);
    }

    [Fact]
    public void A_text_with_empty_lines_and_characters_from_DEL_up_is_a_note_as_in_Go()
    {
        // C2SP signed-note forbids only ASCII control characters other than the newline; Go's note package signs and
        // opens such texts (found by tests/Micropay.Core.Interop), and the split at the last blank line stays unambiguous.
        Assert.True(NoteSignerKey.TryParse(PeterSignerKey, out NoteSignerKey? signer, out _));
        using (signer)
        {
            string text = "first\n\nafter an empty line \u007f\u0085\n";
            string note = SignedNote.Sign(text, signer!.Name, signer.SigningKey);
            Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(System.Text.Encoding.UTF8.GetBytes(note), [signer.VerifierKey], out string? opened, out int verified));
            Assert.Equal(text, opened);
            Assert.Equal(1, verified);
            Assert.Throws<ArgumentException>(() => SignedNote.Sign("tab\there\n", signer.Name, signer.SigningKey));
        }
    }

    [Fact]
    public void TryOpen_TheReferenceNote_VerifiesWithItsKey()
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out _));

        Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(Encoding.UTF8.GetBytes(Note), [peter!], out string? text, out int verified));
        Assert.Equal(Text, text);
        Assert.Equal(1, verified);
    }

    [Fact]
    public void Sign_TheReferenceSignerKey_WritesTheReferenceNoteByteForByte()
    {
        byte[] raw = Convert.FromBase64String(PeterSignerKey["PRIVATE+KEY+PeterNeumann+c74f20a3+".Length..]);
        Assert.Equal(NoteVerifierKey.Ed25519Type, raw[0]);
        using SigningKey key = SigningKey.Import(raw.AsSpan(1), SigningKeyFormat.RawSeed);

        Assert.Equal(Note, SignedNote.Sign(Text, "PeterNeumann", key));
    }

    [Fact]
    public void TryOpen_UnknownKeysAndTampering_GiveTheirResults()
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out _));
        Assert.True(NoteVerifierKey.TryParse(EnochVerifierKey, out NoteVerifierKey? enoch, out _));
        byte[] note = Encoding.UTF8.GetBytes(Note);

        Assert.Equal(NoteResult.NoKnownSignature, SignedNote.TryOpen(note, [enoch!], out _, out _));
        byte[] changedText = Encoding.UTF8.GetBytes(Note.Replace("answer", "Answer", StringComparison.Ordinal));
        Assert.Equal(NoteResult.BadSignature, SignedNote.TryOpen(changedText, [peter!], out _, out _));

        // A line by an unknown key is ignored, beside the known key's good one.
        string cosigned = Note + "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
        Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(Encoding.UTF8.GetBytes(cosigned), [peter!], out _, out int verified));
        Assert.Equal(1, verified);
    }

    [Theory]
    [InlineData(Text + "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")]
    [InlineData(Text + "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")]
    [InlineData(Text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=")]
    [InlineData(Text + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/Sffcv IAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")]
    [InlineData(Text + "\n\u2014 PeterNeumann !!!\n")]
    [InlineData(Text + "\n\u2014 PeterNeumann\n")]
    // A note that ends in its blank line has no signature line (these once threw, reading the lines from past the end).
    [InlineData(Text + "\n")]
    [InlineData("\n\n")]
    [InlineData("bell\u0007\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")]
    public void TryOpen_AMalformedNote_IsMalformedAndNeverThrows(string note)
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out _));
        Assert.Equal(NoteResult.Malformed, SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [peter!], out _, out _));
    }

    [Fact]
    public void TryOpen_MoreThanAHundredSignatures_IsTooLarge()
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out _));
        string line = Note[(Text.Length + 1)..];
        string note = Text + "\n" + string.Concat(Enumerable.Repeat(line, SignedNote.MaxSignatures + 1));

        Assert.Equal(NoteResult.TooLarge, SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [peter!], out _, out _));
        Assert.Equal(NoteResult.Malformed, SignedNote.TryOpen([0xff, 0x0a, 0x0a], [peter!], out _, out _));
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public void TryOpen_ArbitraryBytes_NeverThrowsAndNeverVerifies(byte[] bytes)
    {
        Assert.True(NoteVerifierKey.TryParse(PeterVerifierKey, out NoteVerifierKey? peter, out _));
        Assert.NotEqual(NoteResult.Ok, SignedNote.TryOpen(bytes ?? [], [peter!], out _, out _));
    }
}
