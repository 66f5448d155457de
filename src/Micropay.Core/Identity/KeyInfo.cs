namespace Micropay.Core.Identity;

/// <summary>
/// A registered key as of released batches (<see cref="Engine.LedgerEngine.TryGetKey"/>): its account, kind, status,
/// policy, and what it spent in its rolling window.
/// </summary>
/// <param name="KeyId">The key's id.</param>
/// <param name="AccountId">The account it is bound to.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Status">Active or revoked.</param>
/// <param name="Policy">Its current policy.</param>
/// <param name="SpentInWindow">
/// What it spent in the window that ended at <paramref name="AsOf"/> (the ledger time of its last change). Payments leave
/// the window as time passes, so at a later time the key may spend more than <see cref="WindowRemaining"/>, never less.
/// </param>
/// <param name="AsOf">The ledger time of the key's last change (registration, policy, revocation or payment).</param>
public readonly record struct KeyInfo(UInt128 KeyId, UInt128 AccountId, KeyKind Kind, KeyStatus Status, SpendingPolicy Policy, UInt128 SpentInWindow, ulong AsOf)
{
    /// <summary>What the window limit left at <see cref="AsOf"/>: <see cref="UInt128.MaxValue"/> without a window limit, 0 for a revoked key.</summary>
    public UInt128 WindowRemaining =>
        Status == KeyStatus.Revoked ? UInt128.Zero
        : Policy.WindowLength == 0 ? UInt128.MaxValue
        : SpentInWindow >= Policy.WindowLimit ? UInt128.Zero
        : Policy.WindowLimit - SpentInWindow;
}
