using Micropay.Core.Audit;

namespace Micropay.Core.Cli.Tests;

public sealed class KeysCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "micropay-cli-keys-" + Guid.NewGuid().ToString("N"));

    public KeysCommandTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task KeysNew_ThenShow_PrintsTheSameVerifierKeyAndNoSecret()
    {
        string file = Path.Combine(_directory, "op.key");
        CliResult created = await CliProcess.RunAsync(_directory, "keys", "new", "--name", "example.org/operator", "--out", file);
        Assert.True(created.ExitCode == 0, created.ToString());
        string vkey = created.Stdout.Trim();
        Assert.True(NoteVerifierKey.TryParse(vkey, out NoteVerifierKey? parsed, out string? error), error);
        Assert.Equal("example.org/operator", parsed.Name);
        Assert.DoesNotContain("PRIVATE", created.Stdout + created.Stderr, StringComparison.Ordinal);

        // The file is Go's PRIVATE+KEY form of the same key, readable by its owner only.
        string secret = File.ReadAllText(file).Trim();
        Assert.StartsWith("PRIVATE+KEY+example.org/operator+", secret, StringComparison.Ordinal);
        Assert.True(NoteSignerKey.TryParse(secret, out NoteSignerKey? signer, out error), error);
        using (signer)
        {
            Assert.Equal(vkey, signer.VerifierKey.ToString());
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        CliResult shown = await CliProcess.RunAsync(_directory, "keys", "show", file);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Equal(vkey, shown.Stdout.Trim());
        Assert.DoesNotContain("PRIVATE", shown.Stdout, StringComparison.Ordinal);

        // A verifier key given as text shows as itself.
        CliResult fromText = await CliProcess.RunAsync(_directory, "keys", "show", vkey);
        Assert.True(fromText.ExitCode == 0, fromText.ToString());
        Assert.Equal(vkey, fromText.Stdout.Trim());
    }

    [Fact]
    public async Task KeysNew_ShowPrivate_PrintsTheSecretTheFileHolds()
    {
        CliResult created = await CliProcess.RunAsync(_directory, "keys", "new", "--show-private");
        Assert.True(created.ExitCode == 0, created.ToString());
        string[] lines = created.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("micropay-operator+", lines[0], StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(_directory, "micropay-operator.key")).Trim(), lines[1]);
    }

    [Fact]
    public async Task KeysNew_ExistingFile_ExitsOneAndKeepsTheOldKey()
    {
        string file = Path.Combine(_directory, "op.key");
        Assert.Equal(0, (await CliProcess.RunAsync(_directory, "keys", "new", "--out", file)).ExitCode);
        string before = File.ReadAllText(file);

        CliResult again = await CliProcess.RunAsync(_directory, "keys", "new", "--out", file);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("--force", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(file));

        CliResult forced = await CliProcess.RunAsync(_directory, "keys", "new", "--out", file, "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.NotEqual(before, File.ReadAllText(file));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("a+b")]
    public async Task KeysNew_InvalidName_ExitsOneNamingTheOption(string name)
    {
        CliResult result = await CliProcess.RunAsync(_directory, "keys", "new", "--name", name);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--name", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task KeysShow_TamperedKey_ExitsOneWithTheReason()
    {
        string file = Path.Combine(_directory, "op.key");
        CliResult created = await CliProcess.RunAsync(_directory, "keys", "new", "--out", file);
        string vkey = created.Stdout.Trim();

        // Another hash for the same name and key: the hash check refuses it. (Split by position: the base64 may hold '+'.)
        int plus = vkey.IndexOf('+', StringComparison.Ordinal);
        string hash = vkey.Substring(plus + 1, 8);
        string wrongHash = $"{vkey[..plus]}+{(hash == "00000000" ? "00000001" : "00000000")}+{vkey[(plus + 10)..]}";
        CliResult result = await CliProcess.RunAsync(_directory, "keys", "show", wrongHash);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("hash does not match", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
