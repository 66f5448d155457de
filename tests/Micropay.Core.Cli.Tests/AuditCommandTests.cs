namespace Micropay.Core.Cli.Tests;

[Collection(LedgerCollection.Name)]
public sealed class AuditCommandTests(LedgerFixture ledger)
{
    [Fact]
    public async Task AuditVerify_IntactLedger_ExitsZeroAndPrintsTheReport()
    {
        CliResult result = await CliProcess.RunAsync(null, "audit", "verify", ledger.Journal, "--audit", ledger.Audit, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("INTACT", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Leaves:             {ledger.TreeSize}", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("finding:", result.Stdout, StringComparison.Ordinal);

        // Not a terminal: the progress is plain percentage lines on stderr, ending at 100%.
        Assert.Contains("audit: 100%", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_KeyInAFile_IsRead()
    {
        string keyFile = Path.Combine(ledger.Root, "ledger-" + Guid.NewGuid().ToString("N") + ".vkey");
        await File.WriteAllTextAsync(keyFile, ledger.LedgerVerifierKey + "\n");
        CliResult result = await CliProcess.RunAsync(null, "audit", "verify", ledger.Journal, "--audit", ledger.Audit, "--key", keyFile);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task AuditVerify_FlippedJournalByte_ExitsTwoAndPrintsTheFinding()
    {
        (string journal, string audit) = ledger.Copy();
        string segment = Directory.GetFiles(journal, "*.seg").Order(StringComparer.Ordinal).First();
        byte[] bytes = await File.ReadAllBytesAsync(segment);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(segment, bytes);

        CliResult result = await CliProcess.RunAsync(null, "audit", "verify", journal, "--audit", audit, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("FINDINGS: ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"finding: RecordDamaged (batch ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(segment), result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_AnotherKey_ExitsTwo()
    {
        // The operator key's own name is not the ledger's origin: every checkpoint is of "another origin".
        CliResult result = await CliProcess.RunAsync(null, "audit", "verify", ledger.Journal, "--audit", ledger.Audit, "--key", ledger.OperatorVerifierKey);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("finding: CheckpointInvalid", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_OperatorKeyFileWithOrigin_ExitsZero()
    {
        string origin = ledger.LedgerVerifierKey[..ledger.LedgerVerifierKey.IndexOf('+', StringComparison.Ordinal)];
        CliResult result = await CliProcess.RunAsync(
            null, "audit", "verify", ledger.Journal, "--audit", ledger.Audit, "--key", ledger.OperatorKeyFile, "--origin", origin);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Key:                {ledger.LedgerVerifierKey}", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_MissingKey_ExitsOneWithTheParserMessage()
    {
        CliResult result = await CliProcess.RunAsync(null, "audit", "verify", ledger.Journal, "--audit", ledger.Audit);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--key", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_MissingAuditDirectory_ExitsOne()
    {
        CliResult result = await CliProcess.RunAsync(
            null, "audit", "verify", ledger.Journal, "--audit", Path.Combine(ledger.Root, "no-such-audit"), "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("audit directory", result.Stderr, StringComparison.Ordinal);
    }
}
