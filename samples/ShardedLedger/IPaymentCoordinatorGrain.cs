namespace ShardedLedger;

/// <summary>
/// Drives cross-shard payments through two-phase holds, journaling each payment's intent and decision in PostgreSQL
/// before acting on it (<see cref="PaymentJournal"/>). Keyed by an integer: the client uses the payer's shard, so each
/// coordinator's journal rows are the payments of one shard's payers, but any key works (each coordinator recovers
/// its own rows). Every step is idempotent, so running a payment twice, concurrently or after a crash, moves its
/// money once.
/// </summary>
public interface IPaymentCoordinatorGrain : IGrainWithIntegerKey
{
    /// <summary>Runs a batch of cross-shard payments to a decision and resolves them.</summary>
    /// <param name="payments">Cross-shard payments with distinct ids. A payment whose id is already journaled with the
    /// same fields is driven from its journaled state (a retry); with other fields it is refused (<see cref="PaymentStatus.IdReused"/>).</param>
    /// <returns>One outcome per payment.</returns>
    Task<PaymentOutcome[]> PayAsync(Payment[] payments);

    /// <summary>Finds this coordinator's payments that another activation left unfinished (a dead one, or one that
    /// failed a batch) and resolves each: posts both sides if the journaled decision was commit, voids both otherwise
    /// (an undecided payment is aborted: presumed abort). The payments this activation is driving are not in doubt and
    /// are left alone. Also runs once after every activation.</summary>
    /// <returns>How many payments were in doubt.</returns>
    Task<int> RecoverAsync();

    /// <summary>Where this activation runs.</summary>
    /// <returns>The silo (epoch 0).</returns>
    Task<ActivationInfo> GetActivationAsync();
}
