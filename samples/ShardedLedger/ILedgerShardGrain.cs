namespace ShardedLedger;

/// <summary>
/// One ledger shard: a grain keyed by the shard index that owns a <c>LedgerEngine</c> on the shard's PostgreSQL
/// ledger. Every call takes a batch (128-byte records, <see cref="Records"/>), so one grain call carries many
/// transfers: the engine turns concurrent calls into one batch and one commit each (group commit), and the grain
/// round trip is paid per batch, not per transfer.
/// </summary>
public interface ILedgerShardGrain : IGrainWithIntegerKey
{
    /// <summary>Creates customer accounts of this shard.</summary>
    /// <param name="accounts">Account records; each must be a customer account of this shard.</param>
    /// <returns>One result per account.</returns>
    Task<Micropay.Core.Ledger.CreateAccountResult[]> CreateAccountsAsync(byte[] accounts);

    /// <summary>Creates transfers on this shard, in order (split into engine batches of at most its batch size).</summary>
    /// <param name="transfers">Transfer records.</param>
    /// <returns>One result per transfer.</returns>
    Task<Micropay.Core.Ledger.CreateTransferResult[]> CreateTransfersAsync(byte[] transfers);

    /// <summary>Reads transfers by id.</summary>
    /// <param name="ids">The ids.</param>
    /// <returns>One 128-byte record per id, all zeros where no transfer has that id.</returns>
    Task<byte[]> LookupTransfersAsync(UInt128[] ids);

    /// <summary>Every account of the shard, as released (a consistent view at one batch boundary).</summary>
    /// <returns>Account records.</returns>
    Task<byte[]> ReadAccountsAsync();

    /// <summary>Where this activation runs and which store epoch it holds (tests and the demo show takeovers).</summary>
    /// <returns>The silo and the fencing epoch.</returns>
    Task<ActivationInfo> GetActivationAsync();
}
