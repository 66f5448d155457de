namespace Micropay.Core.Cli.Tests;

public sealed class UsageTests
{
    [Fact]
    public async Task Help_ListsTheCommandsAndTheExitCodes()
    {
        CliResult result = await CliProcess.RunAsync(null, "--help");
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (string command in new[] { "keys", "ledger", "audit", "receipt", "checkpoint" })
        {
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes: 0 ok; 1 usage or input error; 2 verification failed", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 ledger could not be opened", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("ledger", "info")]
    [InlineData("ledger", "info", "--bogus")]
    [InlineData("receipt", "verify", "x.receipt")]
    [InlineData("keys", "new", "--unknown-option")]
    public async Task BadArguments_ExitOneWithAMessageOnStderr(params string[] args)
    {
        CliResult result = await CliProcess.RunAsync(null, args);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.NotEmpty(result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedVerifierKey_ExitsOneNamingTheOption()
    {
        CliResult result = await CliProcess.RunAsync(null, "receipt", "verify", "x.receipt", "--key", "name+nothex00+AAAA");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--key:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hash", result.Stderr, StringComparison.Ordinal);
    }
}
