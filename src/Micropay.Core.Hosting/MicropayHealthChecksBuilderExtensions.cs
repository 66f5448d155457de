using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting;

/// <summary>Registers the Micropay engine's health check.</summary>
public static class MicropayHealthChecksBuilderExtensions
{
    /// <summary>The default health check name: "micropay".</summary>
    public const string DefaultName = "micropay";

    /// <summary>
    /// Adds a health check of the engine registered by <see cref="MicropayServiceCollectionExtensions.AddMicropay(IServiceCollection, Action{MicropayOptions})"/>:
    /// <paramref name="failureStatus"/> when the engine is not running, has stopped after a failure, or its journal's
    /// volume has less than <see cref="MicropayHealthCheckOptions.UnhealthyBelowFreeBytes"/> free; Degraded when the latest
    /// snapshot failed or free space is below <see cref="MicropayHealthCheckOptions.DegradedBelowFreeBytes"/>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; also names its <see cref="MicropayHealthCheckOptions"/>.</param>
    /// <param name="failureStatus">The status when failing; <see cref="HealthStatus.Unhealthy"/> when null.</param>
    /// <param name="tags">Tags to filter checks by (for example "ready").</param>
    /// <param name="configure">Sets the thresholds; the defaults otherwise.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddMicropay(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        Action<MicropayHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (configure is not null)
        {
            builder.Services.Configure(name, configure);
        }

        return builder.Add(new HealthCheckRegistration(
            name,
            services => new MicropayHealthCheck(
                services.GetRequiredService<MicropayEngineProvider>(),
                services.GetRequiredService<IOptions<MicropayOptions>>(),
                services.GetRequiredService<IOptionsMonitor<MicropayHealthCheckOptions>>().Get(name)),
            failureStatus,
            tags));
    }
}
