using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace ShardedLedger;

/// <summary>
/// What every silo of a sharded-ledger cluster must agree on, read from configuration keys under
/// <c>ShardedLedger:</c> (<see cref="LocalCluster"/> sets them as the test cluster's properties).
/// </summary>
public sealed class ShardedLedgerSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ShardedLedger";

    /// <summary>The shard count (fixed for the life of the cluster's data).</summary>
    public required int ShardCount { get; init; }

    /// <summary>The cluster's name: it prefixes each shard's ledger name and keys its journal rows, so several
    /// clusters (tests, runs) share one database without meeting.</summary>
    public required string Cluster { get; init; }

    /// <summary>The Npgsql connection string of the database holding the shards' ledgers and the payment journal.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Fault injection for tests and the demo: payments whose id falls in this range stop for good after
    /// their holds are placed, before the decision is journaled, as if their coordinator had died there.</summary>
    public PaymentIdRange StallAfterHolds { get; init; }

    /// <summary>Fault injection: payments whose id falls in this range stop for good after their decision is
    /// journaled, before either side is resolved.</summary>
    public PaymentIdRange StallAfterDecision { get; init; }

    /// <summary>The shard's ledger name in the store's tables.</summary>
    /// <param name="shard">The shard index.</param>
    /// <returns>The name.</returns>
    public string LedgerName(int shard) => string.Create(CultureInfo.InvariantCulture, $"{Cluster}-shard-{shard}");

    /// <summary>Reads the settings from <c>ShardedLedger:*</c> keys.</summary>
    /// <param name="configuration">The silo's configuration.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="InvalidOperationException">A required key is missing or malformed.</exception>
    public static ShardedLedgerSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string Required(string key) =>
            configuration[$"{Section}:{key}"] is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException($"Configuration key {Section}:{key} is missing.");

        if (!int.TryParse(Required(nameof(ShardCount)), NumberStyles.None, CultureInfo.InvariantCulture, out int shards) || shards < 1 || shards > ShardMap.MaxShards)
        {
            throw new InvalidOperationException($"{Section}:{nameof(ShardCount)} must be 1 to {ShardMap.MaxShards}.");
        }

        return new ShardedLedgerSettings
        {
            ShardCount = shards,
            Cluster = Required(nameof(Cluster)),
            ConnectionString = Required(nameof(ConnectionString)),
            StallAfterHolds = PaymentIdRange.Parse(configuration[$"{Section}:{nameof(StallAfterHolds)}"]),
            StallAfterDecision = PaymentIdRange.Parse(configuration[$"{Section}:{nameof(StallAfterDecision)}"]),
        };
    }
}
