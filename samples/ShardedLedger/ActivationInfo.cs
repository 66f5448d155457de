namespace ShardedLedger;

/// <summary>Where an activation runs.</summary>
/// <param name="Silo">The silo's runtime identity.</param>
/// <param name="Epoch">For a shard, the fencing epoch of its store's lease; 0 for a coordinator.</param>
[GenerateSerializer, Immutable]
public readonly record struct ActivationInfo([property: Id(0)] string Silo, [property: Id(1)] long Epoch);
