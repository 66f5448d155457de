using Micropay.Core.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Micropay.Core.Hosting.Tests;

/// <summary>
/// A temporary journal directory and hosts built on it: the real generic host (HostApplicationBuilder), without the
/// defaults that read the machine's environment, logging into a <see cref="CapturingLoggerProvider"/>.
/// </summary>
public abstract class HostingTestKit : IDisposable
{
    protected HostingTestKit()
    {
        Root = Path.Combine(Path.GetTempPath(), "micropay-hosting-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        JournalDirectory = Path.Combine(Root, "journal");
    }

    protected string Root { get; }

    protected string JournalDirectory { get; }

    protected static Account Acct(UInt128 id) => new() { Id = id, LedgerId = 1, Code = 1 };

    protected static Transfer Tr(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount) =>
        new() { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1 };

    /// <summary>A host running the engine on <see cref="JournalDirectory"/> (options changed by <paramref name="configure"/>), not started.</summary>
    protected IHost BuildHost(CapturingLoggerProvider logs, Action<MicropayOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddMicropay(options =>
        {
            options.JournalDirectory = JournalDirectory;
            options.SegmentSizeBytes = 1 << 20;
            options.IngressCapacity = 1024;
            configure?.Invoke(options);
        });
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp directory is not a test failure.
            }
        }
    }
}
