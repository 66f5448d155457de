namespace ShardedLedger.Tests;

/// <summary>Fresh id blocks, so tests sharing a cluster never touch each other's accounts or payments.</summary>
internal static class Ids
{
    private static long _next;

    /// <summary>The first id of a new block of 1,000,000 ids.</summary>
    public static UInt128 Block() => (UInt128)(ulong)Interlocked.Increment(ref _next) * 1_000_000;
}

[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "shared cluster";
}
