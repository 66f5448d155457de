using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Tests.Engine;
using Micropay.Core.Tests.Identity.Passkeys;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// Step-up with a passkey: an order (or a channel open) above its key's threshold, co-signed by a WebAuthn assertion of
/// a passkey registered to the same account, built by a software authenticator; on the writer (the signature counter)
/// and through the engine (the assertion verified at the edge, the counter kept across a reopen).
/// </summary>
public sealed class PasskeyStepUpTests : EngineTestKit
{
    private static readonly UInt128 Bank = 1;
    private static readonly UInt128 Payer = 2;
    private static readonly UInt128 Payee = 3;
    private static readonly byte[] DeviceSeed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");

    [Fact]
    public void Execute_PasskeyCoSignature_AppliesOnceItsCounterIncreases()
    {
        using var kit = new IdentityTestKit(10_000);
        using var phone = new SoftwareAuthenticator(counter: 10);
        PasskeyCredential credential = phone.Credential();
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.RegisterPasskey(IdentityTestKit.Payer, credential, SpendingPolicy.Unlimited)));

        PaymentOrder first = kit.Order(500);
        Assert.Equal(OrderResult.Ok, kit.Execute(CoSign(first, phone, credential, IdentityTestKit.Instance)));

        // The writer does not verify signatures (the edge did): a second assertion whose counter did not move on is the
        // writer's to refuse, whatever order it comes with.
        using var clone = SoftwareAuthenticator.FromPrivateKey(phone.Key.ExportParameters(true).D, phone.CredentialId, counter: 10);
        Assert.Equal(OrderResult.SignCountNotIncreasing, kit.Execute(CoSign(kit.Order(500), clone, credential, IdentityTestKit.Instance)));
        Assert.Equal(OrderResult.Ok, kit.Execute(CoSign(kit.Order(500), phone, credential, IdentityTestKit.Instance)));
        Assert.Equal((UInt128)1_000, kit.Balance(IdentityTestKit.Payee));
    }

    [Fact]
    public void Execute_PasskeyThatDoesNotCount_IsAcceptedEachTime()
    {
        // Counter 0 on both sides: the authenticator does not count (many platform passkeys), so 0 after 0 is accepted.
        using var kit = new IdentityTestKit(10_000);
        using var phone = new SoftwareAuthenticator();
        PasskeyCredential credential = phone.Credential();
        Assert.Equal(KeyResult.Ok, kit.RegisterDevice(new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, kit.Key(KeyOperation.RegisterPasskey(IdentityTestKit.Payer, credential, SpendingPolicy.Unlimited)));

        Assert.Equal(OrderResult.Ok, kit.Execute(CoSignWithCounter(kit.Order(500), phone, credential, IdentityTestKit.Instance, counter: 0)));
        Assert.Equal(OrderResult.Ok, kit.Execute(CoSignWithCounter(kit.Order(500), phone, credential, IdentityTestKit.Instance, counter: 0)));
        Assert.Equal(OrderResult.Ok, kit.Execute(CoSignWithCounter(kit.Order(500), phone, credential, IdentityTestKit.Instance, counter: 1)));
        Assert.Equal(OrderResult.SignCountNotIncreasing, kit.Execute(CoSignWithCounter(kit.Order(500), phone, credential, IdentityTestKit.Instance, counter: 0)));
    }

    [Fact]
    public async Task ExecuteOrderAsync_PasskeyStepUp_VerifiedAtTheEdgeAndItsCounterSurvivesReopening()
    {
        using SigningKey device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
        using var phone = new SoftwareAuthenticator(counter: 5);
        PasskeyCredential credential = phone.Credential();
        PaymentOrder stale;
        await using (LedgerEngine engine = await OpenFileEngineAsync())
        {
            await SetUpAsync(engine, device, credential);
            PaymentOrder big = Order(engine, device, 20, 900);
            Assert.Equal(OrderResult.StepUpRequired, await engine.ExecuteOrderAsync(big));

            // Refused at the edge, each for its own WebAuthn reason, all as BadCoSignature; nothing moves.
            PaymentOrder other = Order(engine, device, 21, 900);
            Assert.Equal(OrderResult.BadCoSignature, await engine.ExecuteOrderAsync(big.WithCoSignature(AssertionFor(other, phone, credential, engine.InstanceId))));
            Assert.Equal(OrderResult.BadCoSignature, await engine.ExecuteOrderAsync(big.WithCoSignature(
                CoSignature.FromPasskey(KeyIds.Of(credential), phone.GetAssertion(Challenge(big, engine.InstanceId), flags: AuthenticatorFlags.UserPresent)))));
            Assert.Equal(OrderResult.BadCoSignature, await engine.ExecuteOrderAsync(big.WithCoSignature(
                CoSignature.FromPasskey(KeyIds.Of(credential), phone.GetAssertion(Challenge(big, engine.InstanceId), origin: "https://evil.example.com")))));
            Assert.True(engine.TryGetAccount(Payee, out Account before));
            Assert.Equal(UInt128.Zero, before.CreditsPosted);

            Assert.Equal(OrderResult.Ok, await engine.ExecuteOrderAsync(CoSign(big, phone, credential, engine.InstanceId)));
            stale = Order(engine, device, 22, 900);
        }

        await using (LedgerEngine reopened = await OpenFileEngineAsync())
        {
            // The counter the writer kept (9: the accepted assertion's; the three refused at the edge counted 6 to 8 on the
            // authenticator) came back with the journal: a clone's assertion at counter 8 is refused, the real one's 10 accepted.
            using var clone = SoftwareAuthenticator.FromPrivateKey(phone.Key.ExportParameters(true).D, phone.CredentialId, counter: 7);
            Assert.Equal(OrderResult.SignCountNotIncreasing, await reopened.ExecuteOrderAsync(CoSign(stale, clone, credential, reopened.InstanceId)));
            Assert.Equal(OrderResult.Ok, await reopened.ExecuteOrderAsync(CoSign(stale, phone, credential, reopened.InstanceId)));
            Assert.True(reopened.TryGetAccount(Payee, out Account payee));
            Assert.Equal((UInt128)1_800, payee.CreditsPosted);
        }
    }

    [Fact]
    public async Task OpenChannelAsync_AboveTheThresholdWithAPasskeyCoSignature_Opens()
    {
        using SigningKey device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
        using var phone = new SoftwareAuthenticator();
        PasskeyCredential credential = phone.Credential();
        await using LedgerEngine engine = await OpenFileEngineAsync();
        await SetUpAsync(engine, device, credential);
        ChannelConfig config = ChannelConfig.CreateCumulative(engine.InstanceId, Payer, Payee, 1, device.VerificationKey, ulong.MaxValue - 1, 1_000_000_000, 0);
        ChannelOpenRequest open = ChannelOpenRequest.Sign(device, config, 700);

        Assert.Equal(ChannelResult.StepUpRequired, await engine.OpenChannelAsync(open));
        byte[] challenge = new byte[32];
        open.ComputeChallenge(challenge);
        byte[] wrong = (byte[])challenge.Clone();
        wrong[0] ^= 1;
        Assert.Equal(ChannelResult.BadCoSignature, await engine.OpenChannelAsync(open.WithCoSignature(CoSignature.FromPasskey(KeyIds.Of(credential), phone.GetAssertion(wrong)))));
        Assert.Equal(ChannelResult.Ok, await engine.OpenChannelAsync(open.WithCoSignature(CoSignature.FromPasskey(KeyIds.Of(credential), phone.GetAssertion(challenge)))));
        Assert.True(engine.TryGetChannel(config.Id, out ChannelInfo channel));
        Assert.Equal((UInt128)700, channel.Deposited);
    }

    private static async Task SetUpAsync(LedgerEngine engine, SigningKey device, PasskeyCredential credential)
    {
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(Bank), Acct(Payer, AccountFlags.DebitsMustNotExceedCredits), Acct(Payee) }, new CreateAccountResult[3]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(1, Bank, Payer, 100_000)));
        Assert.Equal(KeyResult.Ok, await engine.RegisterKeyAsync(Payer, device.VerificationKey, new SpendingPolicy { StepUpThreshold = 100 }));
        Assert.Equal(KeyResult.Ok, await engine.RegisterPasskeyAsync(Payer, credential, SpendingPolicy.Unlimited));
    }

    private static PaymentOrder Order(LedgerEngine engine, SigningKey device, UInt128 id, UInt128 amount) =>
        PaymentOrder.Sign(device, engine.InstanceId, Tr(id, Payer, Payee, amount), ulong.MaxValue);

    private static byte[] Challenge(in PaymentOrder order, UInt128 instance)
    {
        byte[] challenge = new byte[32];
        order.ComputeChallenge(instance, challenge);
        return challenge;
    }

    private static CoSignature AssertionFor(in PaymentOrder order, SoftwareAuthenticator phone, PasskeyCredential credential, UInt128 instance) =>
        CoSignature.FromPasskey(KeyIds.Of(credential), phone.GetAssertion(Challenge(order, instance)));

    private static PaymentOrder CoSign(in PaymentOrder order, SoftwareAuthenticator phone, PasskeyCredential credential, UInt128 instance) =>
        order.WithCoSignature(AssertionFor(order, phone, credential, instance));

    private static PaymentOrder CoSignWithCounter(in PaymentOrder order, SoftwareAuthenticator phone, PasskeyCredential credential, UInt128 instance, uint counter)
    {
        byte[] challenge = Challenge(order, instance);
        byte[] authenticatorData = phone.AuthenticatorData(SoftwareAuthenticator.DefaultFlags, counter);
        byte[] clientData = System.Text.Encoding.UTF8.GetBytes(SoftwareAuthenticator.ClientDataJson(challenge));
        return order.WithCoSignature(CoSignature.FromPasskey(KeyIds.Of(credential), phone.SignRaw(authenticatorData, clientData)));
    }
}
