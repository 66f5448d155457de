using System.Globalization;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

namespace Micropay.Core.Cli.Tests;

[Collection(LedgerCollection.Name)]
public sealed class LedgerCommandTests(LedgerFixture ledger)
{
    [Fact]
    public async Task LedgerInfo_WithAudit_PrintsInstanceBatchesCountsAndTheLedgerKey()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "info", ledger.Journal, "--audit", ledger.Audit, "--operator-key", ledger.OperatorKeyFile);
        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = Lines(result.Stdout);
        Assert.Contains($"Instance id:       {ledger.InstanceId.ToString("x32", CultureInfo.InvariantCulture)}", lines);
        Assert.Contains($"Last batch:        {ledger.LastBatch}", lines);
        Assert.Contains("Accounts:          2", lines);
        Assert.Contains("Transfers:         2", lines);
        Assert.Contains(lines, l => l.StartsWith("Latest snapshot:   batch ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Snapshot file:     snapshot-", StringComparison.Ordinal));

        Assert.Contains($"Audit tree size:   {ledger.TreeSize}", lines);
        Assert.Contains($"Verifier key:      {ledger.LedgerVerifierKey}", lines);
        Assert.Contains("ledger.lock", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerInfo_WithoutAudit_SaysTheAuditLogWasNotOpened()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "info", ledger.Journal);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Transfers:         2", Lines(result.Stdout));
        Assert.Contains("Audit:             not opened", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerInfo_DirectoryWithoutJournal_ExitsThreeAndCreatesNoLedger()
    {
        string empty = Path.Combine(ledger.Root, "empty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        CliResult result = await CliProcess.RunAsync(null, "ledger", "info", empty);
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("no ledger journal", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(empty));
    }

    [Fact]
    public async Task LedgerInfo_LedgerOpenByAnEngine_ExitsThreeNamingTheLock()
    {
        (string journal, _) = ledger.Copy();
        await using (LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(journal), ClockPulses = false }))
        {
            CliResult result = await CliProcess.RunAsync(null, "ledger", "info", journal);
            Assert.True(result.ExitCode == 3, result.ToString());
            Assert.Contains("could not be opened", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("lock", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task LedgerInfo_TornLastRecord_SaysWhatTheOpenCut()
    {
        // Bytes after the last record, as an append a crash interrupted leaves them: the open cuts them and says so.
        (string journal, _) = ledger.Copy();
        string last = Directory.GetFiles(journal, "*.seg").Order(StringComparer.Ordinal).Last();
        await using (FileStream segment = new(last, FileMode.Append))
        {
            segment.Write(new byte[40]);
        }

        CliResult result = await CliProcess.RunAsync(null, "ledger", "info", journal);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Cut at open:       40 bytes at {last}:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Last batch:        {ledger.LastBatch}", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerInfo_AuditWithoutOperatorKey_ExitsOne()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "info", ledger.Journal, "--audit", ledger.Audit);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--operator-key", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerBalances_PrintsEveryAccountWithItsPostedBalance()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "balances", ledger.Journal);
        Assert.True(result.ExitCode == 0, result.ToString());
        string[][] rows = [.. Lines(result.Stdout).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))];
        Assert.Equal(["id", "ledger", "code", "debits_posted", "debits_pending", "credits_posted", "credits_pending", "balance"], rows[0]);

        // The payer paid 250 and got 40 back; the shop the opposite.
        Assert.Equal(["1", "1", "1", "250", "0", "40", "0", "-210"], rows[1]);
        Assert.Equal(["2", "1", "1", "40", "0", "250", "0", "210"], rows[2]);
        Assert.Equal("2 account(s).", Lines(result.Stdout)[3]);
    }

    [Fact]
    public async Task LedgerBalances_SelectedAccounts_PrintsOnlyThem()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "balances", ledger.Journal, "--account", "0x2");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(3, Lines(result.Stdout).Length);
        Assert.StartsWith("2 ", Lines(result.Stdout)[1].TrimStart(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerBalances_UnknownAccount_ExitsFourNamingIt()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "balances", ledger.Journal, "--account", "1", "--account", "77");
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("account 77 is not in the ledger", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("1 account(s).", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerBalances_MalformedAccountId_ExitsOne()
    {
        CliResult result = await CliProcess.RunAsync(null, "ledger", "balances", ledger.Journal, "--account", "twelve");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("'twelve' is not an account id", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerHistory_BothSidesOrDebitsOnlyOldestOrNewestFirst_ListsTheAccountsTransfers()
    {
        // The payer paid the shop (PaymentId) and was paid back (PaymentId + 2); the refused payment is no transfer.
        string payer = LedgerFixture.PayerId.ToString(CultureInfo.InvariantCulture);
        CliResult both = await CliProcess.RunAsync(null, "ledger", "history", ledger.Journal, "--account", payer);
        Assert.True(both.ExitCode == 0, both.ToString());
        string[] rows = [.. Lines(both.Stdout).Skip(1).SkipLast(1)];
        Assert.Equal(2, rows.Length);
        Assert.StartsWith(LedgerFixture.PaymentId.ToString(CultureInfo.InvariantCulture) + " ", rows[0], StringComparison.Ordinal);
        Assert.StartsWith((LedgerFixture.PaymentId + 2).ToString(CultureInfo.InvariantCulture) + " ", rows[1], StringComparison.Ordinal);
        Assert.Equal("2 transfer(s).", Lines(both.Stdout)[^1]);

        CliResult newest = await CliProcess.RunAsync(null, "ledger", "history", ledger.Journal, "--account", payer, "--newest-first", "--limit", "1");
        Assert.True(newest.ExitCode == 0, newest.ToString());
        Assert.StartsWith((LedgerFixture.PaymentId + 2).ToString(CultureInfo.InvariantCulture) + " ", Lines(newest.Stdout)[1], StringComparison.Ordinal);
        Assert.Equal("1 transfer(s).", Lines(newest.Stdout)[^1]);

        CliResult debits = await CliProcess.RunAsync(null, "ledger", "history", ledger.Journal, "--account", payer, "--side", "debits");
        Assert.True(debits.ExitCode == 0, debits.ToString());
        Assert.Equal("1 transfer(s).", Lines(debits.Stdout)[^1]);
        Assert.StartsWith(LedgerFixture.PaymentId.ToString(CultureInfo.InvariantCulture) + " ", Lines(debits.Stdout)[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task LedgerHistory_UnknownAccountOrBadSide_ExitsFourOrOne()
    {
        CliResult unknown = await CliProcess.RunAsync(null, "ledger", "history", ledger.Journal, "--account", "424242");
        Assert.True(unknown.ExitCode == 4, unknown.ToString());
        Assert.Contains("not in the ledger", unknown.Stderr, StringComparison.Ordinal);

        CliResult side = await CliProcess.RunAsync(null, "ledger", "history", ledger.Journal, "--account", "1", "--side", "left");
        Assert.True(side.ExitCode == 1, side.ToString());
        Assert.Contains("--side", side.Stderr, StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
