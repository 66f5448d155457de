using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>
/// Transfers bound for several shards, sent as one grain call per shard (all shards in parallel), with the results
/// handed back in the order the transfers were added. Within a shard, transfers keep their order, so a hold added
/// before its void is applied before it.
/// </summary>
/// <param name="capacity">Expected number of transfers.</param>
public sealed class ShardBatches(int capacity)
{
    private readonly List<(int Shard, Transfer Transfer)> _items = new(capacity);

    /// <summary>The number of transfers added.</summary>
    public int Count => _items.Count;

    /// <summary>Adds a transfer for <paramref name="shard"/>.</summary>
    /// <param name="shard">The shard.</param>
    /// <param name="transfer">The transfer.</param>
    public void Add(int shard, Transfer transfer) => _items.Add((shard, transfer));

    /// <summary>Sends every shard its transfers and waits for all of them.</summary>
    /// <param name="grains">The grain factory.</param>
    /// <returns>One result per transfer, in the order added.</returns>
    public async Task<CreateTransferResult[]> RunAsync(IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var results = new CreateTransferResult[_items.Count];
        var calls = new List<Task>();
        foreach (IGrouping<int, int> shard in Enumerable.Range(0, _items.Count).GroupBy(i => _items[i].Shard))
        {
            int[] positions = shard.ToArray();
            Transfer[] transfers = positions.Select(i => _items[i].Transfer).ToArray();
            calls.Add(Call(grains.GetGrain<ILedgerShardGrain>(shard.Key), transfers, positions, results));
        }

        await Task.WhenAll(calls);
        return results;
    }

    private static async Task Call(ILedgerShardGrain shard, Transfer[] transfers, int[] positions, CreateTransferResult[] results)
    {
        CreateTransferResult[] shardResults = await shard.CreateTransfersAsync(Records.Encode(transfers));
        if (shardResults.Length != transfers.Length)
        {
            throw new InvalidOperationException($"A shard answered {shardResults.Length} results for {transfers.Length} transfers.");
        }

        for (int k = 0; k < positions.Length; k++)
        {
            results[positions[k]] = shardResults[k];
        }
    }
}
