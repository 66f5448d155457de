// Identity: a phone pays with its own key under a daily limit; a large payment needs the owner's passkey; a lost phone
// is revoked.
//
// Alice's phone holds an Ed25519 key that the ledger knows as hers: the key is registered to her account with a
// spending policy (at most 50.00 EUR in any 24 hours, a passkey confirmation above 10.00 EUR). The phone signs payment
// orders, and the ledger applies an order only if the key is Alice's, still active, and the policy allows it, checked
// with the ledger's own clock: no session, no password, no server-side rule to forget. Above the step-up threshold
// the order also needs a co-signature by another of Alice's keys: here her passkey, a WebAuthn credential whose
// private key never leaves her authenticator (Face ID, a security key). The sample plays the authenticator itself
// with an ECDSA P-256 key and builds the assertion byte for byte as an authenticator and a browser do. Last, the phone
// is lost: Alice revokes its key; everything it signs from then on is refused, and the channel it funded starts
// closing, so its deposit comes back after the settle delay.
//
// The roles, and the keys each holds:
//   the ledger operator: runs the engine; holds no key of Alice's;
//   the phone:           holds the device key, signs orders, the channel's open request and vouchers;
//   the authenticator:   holds the passkey's private key, signs WebAuthn assertions over an order's challenge.
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
// Amounts are integers in the ledger's smallest unit, 1/1000 of a cent ("millicent"), as in the other samples.

using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

const uint Eur = 978;
const ulong Minute = 60UL * 1_000_000_000UL; // the ledger's clock counts nanoseconds since the Unix epoch
const ulong Day = 24 * 60 * Minute;
const string RelyingParty = "pay.example.com";
const string Origin = "https://pay.example.com";
UInt128 bankId = 1001;
UInt128 aliceId = 2001;
UInt128 cafeId = 3001;
UInt128 musicId = 3002;
UInt128 funds = 20_000_000;        // 200.00 EUR on Alice's account
UInt128 coffee = 350_000;          // 3.50 EUR
UInt128 deposit = 500_000;         // 5.00 EUR locked in a channel with a music service
UInt128 bike = 3_000_000;          // 30.00 EUR: above the step-up threshold
UInt128 dinner = 600_000;          // 6.00 EUR: more than the day has left
UInt128 song = 10_000;             // 0.10 EUR, paid through the channel

string directory = Path.Combine(Path.GetTempPath(), "micropay-identity-" + Guid.NewGuid().ToString("N"));
using SigningKey phoneKey = SigningKey.Generate();
using ECDsa authenticator = ECDsa.Create(ECCurve.NamedCurves.nistP256);
UInt128 phoneKeyId = KeyIds.Of(phoneKey.VerificationKey); // anyone can compute a key's id from its public key
ulong orderDeadline = NowNanos() + (5 * Minute);          // an order delayed longer is refused, never applied late

LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(directory) });
try
{
    // -----------------------------------------------------------------------------------------------------
    // 1. Accounts: a bank, Alice, a café and a music service; the bank funds Alice.
    // -----------------------------------------------------------------------------------------------------
    Account[] accounts =
    [
        new Account { Id = bankId, LedgerId = Eur, Code = 1 },
        new Account { Id = aliceId, LedgerId = Eur, Code = 2, Flags = AccountFlags.DebitsMustNotExceedCredits },
        new Account { Id = cafeId, LedgerId = Eur, Code = 3 },
        new Account { Id = musicId, LedgerId = Eur, Code = 3 },
    ];
    Expect(await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]), 0, "accounts not created");
    Expect(
        await engine.CreateTransferAsync(new Transfer { Id = 1, DebitAccountId = bankId, CreditAccountId = aliceId, Amount = funds, LedgerId = Eur, Code = 1 }),
        CreateTransferResult.Ok,
        "fund Alice");
    Step("Created the bank, Alice (200.00 EUR), a café and a music service.");

    // -----------------------------------------------------------------------------------------------------
    // 2. Alice registers her phone's key with a daily limit and a step-up threshold, and her passkey. The passkey is
    //    registered from what the browser hands over at WebAuthn registration: the credential id, the public key
    //    (x || y on P-256), and the RP ID and origin its assertions will be bound to.
    // -----------------------------------------------------------------------------------------------------
    var phonePolicy = new SpendingPolicy
    {
        MaxPerPayment = 10_000_000,    // 100.00 EUR
        WindowLimit = 5_000_000,       // 50.00 EUR ...
        WindowLength = Day,            // ... in any 24 hours (an exact rolling window, not a calendar day)
        StepUpThreshold = 1_000_000,   // above 10.00 EUR, the passkey must co-sign
        MaxChannelDeposit = 1_000_000, // at most 10.00 EUR in any one channel the phone funds
    };
    Expect(await engine.RegisterKeyAsync(aliceId, phoneKey.VerificationKey, phonePolicy), KeyResult.Ok, "register the phone's key");

    ECParameters point = authenticator.ExportParameters(includePrivateParameters: false);
    byte[] credentialId = RandomNumberGenerator.GetBytes(16);
    Expect(
        PasskeyCredential.TryCreate(credentialId, [.. point.Q.X!, .. point.Q.Y!], RelyingParty, Origin, out PasskeyCredential? passkey, out PasskeyKeyError passkeyError),
        true,
        $"create the passkey credential ({passkeyError})");
    Expect(await engine.RegisterPasskeyAsync(aliceId, passkey!, SpendingPolicy.Unlimited), KeyResult.Ok, "register the passkey");
    Step("Registered the phone's key (50.00 EUR a day, passkey above 10.00 EUR) and Alice's passkey for " + RelyingParty + ".");

    // -----------------------------------------------------------------------------------------------------
    // 3. The phone opens a channel to the music service. An account with registered keys funds channels only under
    //    one of them, and the deposit counts against the key's policy like a payment.
    // -----------------------------------------------------------------------------------------------------
    ChannelConfig channel = ChannelConfig.CreateCumulative(
        engine.InstanceId, aliceId, musicId, Eur, phoneKey.VerificationKey, NowNanos() + (60 * Minute), settleDelay: 10 * Minute, salt: 1);
    Expect(await engine.OpenChannelAsync(ChannelOpenRequest.Sign(phoneKey, channel, deposit)), ChannelResult.Ok, "open the channel");
    ChannelWallet wallet = ChannelWallet.Create(channel, phoneKey, deposit);
    Voucher songVoucher = wallet.Pay(lane: 0, amount: song, validUntil: NowNanos() + (30 * Minute)); // one song, kept by the service for later
    ExpectSpent(engine, phoneKeyId, deposit, "after the channel's deposit");
    Step("The phone opened a channel to the music service with 5.00 EUR (counted in today's spending) and paid a song.");

    // -----------------------------------------------------------------------------------------------------
    // 4. Three coffees, three orders signed by the phone and sent in one batch. The engine verifies each signature
    //    on the caller's cores, then the ledger checks the key and the policy on its apply thread.
    // -----------------------------------------------------------------------------------------------------
    PaymentOrder[] coffees =
    [
        Order(id: 101, coffee),
        Order(id: 102, coffee),
        Order(id: 103, coffee),
    ];
    var coffeeResults = new OrderResult[coffees.Length];
    Expect(await engine.ExecuteOrdersAsync(coffees, coffeeResults), 0, "coffees not paid");
    Expect(coffeeResults.All(r => r == OrderResult.Ok), true, "every coffee paid");
    ExpectSpent(engine, phoneKeyId, deposit + (3 * coffee), "after the coffees");
    Step($"Three coffees paid with signed orders; spent today {Money(deposit + (3 * coffee))} EUR.");

    // -----------------------------------------------------------------------------------------------------
    // 5. A 30.00 EUR bike repair: within the day's limit but above the step-up threshold, so the phone's signature
    //    alone is refused. A refused order leaves its id unused: the same order succeeds once co-signed.
    // -----------------------------------------------------------------------------------------------------
    PaymentOrder repair = Order(id: 201, bike);
    Expect(await engine.ExecuteOrderAsync(repair), OrderResult.StepUpRequired, "the repair without the passkey");
    Step("The 30.00 EUR repair signed by the phone alone: StepUpRequired.");

    // The ledger's challenge is the SHA-256 of the order's signed message. The browser passes it to
    // navigator.credentials.get(); the authenticator checks the user (UP and UV) and signs.
    byte[] challenge = new byte[32];
    repair.ComputeChallenge(engine.InstanceId, challenge);
    PasskeyAssertion assertion = Authenticate(authenticator, challenge, signCount: 1);
    Expect(passkey!.Verify(assertion, challenge, out uint signCount), PasskeyResult.Ok, "the assertion, checked as the ledger will");
    Expect(signCount, 1u, "the assertion's signature counter");
    PaymentOrder coSigned = repair.WithCoSignature(CoSignature.FromPasskey(KeyIds.Of(passkey), assertion));
    Expect(await engine.ExecuteOrderAsync(coSigned), OrderResult.Ok, "the repair co-signed with the passkey");
    ExpectSpent(engine, phoneKeyId, deposit + (3 * coffee) + bike, "after the repair");
    Step($"The same order co-signed with Alice's passkey (Face ID on her laptop): paid; spent today {Money(deposit + (3 * coffee) + bike)} EUR.");

    // An assertion is bound to its order: attached to another one, it fails at the engine's edge.
    PaymentOrder other = Order(id: 202, bike).WithCoSignature(CoSignature.FromPasskey(KeyIds.Of(passkey), assertion));
    Expect(await engine.ExecuteOrderAsync(other), OrderResult.BadCoSignature, "another order with the repair's assertion");

    // -----------------------------------------------------------------------------------------------------
    // 6. Dinner, 6.00 EUR: below the threshold, but the last 24 hours already hold 45.50 EUR. Refused until
    //    older payments leave the window.
    // -----------------------------------------------------------------------------------------------------
    Expect(await engine.ExecuteOrderAsync(Order(id: 301, dinner)), OrderResult.OverWindowLimit, "dinner over the day's limit");
    Expect(engine.TryGetKey(phoneKeyId, out KeyInfo phone), true, "look up the phone's key");
    Expect(phone.WindowRemaining, (UInt128)450_000, "what the phone may still spend today");
    Step($"Dinner for 6.00 EUR: OverWindowLimit (the phone may spend {Money(phone.WindowRemaining)} EUR more today).");

    // -----------------------------------------------------------------------------------------------------
    // 7. The phone is lost. Alice revokes its key (from her laptop; the ledger needs only the key id). From the next
    //    batch on nothing the phone signs applies, and its channel starts a unilateral close: what the phone already
    //    promised the music service stays redeemable until the settle delay ends, then the rest returns to Alice.
    // -----------------------------------------------------------------------------------------------------
    Expect(await engine.RevokeKeyAsync(phoneKeyId), KeyResult.Ok, "revoke the phone's key");
    Expect(await engine.ExecuteOrderAsync(Order(id: 401, coffee)), OrderResult.KeyRevoked, "an order from the lost phone");
    Expect(engine.TryGetKey(phoneKeyId, out phone), true, "look up the revoked key");
    Expect(phone.Status, KeyStatus.Revoked, "the phone key's status");
    Expect(engine.TryGetChannel(channel.Id, out ChannelInfo closing), true, "look up the channel");
    Expect(closing.Status, ChannelStatus.Closing, "the phone's channel after the revocation");
    Expect(await engine.RedeemVoucherAsync(songVoucher), ChannelResult.Ok, "the music service redeems the song");
    Expect(engine.TryGetChannel(channel.Id, out ChannelInfo redeemed), true, "look up the channel again");
    Expect(redeemed.Remaining, deposit - song, "the escrow after the redemption");
    Step("Revoked the phone's key: its next order is KeyRevoked, its channel is Closing, the song it paid still redeems.");

    // -----------------------------------------------------------------------------------------------------
    // 8. Balances: the café got the coffees and the repair, the service its song, the rest waits in escrow.
    // -----------------------------------------------------------------------------------------------------
    Expect(engine.TryGetAccount(aliceId, out Account alice), true, "look up Alice");
    Expect(engine.TryGetAccount(cafeId, out Account cafe), true, "look up the café");
    Expect(engine.TryGetAccount(musicId, out Account music), true, "look up the music service");
    Expect(cafe.CreditsPosted, (3 * coffee) + bike, "what the café was paid");
    Expect(music.CreditsPosted, song, "what the music service was paid");
    Expect(alice.DebitsPosted, deposit + (3 * coffee) + bike, "what left Alice's account");
    Console.WriteLine();
    Console.WriteLine($"Balances (EUR): Alice {Money(alice.CreditsPosted - alice.DebitsPosted)}, café {Money(cafe.CreditsPosted)}, " +
        $"music service {Money(music.CreditsPosted)}, escrow {Money(redeemed.Remaining)} until the close.");
    Console.WriteLine("All results as expected.");
    return 0;
}
catch (UnexpectedResultException e)
{
    Console.Error.WriteLine("FAILED: " + e.Message);
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine("FAILED: " + e);
    return 1;
}
finally
{
    await engine.DisposeAsync();
    Directory.Delete(directory, recursive: true);
}

