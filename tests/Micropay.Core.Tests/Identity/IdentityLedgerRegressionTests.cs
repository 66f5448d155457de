using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// The key registry's state machine at chosen times, for cases found by reading or testing it that the random scripts
/// of <see cref="IdentityProperties"/> do not reach (they keep each key's window length fixed).
/// </summary>
public sealed class IdentityLedgerRegressionTests
{
    /// <summary>
    /// Regression (bug): a key's window forgets a payment when an order's check evicts it under the old window length,
    /// and an update that lengthens the window then counts it or not depending on whether some order reached the
    /// window check in between. Two ledgers with the same payments, the same refused-order count and the same policy
    /// give different answers. (<see cref="SpendingPolicy"/> documents the window as exact over every payment the key
    /// made in <c>(t - WindowLength, t]</c>, which would refuse both.)
    /// </summary>
    [Fact]
    public void Execute_WindowLengthenedByAnUpdate_DoesNotDependOnWhetherARefusedOrderReachedTheWindowCheck()
    {
        var results = new OrderResult[2];
        for (int ledger = 0; ledger < 2; ledger++)
        {
            using var kit = new IdentityTestKit(1_000);
            Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { WindowLimit = 100, WindowLength = 1_000 }));
            ulong t0 = kit.Now + 1;
            Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(60), t0));

            // At t0 + 1000 the payment has left the 1000-ns window. Both ledgers refuse one order there: the first for
            // its amount, after the window check (which evicts the payment); the second for its unknown key, before it.
            PaymentOrder refused = ledger == 0 ? kit.Order(150) : kit.Order(150, key: kit.Phone);
            Assert.Equal(ledger == 0 ? OrderResult.OverWindowLimit : OrderResult.KeyNotFound, kit.Execute(refused, t0 + 1_000));

            Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.UpdatePolicy(kit.DeviceKeyId, new SpendingPolicy { WindowLimit = 100, WindowLength = 10_000 }), t0 + 1_001));
            results[ledger] = kit.Execute(kit.Order(50), t0 + 1_002);
        }

        Assert.Equal(results[1], results[0]);
    }
}
