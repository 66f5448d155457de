using Micropay.Core.Audit;

namespace Micropay.Core.Cli.Tests;

[Collection(LedgerCollection.Name)]
public sealed class ReceiptCommandTests(LedgerFixture ledger)
{
    [Fact]
    public async Task ReceiptVerify_Receipt_ExitsZeroAndPrintsTheLeaf()
    {
        CliResult result = await CliProcess.RunAsync(null, "receipt", "verify", ledger.ReceiptFile, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Operation:    CreateTransfers", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Result:       0 (Ok)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Transfer:     id {LedgerFixture.PaymentId}, debit 1, credit 2, amount 250", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"Batch:\s+\d+", result.Stdout);
        Assert.Matches(@"Timestamp:\s+\d+ \(\d{4}-", result.Stdout);
        Assert.EndsWith("OK", result.Stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiptVerify_AmountChanged_ExitsTwoWithTheReason()
    {
        byte[] forged = await File.ReadAllBytesAsync(ledger.ReceiptFile);

        // The first byte of the transfer's amount inside the leaf (as samples/Receipts forges it).
        forged[24 + AuditLeaf.HeaderSize + 64] ^= 0x01;
        string file = Path.Combine(ledger.Root, "forged-" + Guid.NewGuid().ToString("N") + ".receipt");
        await File.WriteAllBytesAsync(file, forged);

        CliResult result = await CliProcess.RunAsync(null, "receipt", "verify", file, "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("REFUSED: ProofInvalid", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("amount", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiptVerify_AnotherLedgersKey_ExitsTwo()
    {
        CliResult result = await CliProcess.RunAsync(null, "receipt", "verify", ledger.ReceiptFile, "--key", ledger.OperatorVerifierKey);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("REFUSED: ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiptVerify_MissingFile_ExitsOne()
    {
        CliResult result = await CliProcess.RunAsync(null, "receipt", "verify", Path.Combine(ledger.Root, "none.receipt"), "--key", ledger.LedgerVerifierKey);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
    }
}
