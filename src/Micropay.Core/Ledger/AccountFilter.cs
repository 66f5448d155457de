namespace Micropay.Core.Ledger;

/// <summary>
/// Which transfers of one account to read, and how many: TigerBeetle's <c>AccountFilter</c> for
/// <c>get_account_transfers</c> (without its user data and code fields).
/// </summary>
/// <remarks>
/// <para>
/// The result is the transfers in which <see cref="AccountId"/> is the debit account (<see cref="AccountFilterFlags.Debits"/>)
/// and/or the credit account (<see cref="AccountFilterFlags.Credits"/>), whose timestamps lie in
/// [<see cref="TimestampMin"/>, <see cref="TimestampMax"/>] (both inclusive, 0 meaning unbounded), ordered by timestamp
/// ascending (descending with <see cref="AccountFilterFlags.Reversed"/>), at most <see cref="Limit"/> of them. Posts and
/// voids of pending transfers are transfers of their own, with the pending transfer's accounts. To page through a long
/// history, ask again with <see cref="TimestampMin"/> one above the last timestamp returned (or
/// <see cref="TimestampMax"/> one below it when reversed).
/// </para>
/// <para>
/// A filter that is not <see cref="IsValid"/> matches nothing: the reads return no transfers for it, as TigerBeetle does,
/// rather than throwing.
/// </para>
/// </remarks>
public readonly record struct AccountFilter
{
    /// <summary>The account whose transfers to read. 0 and <see cref="UInt128.MaxValue"/> are invalid.</summary>
    public UInt128 AccountId { get; init; }

    /// <summary>The earliest timestamp to include (inclusive); 0 for no lower bound. <see cref="ulong.MaxValue"/> is invalid.</summary>
    public ulong TimestampMin { get; init; }

    /// <summary>The latest timestamp to include (inclusive); 0 for no upper bound. <see cref="ulong.MaxValue"/> is invalid.</summary>
    public ulong TimestampMax { get; init; }

    /// <summary>The most transfers to return; 0 is invalid. The results span may cap it further.</summary>
    public uint Limit { get; init; }

    /// <summary>Which sides to include, and the order.</summary>
    public AccountFilterFlags Flags { get; init; }

    /// <summary>
    /// Whether the filter can match anything: a nonzero account id other than <see cref="UInt128.MaxValue"/>, a nonzero
    /// <see cref="Limit"/>, at least one of <see cref="AccountFilterFlags.Debits"/> and
    /// <see cref="AccountFilterFlags.Credits"/>, no reserved flag bit, neither timestamp <see cref="ulong.MaxValue"/>, and
    /// <see cref="TimestampMin"/> at most <see cref="TimestampMax"/> when both are set (TigerBeetle's rules).
    /// </summary>
    public bool IsValid =>
        AccountId != UInt128.Zero && AccountId != UInt128.MaxValue &&
        Limit != 0 &&
        (Flags & (AccountFilterFlags.Debits | AccountFilterFlags.Credits)) != 0 &&
        (Flags & ~(AccountFilterFlags.Debits | AccountFilterFlags.Credits | AccountFilterFlags.Reversed)) == 0 &&
        TimestampMin != ulong.MaxValue && TimestampMax != ulong.MaxValue &&
        (TimestampMax == 0 || TimestampMin <= TimestampMax);
}
