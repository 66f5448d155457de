using System.Diagnostics;

namespace Micropay.Core.Cli.Tests;

/// <summary>
/// Runs the tool (src/Micropay.Core.Cli, copied to cli/ beside the tests by the project's CopyCli target) as a child
/// process through the dotnet host, as the installed tool runs it (the tool shim starts the same dll): the tests see only
/// its exit code, stdout and stderr.
/// </summary>
public static class CliProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string CliPath => Path.Combine(AppContext.BaseDirectory, "cli", "Micropay.Core.Cli.dll");

    // The SDK sets DOTNET_HOST_PATH for test runs; otherwise rely on the PATH.
    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Runs <c>micropay <paramref name="args"/></c> in <paramref name="workingDirectory"/> (or the current one) and waits for it.</summary>
    public static async Task<CliResult> RunAsync(string? workingDirectory, params string[] args)
    {
        Assert.True(File.Exists(CliPath), $"The tool is not built at {CliPath}.");
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        start.ArgumentList.Add(CliPath);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("The dotnet host did not start.");
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"micropay {string.Join(' ', args)} did not finish in {Timeout}.");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
