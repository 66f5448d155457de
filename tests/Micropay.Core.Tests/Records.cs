using Micropay.Core.Ledger;

namespace Micropay.Core.Tests;

/// <summary>
/// The records tests submit, built with what a test is not about filled in validly (ledger 1, code 1, no user data),
/// so a test names only what it is about and changes the rest with <c>with</c>. Imported with
/// <c>using static Micropay.Core.Tests.Records;</c>. Also compiled into the crash harness, whose engine workload builds its
/// transfers with it.
/// </summary>
internal static class Records
{
    /// <summary>A valid account on ledger 1 with code 1, as submitted: no balances, no timestamp.</summary>
    public static Account Acct(UInt128 id, AccountFlags flags = AccountFlags.None) => new() { Id = id, LedgerId = 1, Code = 1, Flags = flags };

    /// <summary>A transfer of <paramref name="amount"/> from <paramref name="debit"/> to <paramref name="credit"/> on ledger 1 with code 1.</summary>
    public static Transfer Tr(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount, TransferFlags flags = TransferFlags.None) =>
        new() { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1, Flags = flags };

    /// <summary>A hold (<see cref="TransferFlags.Pending"/>) that expires after <paramref name="timeout"/> seconds, or never when 0.</summary>
    public static Transfer Pend(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount, uint timeout = 0) =>
        Tr(id, debit, credit, amount) with { Flags = TransferFlags.Pending, Timeout = timeout };

    /// <summary>
    /// Posts <paramref name="amount"/> of hold <paramref name="pendingId"/>. Accounts, ledger and code stay zero, so the
    /// ledger takes them from the hold.
    /// </summary>
    public static Transfer Post(UInt128 id, UInt128 pendingId, UInt128 amount) =>
        new() { Id = id, PendingId = pendingId, Amount = amount, Flags = TransferFlags.PostPendingTransfer };

    /// <summary>Voids hold <paramref name="pendingId"/> (an <paramref name="amount"/> other than 0 must be the hold's).</summary>
    public static Transfer VoidOf(UInt128 id, UInt128 pendingId, UInt128 amount) =>
        new() { Id = id, PendingId = pendingId, Amount = amount, Flags = TransferFlags.VoidPendingTransfer };
}
