using Micropay.Core.Channels;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Identity.IdentityTestKit;

namespace Micropay.Core.Tests.Identity;

/// <summary>The key registry's deterministic rules in the state machine: registration, orders, policies, step-up, revocation.</summary>
public sealed class IdentityLedgerTests
{
    private const ulong Hour = 3600 * Second;

    [Fact]
    public void Execute_OrderWithinPolicy_CreatesTheTransferAndARetryIsExists()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { MaxPerPayment = 100 }));
        PaymentOrder order = kit.Order(40);

        Assert.Equal(OrderResult.Ok, kit.Execute(order));
        Assert.Equal(OrderResult.Exists, kit.Execute(order));
        Assert.Equal(OrderResult.ExistsWithDifferentAmount, kit.Execute(kit.Order(41, id: order.Id)));
        Assert.Equal((UInt128)40, kit.Balance(Payee));
    }

    [Fact]
    public void Execute_EachPolicyRule_RefusesWithItsOwnResultAndMovesNothing()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy
        {
            MaxPerPayment = 100,
            AllowedPayees = [Payee],
            AllowedLedgers = [1],
            ValidFrom = kit.Now + (10 * Second),
            ValidUntil = kit.Now + Hour,
            StepUpThreshold = 50,
        }));
        ulong validFrom = kit.Now + (10 * Second) - 1;

        Assert.Equal(OrderResult.KeyNotYetValid, kit.Execute(kit.Order(10)));
        Assert.Equal(OrderResult.OverPaymentLimit, kit.Execute(kit.Order(101), validFrom + 1));
        Assert.Equal(OrderResult.PayeeNotAllowed, kit.Execute(kit.Order(10, payee: Other)));
        Assert.Equal(OrderResult.LedgerNotAllowed, kit.Execute(kit.Order(10, ledgerId: 2)));
        Assert.Equal(OrderResult.StepUpRequired, kit.Execute(kit.Order(51)));
        Assert.Equal(OrderResult.OrderExpired, kit.Execute(kit.Order(10, validUntil: kit.Now)));
        Assert.Equal(OrderResult.KeyNotOwner, kit.Execute(kit.Order(10, debit: Other)));
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(50)));
        Assert.Equal(OrderResult.KeyExpired, kit.Execute(kit.Order(10), kit.Now + Hour));
        Assert.Equal((UInt128)50, kit.Balance(Payee));
    }

    [Fact]
    public void Execute_RollingWindow_IsExactAtItsBoundary()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { WindowLimit = 100, WindowLength = Hour }));
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(60)));
        ulong t0 = kit.Now;
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(40), t0 + 10));

        // At t0 + Hour - 1 the first payment still counts; at t0 + Hour it has left the window, the second has not.
        Assert.Equal(OrderResult.OverWindowLimit, kit.Execute(kit.Order(1), t0 + Hour - 1));
        Assert.Equal(OrderResult.OverWindowLimit, kit.Execute(kit.Order(61), t0 + Hour));
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(60), kit.Now + 1));
        Assert.Equal(OrderResult.OverWindowLimit, kit.Execute(kit.Order(1), t0 + 10 + Hour - 1));
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(40), t0 + 10 + Hour));
    }

    [Fact]
    public void Execute_AboveTheStepUpThreshold_NeedsAnotherKeyOfTheSameAccount()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { StepUpThreshold = 100 }));
        PaymentOrder big = kit.Order(500);

        Assert.Equal(OrderResult.StepUpRequired, kit.Execute(big));
        Assert.Equal(OrderResult.CoSignerNotFound, kit.Execute(kit.CoSigned(big)));
        Assert.Equal(OrderResult.CoSignerIsSigner, kit.Execute(kit.CoSigned(big, kit.Device)));
        Assert.Equal(KeyResult.Ok, kit.RegisterPhone());
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.CoSigned(big)));
        Assert.Equal((UInt128)500, kit.Balance(Payee));
    }

    [Fact]
    public void Execute_CoSignerOfAnotherAccountOrRevoked_IsRefused()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.RegisterEd25519(Other, kit.Phone.VerificationKey, SpendingPolicy.Unlimited)));
        Assert.Equal(OrderResult.CoSignerNotOwner, kit.Execute(kit.CoSigned(kit.Order(500))));

        using var revoked = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, revoked.RegisterDevice(new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, revoked.RegisterPhone());
        Assert.Equal(KeyResult.Ok, revoked.Key(KeyOperation.Revoke(revoked.PhoneKeyId)));
        Assert.Equal(OrderResult.CoSignerRevoked, revoked.Execute(revoked.CoSigned(revoked.Order(500))));
    }

    [Fact]
    public void Revoke_AppliesFromTheNextBatch_AndIsFinal()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(SpendingPolicy.Unlimited));
        PaymentOrder before = kit.Order(10);
        Assert.Equal(OrderResult.Ok, kit.Execute(before));
        Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.Revoke(kit.DeviceKeyId)));

        Assert.Equal(OrderResult.KeyRevoked, kit.Execute(kit.Order(10)));
        Assert.Equal(OrderResult.Exists, kit.Execute(before));
        Assert.Equal(KeyResult.AlreadyRevoked, kit.Key(KeyOperation.Revoke(kit.DeviceKeyId)));
        Assert.Equal(KeyResult.KeyRevoked, kit.RegisterDevice(SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.KeyRevoked, kit.Key(KeyOperation.UpdatePolicy(kit.DeviceKeyId, SpendingPolicy.Unlimited)));
        Assert.Equal((UInt128)10, kit.Balance(Payee));
    }

    [Fact]
    public void Register_Twice_IsIdempotentAndAKeyBelongsToOneAccount()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.Exists, kit.RegisterDevice(SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.ExistsWithDifferentPolicy, kit.RegisterDevice(new SpendingPolicy { MaxPerPayment = 5 }));
        Assert.Equal(KeyResult.ExistsWithDifferentAccount, kit.Key(KeyOperation.RegisterEd25519(Other, kit.Device.VerificationKey, SpendingPolicy.Unlimited)));
        Assert.Equal(KeyResult.AccountNotFound, kit.Key(KeyOperation.RegisterEd25519(77, kit.Phone.VerificationKey, SpendingPolicy.Unlimited)));
        Assert.Equal(KeyResult.KeyNotFound, kit.Key(KeyOperation.Revoke(kit.PhoneKeyId)));
    }

    [Fact]
    public void Execute_UnknownKey_IsKeyNotFoundAndTheIdStaysUsable()
    {
        using var kit = new IdentityTestKit(1_000);
        PaymentOrder order = kit.Order(10);
        Assert.Equal(OrderResult.KeyNotFound, kit.Execute(order));
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(SpendingPolicy.Unlimited));
        Assert.Equal(OrderResult.Ok, kit.Execute(order));
    }

    [Fact]
    public void Execute_InsufficientFunds_IsTheLedgersResultAndBurnsTheIdAsForTransfers()
    {
        using var kit = new IdentityTestKit(100);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(SpendingPolicy.Unlimited));
        PaymentOrder order = kit.Order(101);
        Assert.Equal(OrderResult.ExceedsCredits, kit.Execute(order));
        Assert.Equal(OrderResult.IdAlreadyFailed, kit.Execute(order));
        Assert.Equal((uint)CreateTransferResult.ExceedsCredits + 100, (uint)OrderResult.ExceedsCredits);
    }

    [Fact]
    public void ChannelOpen_UnderARegisteredKey_CountsAgainstItsPolicy()
    {
        using var kit = new IdentityTestKit(10_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { WindowLimit = 1_000, WindowLength = Hour, MaxChannelDeposit = 800, StepUpThreshold = 600 }));
        ChannelConfig channel = kit.Channel();

        Assert.Equal(ChannelResult.StepUpRequired, kit.Open(channel, 700));
        Assert.Equal(ChannelResult.Ok, kit.Open(channel, 500));
        Assert.Equal(ChannelResult.OverChannelDepositLimit, kit.TopUp(channel, 400, 5_000));
        Assert.Equal(ChannelResult.Ok, kit.TopUp(channel, 300, 5_001));
        Assert.Equal(OrderResult.OverWindowLimit, kit.Execute(kit.Order(201)));
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(200)));
    }

    [Fact]
    public void ChannelOpen_AboveTheThresholdWithACoSignature_Opens()
    {
        using var kit = new IdentityTestKit(10_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { StepUpThreshold = 600 }));
        Assert.Equal(KeyResult.Ok, kit.RegisterPhone());
        ChannelConfig channel = kit.Channel();
        ChannelOpenRequest request = ChannelOpenRequest.Sign(kit.Device, channel, 700);

        Assert.Equal(ChannelResult.Ok, kit.Open(channel, 700, coSignature: CoSignature.SignEd25519(kit.Phone, request)));
    }

    [Fact]
    public void ChannelOpen_AccountWithKeysUnderAnUnregisteredKey_IsKeyNotFound()
    {
        using var kit = new IdentityTestKit(10_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterPhone());
        Assert.Equal(ChannelResult.KeyNotFound, kit.Open(kit.Channel(), 100));
    }

    [Fact]
    public void Revoke_StartsTheCloseOfEveryOpenChannelFundedUnderTheKey()
    {
        using var kit = new IdentityTestKit(10_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(SpendingPolicy.Unlimited));
        Assert.Equal(KeyResult.Ok, kit.RegisterPhone());
        ChannelConfig byDevice = kit.Channel();
        ChannelConfig byPhone = kit.Channel(kit.Phone);
        Assert.Equal(ChannelResult.Ok, kit.Open(byDevice, 100));
        Assert.Equal(ChannelResult.Ok, kit.Open(byPhone, 100, kit.Phone));

        Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.Revoke(kit.DeviceKeyId)));

        ChannelBook book = ChannelBook.Of(kit.Ledger);
        Assert.True(book.TryGet(byDevice.Id, out ChannelState closing));
        Assert.Equal(ChannelStatus.Closing, closing.Status);
        Assert.Equal(kit.Now + byDevice.SettleDelay, closing.CloseDeadline);
        Assert.True(book.TryGet(byPhone.Id, out ChannelState open));
        Assert.Equal(ChannelStatus.Open, open.Status);
        Assert.Equal(ChannelResult.ChannelClosing, kit.TopUp(byDevice, 10, 6_000));
        Assert.Equal(ChannelResult.KeyRevoked, kit.Open(kit.Channel(salt: 9), 10));
    }

    [Fact]
    public void Execute_ManyOrdersOfOneKeyInABatch_LogTheKeyOnceWithItsFinalState()
    {
        using var kit = new IdentityTestKit(1_000);
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { WindowLimit = 1_000, WindowLength = Hour }));
        var log = new KeyChangeLog();
        IdentityBook.Of(kit.Ledger).Changes = log;

        Assert.All(kit.Execute(0, kit.Order(10), kit.Order(20), kit.Order(30)), r => Assert.Equal(OrderResult.Ok, r));

        KeyChange change = Assert.Single(log.Entries.ToArray());
        Assert.Equal(kit.DeviceKeyId, change.KeyId);
        Assert.Equal((UInt128)60, change.SpentInWindow);
        Assert.Equal(kit.Now, change.AsOf);
        log.Clear();
        Assert.Equal(KeyResult.Ok, kit.RegisterPhone());
        Assert.Equal(OrderResult.Ok, kit.Execute(kit.Order(5)));
        Assert.Equal([kit.PhoneKeyId, kit.DeviceKeyId], log.Entries.ToArray().Select(c => c.KeyId));
    }
}
