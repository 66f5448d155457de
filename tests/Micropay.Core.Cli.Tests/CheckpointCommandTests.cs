using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

namespace Micropay.Core.Cli.Tests;

[Collection(LedgerCollection.Name)]
public sealed class CheckpointCommandTests(LedgerFixture ledger)
{
    [Fact]
    public async Task CheckpointShow_Ledger_PrintsTheLatestCheckpointVerifiedAtOpen()
    {
        CliResult result = await CliProcess.RunAsync(null, "checkpoint", "show", ledger.Journal, "--audit", ledger.Audit, "--operator-key", ledger.OperatorKeyFile);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith(await File.ReadAllTextAsync(ledger.CheckpointFile), result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Tree size:  {ledger.TreeSize}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"verified by {ledger.LedgerVerifierKey}", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointShow_NoteFileWithKey_VerifiesIt()
    {
        CliResult result = await CliProcess.RunAsync(null, "checkpoint", "show", ledger.CheckpointFile, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Signature:  OK", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointShow_NoteFileWithoutKey_SaysItIsNotVerified()
    {
        CliResult result = await CliProcess.RunAsync(null, "checkpoint", "show", ledger.CheckpointFile);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Signature:  not verified", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointShow_AlteredNote_ExitsTwo()
    {
        // Another tree size under the same signature.
        string note = await File.ReadAllTextAsync(ledger.CheckpointFile);
        string[] lines = note.Split('\n');
        lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string file = Path.Combine(ledger.Root, "altered-" + Guid.NewGuid().ToString("N") + ".note");
        await File.WriteAllTextAsync(file, string.Join('\n', lines));

        CliResult result = await CliProcess.RunAsync(null, "checkpoint", "show", file, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("NOT VERIFIED", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("BadSignature", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointShow_LedgerWithoutCheckpoint_ExitsFour()
    {
        // A new ledger whose engine signs no checkpoint (neither by count nor by time) before it shuts down.
        string root = Path.Combine(ledger.Root, "unsigned-" + Guid.NewGuid().ToString("N"));
        Assert.True(NoteSignerKey.TryParse(File.ReadAllText(ledger.OperatorKeyFile).Trim(), out NoteSignerKey? key, out string? error), error);
        using (key)
        {
            var options = new LedgerEngineOptions
            {
                Store = new FileLedgerStore(Path.Combine(root, "journal")),
                OperatorKey = key.SigningKey,
                Audit = new AuditOptions { Directory = Path.Combine(root, "audit"), CheckpointEveryBatches = 0, CheckpointInterval = TimeSpan.Zero },
            };
            await using LedgerEngine engine = await LedgerEngine.OpenAsync(options);
            Assert.Null(engine.LatestCheckpoint);
        }

        CliResult result = await CliProcess.RunAsync(
            null, "checkpoint", "show", Path.Combine(root, "journal"), "--audit", Path.Combine(root, "audit"), "--operator-key", ledger.OperatorKeyFile);
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("no signed checkpoint yet", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckpointShow_LedgerWithoutAudit_ExitsOne()
    {
        CliResult result = await CliProcess.RunAsync(null, "checkpoint", "show", ledger.Journal);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--audit", result.Stderr, StringComparison.Ordinal);
    }
}
