using System.Diagnostics;

namespace Micropay.Core.Tests;

/// <summary>
/// Starts the crash harness (tests/Micropay.Core.CrashHarness, copied to crash-harness/ beside the tests) as a child
/// process for the crash tests to kill. Standard input stays redirected (held open by this process): the harness
/// exits when it closes, so a child outlives no crashed test host.
/// </summary>
internal static class CrashHarnessProcess
{
    private static string HarnessPath => Path.Combine(AppContext.BaseDirectory, "crash-harness", "Micropay.Core.CrashHarness.dll");

    // The SDK sets DOTNET_HOST_PATH for test runs; otherwise rely on the PATH.
    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Process Start(params string[] arguments)
    {
        Assert.True(File.Exists(HarnessPath), $"the crash harness was not built to {HarnessPath}");
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HarnessPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
