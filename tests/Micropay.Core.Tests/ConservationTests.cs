using Micropay.Core.Ledger;
using Xunit.Sdk;
using static Micropay.Core.Tests.Conservation;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests;

/// <summary>
/// The shared conservation check itself: it must hold on balances whose sums pass 128 bits (a sum in checked
/// <see cref="UInt128"/> threw <see cref="OverflowException"/> there), and report, not throw, an imbalance.
/// </summary>
public sealed class ConservationTests
{
    // Two of these pass UInt128.MaxValue by one.
    private static readonly UInt128 Half = (UInt128.MaxValue / 2) + 1;

    [Fact]
    public void AssertConserved_BalancedSumsBeyondUInt128_Passes()
    {
        Account[] accounts = Crossed(Half, Half);

        Assert.True(Totals(accounts).DebitsPosted > UInt128.MaxValue);
        Assert.True(Totals(accounts).CreditsPending > UInt128.MaxValue);
        Assert.Null(ConservationBreak(accounts));
        AssertConserved(accounts);
    }

    [Fact]
    public void AssertConserved_PostedImbalanceBeyondUInt128_FailsNamingTheSums()
    {
        Account[] accounts = Crossed(Half, Half);
        accounts[1].CreditsPosted -= 1;

        FailException failure = Assert.Throws<FailException>(() => AssertConserved(accounts));

        // 2^128 debits against 2^128 - 1 credits, posted; the pending sums balance.
        Assert.Equal(
            "not conserved over 2 accounts: posted debits 340282366920938463463374607431768211456 / credits 340282366920938463463374607431768211455, " +
            "pending debits 340282366920938463463374607431768211456 / credits 340282366920938463463374607431768211456",
            failure.Message);
        Assert.Equal(failure.Message, ConservationBreak(accounts));
    }

    [Fact]
    public void AssertConserved_PendingImbalance_FailsNamingTheSums()
    {
        Account[] accounts = Crossed(5, 7);
        accounts[0].DebitsPending += 1;

        FailException failure = Assert.Throws<FailException>(() => AssertConserved(accounts));

        Assert.Equal("not conserved over 2 accounts: posted debits 10 / credits 10, pending debits 15 / credits 14", failure.Message);
    }

    // Two accounts, each debited and credited the same amounts: balanced, every sum twice the amount.
    private static Account[] Crossed(UInt128 posted, UInt128 pending) =>
    [
        Acct(1) with { DebitsPosted = posted, CreditsPosted = posted, DebitsPending = pending, CreditsPending = pending },
        Acct(2) with { DebitsPosted = posted, CreditsPosted = posted, DebitsPending = pending, CreditsPending = pending },
    ];
}
