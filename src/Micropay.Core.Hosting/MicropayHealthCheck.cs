using System.Globalization;
using Micropay.Core.Engine;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting;

/// <summary>
/// The engine's health: failing (the registration's failure status) when it is not running or has stopped after a
/// failure, or when the journal's volume is nearly full; Degraded when the latest snapshot failed or free space is low.
/// Reads only cheap properties, so it may be polled often.
/// </summary>
internal sealed class MicropayHealthCheck : IHealthCheck
{
    private readonly MicropayEngineProvider _provider;
    private readonly IOptions<MicropayOptions> _options;
    private readonly MicropayHealthCheckOptions _thresholds;

    public MicropayHealthCheck(MicropayEngineProvider provider, IOptions<MicropayOptions> options, MicropayHealthCheckOptions thresholds)
    {
        _provider = provider;
        _options = options;
        _thresholds = thresholds;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        HealthStatus failing = context.Registration.FailureStatus;
        if (!_provider.TryGetEngine(out LedgerEngine? engine))
        {
            return Task.FromResult(new HealthCheckResult(failing, "The ledger engine is not running (the host has not started it, or has stopped it)."));
        }

        var data = new Dictionary<string, object>
        {
            ["releasedBatchNumber"] = engine.ReleasedBatchNumber,
            ["latestSnapshotBatchNumber"] = engine.LatestSnapshotBatchNumber,
            ["ingressDepth"] = engine.IngressDepth,
            ["durability"] = engine.Durability.ToString(),
        };
        if (engine.Failure is { } failure)
        {
            return Task.FromResult(new HealthCheckResult(failing, "The ledger engine stopped after a failure and refuses all work; restart the service.", failure, data));
        }

        HealthStatus status = HealthStatus.Healthy;
        List<string> notes = [];
        Exception? problem = null;
        if (engine.LastSnapshotError is { } snapshotError)
        {
            status = HealthStatus.Degraded;
            problem = snapshotError;
            notes.Add($"The latest snapshot failed (the newest is at batch {engine.LatestSnapshotBatchNumber}); reopening replays more journal.");
        }

        MicropayOptions options = _options.Value;
        CheckDisk(options.Durability == DurabilityMode.InMemory ? null : options.JournalDirectory, "journal", failing, data, notes, ref status, ref problem);
        CheckDisk(options.AuditDirectory, "audit", failing, data, notes, ref status, ref problem);
        string description = notes.Count == 0 ? "The ledger engine is running." : string.Join(" ", notes);
        return Task.FromResult(new HealthCheckResult(status, description, problem, data));
    }

    private void CheckDisk(
        string? directory, string label, HealthStatus failing, Dictionary<string, object> data, List<string> notes, ref HealthStatus status, ref Exception? problem)
    {
        if (string.IsNullOrWhiteSpace(directory) || (_thresholds.DegradedBelowFreeBytes <= 0 && _thresholds.UnhealthyBelowFreeBytes <= 0))
        {
            return;
        }

        long free;
        try
        {
            free = new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            status = Worse(status, HealthStatus.Degraded);
            problem ??= e;
            notes.Add($"The free space on the {label} volume could not be read.");
            return;
        }

        data[label + "FreeBytes"] = free;
        if (_thresholds.UnhealthyBelowFreeBytes > 0 && free < _thresholds.UnhealthyBelowFreeBytes)
        {
            status = Worse(status, failing);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"The {label} volume has {free} bytes free, below {_thresholds.UnhealthyBelowFreeBytes}: appends will soon fail and stop the engine."));
        }
        else if (_thresholds.DegradedBelowFreeBytes > 0 && free < _thresholds.DegradedBelowFreeBytes)
        {
            status = Worse(status, HealthStatus.Degraded);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"The {label} volume has {free} bytes free, below {_thresholds.DegradedBelowFreeBytes}."));
        }
    }

    // HealthStatus orders Unhealthy (0) < Degraded (1) < Healthy (2).
    private static HealthStatus Worse(HealthStatus a, HealthStatus b) => a < b ? a : b;
}
