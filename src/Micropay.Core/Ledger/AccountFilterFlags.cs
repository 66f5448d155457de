namespace Micropay.Core.Ledger;

/// <summary>
/// Flags of an <see cref="AccountFilter"/>, as TigerBeetle's <c>AccountFilterFlags</c>: at least one of
/// <see cref="Debits"/> and <see cref="Credits"/> must be set. Bits not named here are reserved and must be zero.
/// </summary>
[Flags]
public enum AccountFilterFlags : uint
{
    /// <summary>No flag: an invalid filter (it names neither side).</summary>
    None = 0,

    /// <summary>Include transfers in which the account is the debit account.</summary>
    Debits = 1 << 0,

    /// <summary>Include transfers in which the account is the credit account.</summary>
    Credits = 1 << 1,

    /// <summary>Return the newest transfers first (timestamps descending); oldest first without it.</summary>
    Reversed = 1 << 2,
}