// A payment order from Alice to the café, signed by the phone for this ledger instance.
PaymentOrder Order(ulong id, UInt128 amount) => PaymentOrder.Sign(
    phoneKey, engine.InstanceId, new Transfer { Id = id, DebitAccountId = aliceId, CreditAccountId = cafeId, Amount = amount, LedgerId = Eur, Code = 4 }, orderDeadline);

// What the authenticator and the browser produce for navigator.credentials.get() (WebAuthn Level 3, 6.1 and 5.8.1):
// authenticatorData = SHA-256(RP ID) || flags (UP | UV) || signature counter (big-endian); the browser's
// clientDataJSON names the type, the challenge (base64url, no padding) and the origin; the authenticator signs
// authenticatorData || SHA-256(clientDataJSON) with ES256 and returns a DER signature.
static PasskeyAssertion Authenticate(ECDsa authenticator, ReadOnlySpan<byte> challenge, uint signCount)
{
    const byte UserPresent = 0x01;
    const byte UserVerified = 0x04;
    byte[] authenticatorData = new byte[37];
    SHA256.HashData(Encoding.ASCII.GetBytes(RelyingParty), authenticatorData);
    authenticatorData[32] = UserPresent | UserVerified;
    BinaryPrimitives.WriteUInt32BigEndian(authenticatorData.AsSpan(33), signCount);
    byte[] clientDataJson = Encoding.UTF8.GetBytes(
        $$"""{"type":"webauthn.get","challenge":"{{Base64Url.EncodeToString(challenge)}}","origin":"{{Origin}}","crossOrigin":false}""");
    byte[] signed = [.. authenticatorData, .. SHA256.HashData(clientDataJson)];
    byte[] signature = authenticator.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    return new PasskeyAssertion(authenticatorData, clientDataJson, signature);
}

// The phone key's spending in its window, as the engine publishes it after each batch.
static void ExpectSpent(LedgerEngine engine, UInt128 keyId, UInt128 expected, string when)
{
    Expect(engine.TryGetKey(keyId, out KeyInfo key), true, "look up the phone's key");
    Expect(key.SpentInWindow, expected, "the phone's spending today " + when);
}

// The ledger's clock: nanoseconds since the Unix epoch (the engine stamps batches from the system clock by default).
static ulong NowNanos() => (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100UL;

// Millicents to euros with two decimals.
static string Money<T>(T millicents)
    where T : System.Numerics.IBinaryInteger<T> =>
    (decimal.CreateChecked(millicents) / 100_000m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);

static void Step(string message) => Console.WriteLine("ok  " + message);

// Any unexpected result stops the sample, saying what was expected.
static void Expect<T>(T actual, T expected, string what)
{
    if (!EqualityComparer<T>.Default.Equals(actual, expected))
    {
        throw new UnexpectedResultException($"{what}: expected {expected}, got {actual}.");
    }
}

/// <summary>A result the sample did not expect.</summary>
internal sealed class UnexpectedResultException(string message) : Exception(message);
