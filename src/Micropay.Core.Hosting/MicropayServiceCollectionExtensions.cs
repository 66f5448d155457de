using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting;

/// <summary>Registers a Micropay ledger engine with the generic host.</summary>
public static class MicropayServiceCollectionExtensions
{
    /// <summary>
    /// Registers the engine as a hosted service (opened when the host starts, drained and closed when it stops),
    /// <see cref="MicropayEngineProvider"/> to reach it, its options (checked when the host starts: a wrong setting fails
    /// the start with an <see cref="OptionsValidationException"/> naming it), and its "Micropay.Core" meter.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddMicropay(this IServiceCollection services, Action<MicropayOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<MicropayOptions>().Configure(configure).ValidateOnStart();
        return AddServices(services);
    }

    /// <summary>
    /// Registers the engine as <see cref="AddMicropay(IServiceCollection, Action{MicropayOptions})"/> does, its options bound
    /// from <paramref name="configuration"/> (conventionally the section <see cref="MicropayOptions.DefaultSectionName"/>),
    /// then passed to <paramref name="configure"/> for what configuration cannot hold (<see cref="MicropayOptions.OperatorKey"/>,
    /// <see cref="MicropayOptions.ConfigureEngine"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind, such as <c>configuration.GetSection("Micropay")</c>.</param>
    /// <param name="configure">Sets what binding cannot, or null.</param>
    /// <returns><paramref name="services"/>.</returns>
    [RequiresUnreferencedCode("Binds MicropayOptions by reflection.")]
    [RequiresDynamicCode("Binds MicropayOptions by reflection.")]
    public static IServiceCollection AddMicropay(this IServiceCollection services, IConfiguration configuration, Action<MicropayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        OptionsBuilder<MicropayOptions> options = services.AddOptions<MicropayOptions>().Bind(configuration).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddServices(services);
    }

    private static IServiceCollection AddServices(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MicropayOptions>, MicropayOptionsValidator>());
        services.TryAddSingleton(static provider => new MicropayMetrics(provider.GetService<IMeterFactory>()));
        services.TryAddSingleton(static provider => new MicropayEngineProvider(provider.GetRequiredService<MicropayMetrics>()));
        services.AddHostedService<MicropayEngineService>();
        return services;
    }
}
