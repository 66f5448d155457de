using System.Numerics;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests;

/// <summary>
/// Conservation of money, the ledger's first invariant: over all accounts of a consistent view, the debits equal the
/// credits, posted and pending alike. The one check every test uses (import with
/// <c>using static Micropay.Core.Tests.Conservation;</c>).
/// </summary>
/// <remarks>
/// The sums are taken in <see cref="BigInteger"/>: each balance fits in 128 bits, but their sum over accounts need not
/// (two holds of <c>UInt128.MaxValue - 1</c> do it, see LedgerRegressionTests), and a sum in checked
/// <see cref="UInt128"/> would throw <see cref="OverflowException"/> on a correct ledger instead of passing, or instead
/// of reporting which sums differ on a broken one.
/// </remarks>
internal static class Conservation
{
    /// <summary>Asserts that the debits equal the credits, posted and pending, over <paramref name="accounts"/>; the failure names the four sums.</summary>
    public static void AssertConserved(ReadOnlySpan<Account> accounts)
    {
        if (ConservationBreak(accounts) is { } broken)
        {
            Assert.Fail(broken);
        }
    }

    /// <summary>What breaks conservation over <paramref name="accounts"/> (the four sums), or null when it holds.</summary>
    public static string? ConservationBreak(ReadOnlySpan<Account> accounts)
    {
        BalanceTotals totals = Totals(accounts);
        return totals.DebitsPosted == totals.CreditsPosted && totals.DebitsPending == totals.CreditsPending
            ? null
            : $"not conserved over {accounts.Length} accounts: posted debits {totals.DebitsPosted} / credits {totals.CreditsPosted}, " +
              $"pending debits {totals.DebitsPending} / credits {totals.CreditsPending}";
    }

    /// <summary>The four balances summed over <paramref name="accounts"/>, without overflow.</summary>
    public static BalanceTotals Totals(ReadOnlySpan<Account> accounts)
    {
        BigInteger debitsPosted = 0, creditsPosted = 0, debitsPending = 0, creditsPending = 0;
        foreach (Account account in accounts)
        {
            debitsPosted += account.DebitsPosted;
            creditsPosted += account.CreditsPosted;
            debitsPending += account.DebitsPending;
            creditsPending += account.CreditsPending;
        }

        return new BalanceTotals(debitsPosted, creditsPosted, debitsPending, creditsPending);
    }

    /// <summary>Balances summed over accounts.</summary>
    public readonly record struct BalanceTotals(BigInteger DebitsPosted, BigInteger CreditsPosted, BigInteger DebitsPending, BigInteger CreditsPending);
}
