using System.Globalization;

namespace ShardedLedger;

/// <summary>
/// The partition function and the id scheme of the sharded ledger: which shard owns an account, which accounts each
/// shard keeps for itself, and which transfer ids a payment's steps use.
/// </summary>
/// <remarks>
/// <para>
/// <b>Partition.</b> A customer account <c>a</c> lives on shard <c>a mod N</c> (<see cref="ShardOf"/>), N the shard count.
/// Modulo is enough because the ids it is meant for (random or time-ordered 128-bit ids) have uniform low bits; an
/// application with sequential ids gets round robin, which is uniform too. N is fixed for the life of a cluster's data:
/// changing it would move accounts between ledgers, which this sample does not do (a known gap).
/// </para>
/// <para>
/// <b>System accounts.</b> Ids from <see cref="SystemBase"/> (top 32 bits 0xFFFFFFFE, just below the range the ledger
/// reserves for itself) up are the shards' own: shard s keeps a bridge account <see cref="BridgeAccount"/> (the
/// counterparty of every cross-shard hold on s) and a treasury <see cref="TreasuryAccount"/> (issues money on s). A
/// system id carries its shard in its low 32 bits, so the partition function needs no table. Customers cannot use them.
/// </para>
/// <para>
/// <b>Transfer ids.</b> A payment id <c>p</c> (1 to 2^120 - 1) names at most five transfers, <c>p * 8 + step</c>: an in-shard
/// payment is one transfer (step 0); a cross-shard payment is a hold on each side (1 payer, 2 payee) and one resolution
/// per side (3 payer, 4 payee: the post if the payment committed, the void if it aborted, under the same id so that a
/// post can never slip in after a void or the reverse). Deriving them from the payment id is what makes every step
/// idempotent: a step replayed by a retry or by recovery names the same transfer, and the ledger answers Exists when
/// it is already there with the same fields.
/// </para>
/// </remarks>
public sealed class ShardMap
{
    /// <summary>The largest shard count (system ids keep the shard in 32 bits; far more than any cluster here).</summary>
    public const int MaxShards = 4096;

    /// <summary>The ledger (currency) every account and transfer of the sample belongs to.</summary>
    public const uint LedgerId = 978;

    /// <summary>The first system account id: <c>0xFFFFFFFE_00000000_00000000_00000000</c>.</summary>
    public static readonly UInt128 SystemBase = new(0xFFFF_FFFE_0000_0000UL, 0);

    /// <summary>One past the largest payment id (2^120): <c>p * 8 + 7</c> stays below the system and reserved ids.</summary>
    public static readonly UInt128 PaymentIdLimit = UInt128.One << 120;

    /// <summary>Creates the map of a cluster of <paramref name="shardCount"/> shards.</summary>
    /// <param name="shardCount">1 to <see cref="MaxShards"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The count is out of range.</exception>
    public ShardMap(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shardCount, MaxShards);
        ShardCount = shardCount;
    }

    /// <summary>The number of shards.</summary>
    public int ShardCount { get; }

    /// <summary>The shard that owns <paramref name="account"/>: the shard in a system id, else <c>account mod ShardCount</c>.</summary>
    /// <param name="account">A customer or system account id (not 0).</param>
    /// <returns>0 to <see cref="ShardCount"/> - 1.</returns>
    /// <exception cref="ArgumentException">The id is 0, or a system id of a shard this cluster does not have.</exception>
    public int ShardOf(UInt128 account)
    {
        if (account == UInt128.Zero)
        {
            throw new ArgumentException("Account id 0 is not an account.", nameof(account));
        }

        if (account >= SystemBase)
        {
            uint shard = (uint)(ulong)(account & uint.MaxValue);
            if (shard >= (uint)ShardCount)
            {
                throw new ArgumentException($"System account {account} names shard {shard}; the cluster has {ShardCount}.", nameof(account));
            }

            return (int)shard;
        }

        return (int)(uint)(account % (uint)ShardCount);
    }

    /// <summary>Whether <paramref name="account"/> is a customer id (not 0, below <see cref="SystemBase"/>).</summary>
    /// <param name="account">An account id.</param>
    /// <returns>True for an id customers may use.</returns>
    public static bool IsCustomerAccount(UInt128 account) => account != UInt128.Zero && account < SystemBase;

    /// <summary>Shard <paramref name="shard"/>'s bridge account: the counterparty of its cross-shard holds.</summary>
    /// <param name="shard">A shard index.</param>
    /// <returns>The id.</returns>
    public static UInt128 BridgeAccount(int shard) => SystemBase | (uint)shard;

    /// <summary>Shard <paramref name="shard"/>'s treasury: the account that issues money on that shard.</summary>
    /// <param name="shard">A shard index.</param>
    /// <returns>The id.</returns>
    public static UInt128 TreasuryAccount(int shard) => SystemBase | (UInt128.One << 32) | (uint)shard;

    /// <summary>The id of step <paramref name="step"/> of payment <paramref name="paymentId"/>: <c>paymentId * 8 + step</c>.</summary>
    /// <param name="paymentId">A payment id, checked by <see cref="CheckPaymentId"/>.</param>
    /// <param name="step">The step.</param>
    /// <returns>The transfer id.</returns>
    public static UInt128 TransferId(UInt128 paymentId, PaymentStep step) => (paymentId << 3) | (uint)step;

    /// <summary>Throws unless <paramref name="paymentId"/> is a valid payment id (1 to 2^120 - 1).</summary>
    /// <param name="paymentId">The id.</param>
    /// <param name="parameterName">The caller's parameter, for the exception.</param>
    /// <exception cref="ArgumentException">The id is out of range.</exception>
    public static void CheckPaymentId(UInt128 paymentId, string parameterName)
    {
        if (paymentId == UInt128.Zero || paymentId >= PaymentIdLimit)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Payment id {paymentId} is out of range: 1 to 2^120 - 1 (its transfers are id * 8 + step)."),
                parameterName);
        }
    }
}
