using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Identity;
using Micropay.Core.Storage;

namespace Micropay.Core.Fuzz.Tests;

/// <summary>Every corpus file (seeds and the inputs AFL++ found worth keeping) goes through its target's check.</summary>
public sealed class CorpusReplayTests
{
    public static TheoryData<string, string> CorpusFiles()
    {
        var data = new TheoryData<string, string>();
        foreach ((string target, _) in FuzzTargets.All)
        {
            foreach (string name in Corpus.Names(target))
            {
                data.Add(target, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void CorpusFile_PassesItsTargetsCheck(string target, string name) =>
        FuzzTargets.Get(target)(File.ReadAllBytes(Path.Combine(Corpus.Root, target, name)));

    [Fact]
    public void EveryTarget_HasASeedCorpusOfTensOfFilesAtMost()
    {
        foreach ((string target, _) in FuzzTargets.All)
        {
            int count = Corpus.Names(target).Count();
            Assert.InRange(count, 3, 60);
        }
    }

    [Fact]
    public void UnknownTarget_IsRefusedByName() =>
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => FuzzTargets.Get("no-such-target")).ParamName);

    // The corpus must reach past the parsers' first checks: each target has seeds its parser accepts (else the
    // round-trip half of its check would never run) and seeds it refuses.
    [Fact]
    public void Corpus_HoldsAcceptedAndRefusedInputsForEveryParser()
    {
        AssertBoth("journal", b => CommitBatch.TryParse(b, out _) == CommitBatchParseResult.Ok);
        AssertBoth("voucher", b => Voucher.TryParse(b, out _, out _));
        AssertBoth("tick", b => Tick.TryParse(b, out _, out _));
        AssertBoth("certificate", b => ChannelCertificate.TryParse(b, out _, out _));
        AssertBoth("order", b => PaymentOrder.TryParse(b, out _, out _));
        AssertBoth("authdata", b => WebAuthnAuthenticatorData.Check(b, FuzzTargets.RpIdHash) == PasskeyResult.Ok);
        AssertBoth("clientdata", b => WebAuthnClientData.Check(b, FuzzTargets.Challenge, Encoding.UTF8.GetBytes(FuzzTargets.Origin)) == PasskeyResult.Ok);
        AssertBoth("note", b => SignedNote.TrySplit(b, out _, out _) == NoteResult.Ok);
        AssertBoth("checkpoint", b => Checkpoint.TryParse(Encoding.UTF8.GetString(b), out _, out _));
        AssertBoth("snapshot", ReadsAsSnapshot);
    }

    private static bool ReadsAsSnapshot(byte[] file)
    {
        if (file.Length < 16)
        {
            return false;
        }

        string? problem = FileLedgerStore.TryReadSnapshotFile(new MemoryFileSystem("s", file), "s", BitConverter.ToUInt64(file, 8), out LedgerSnapshot? snapshot);
        snapshot?.Dispose();
        return problem is null;
    }

    private static void AssertBoth(string target, Func<byte[], bool> accepts)
    {
        byte[][] files = Corpus.Files(target);
        Assert.Contains(files, f => accepts(f));
        Assert.Contains(files, f => !accepts(f));
    }
}
