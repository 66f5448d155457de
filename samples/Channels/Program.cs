// Channels: a device pays a service 10,000 times through a payment channel, and the ledger sees four redemptions.
//
// A metered device (the payer) buys a service's readings by the unit. Paying each unit with a ledger transfer would
// cost a round trip and an fsync per unit; instead the device locks a deposit in a channel once, then pays each unit
// with a signed voucher it hands straight to the service, offline. A voucher says "on this lane I owe you N in total",
// so each one supersedes the lane's last: the service keeps only the best voucher per lane, checks every voucher
// itself (with no call to the ledger: the ledger's certificate told it the channel and its deposit), and redeems the
// best ones in one batch when it likes. Closing the channel returns what was not spent to the device.
//
// The roles, and the keys each holds:
//   the ledger operator: runs the engine, holds the operator key, signs channel certificates;
//   the device (payer):  holds its own signing key, signs the channel's open request and every voucher;
//   the service (payee): holds no key at all, only the operator's verification key, learnt out of band.
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
// Amounts are integers in the ledger's smallest unit, here 1/1000 of a cent ("millicent"), as in QuickStart.

using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

const uint Eur = 978;
const int Payments = 10_000;
const uint Lanes = 4;              // independent voucher streams of one channel (e.g. one per sensor of the device)
const ulong PricePerUnit = 5;      // millicents per reading
UInt128 bankId = 1001;
UInt128 deviceId = 2001;
UInt128 serviceId = 3001;
UInt128 funds = 1_000_000;         // 10.00 EUR on the device's account
UInt128 deposit = 100_000;         // 1.00 EUR locked in the channel
const ulong Minute = 60UL * 1_000_000_000UL; // the ledger's clock counts nanoseconds since the Unix epoch

string directory = Path.Combine(Path.GetTempPath(), "micropay-channels-" + Guid.NewGuid().ToString("N"));

// The operator's key signs certificates; a real operator imports it from its secret store (SigningKey.Import) and
// publishes its verification key. The device's key never leaves the device.
using SigningKey operatorKey = SigningKey.Generate();
using SigningKey deviceKey = SigningKey.Generate();
byte[] publishedOperatorKey = operatorKey.VerificationKey.AsSpan().ToArray();

LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
{
    Store = new FileLedgerStore(directory), // durable: every call below completes once its batch is fsynced
    OperatorKey = operatorKey,             // lets the engine issue channel certificates
});
try
{
    // -----------------------------------------------------------------------------------------------------
    // 1. Accounts, and the device's funds. The channel's escrow account is the ledger's own: opening creates it.
    // -----------------------------------------------------------------------------------------------------
    Account[] accounts =
    [
        new Account { Id = bankId, LedgerId = Eur, Code = 1 },
        new Account { Id = deviceId, LedgerId = Eur, Code = 2, Flags = AccountFlags.DebitsMustNotExceedCredits },
        new Account { Id = serviceId, LedgerId = Eur, Code = 3 },
    ];
    Expect(await engine.CreateAccountsAsync(accounts, new CreateAccountResult[accounts.Length]), 0, "accounts not created");
    Expect(
        await engine.CreateTransferAsync(new Transfer { Id = 1, DebitAccountId = bankId, CreditAccountId = deviceId, Amount = funds, LedgerId = Eur, Code = 1 }),
        CreateTransferResult.Ok,
        "fund the device");
    Step("Created the bank, the device (funded with 10.00 EUR) and the service.");

    // -----------------------------------------------------------------------------------------------------
    // 2. The device opens a channel: it signs a request naming both accounts, its verification key, the expiry and
    //    the deposit. The config binds the ledger's instance id, so the request (and every voucher) is worthless on
    //    any other deployment. The engine checks the signature, then moves the deposit into escrow.
    // -----------------------------------------------------------------------------------------------------
    ulong expiresAt = NowNanos() + (60 * Minute);
    ChannelConfig config = ChannelConfig.CreateCumulative(
        engine.InstanceId, deviceId, serviceId, Eur, deviceKey.VerificationKey, expiresAt, settleDelay: 10 * Minute, salt: 1);
    ChannelOpenRequest open = ChannelOpenRequest.Sign(deviceKey, config, deposit);
    Expect(await engine.OpenChannelAsync(open), ChannelResult.Ok, "open the channel");
    Step($"Opened channel {config.Id:x32}: 1.00 EUR in escrow, expires in an hour.");

    // -----------------------------------------------------------------------------------------------------
    // 3. The operator certifies the channel: config, deposit and opening time, signed with the operator key. The
    //    certificate travels as 272 bytes to the service, which checks it with the operator's published key and
    //    from then on needs the ledger for nothing but the final redemption.
    // -----------------------------------------------------------------------------------------------------
    Expect(engine.TryIssueCertificate(config.Id, out ChannelCertificate? issued), true, "issue the certificate");
    byte[] certificateBytes = new byte[ChannelCertificate.Size];
    issued!.Encode(certificateBytes);

    // --- on the service, offline ---
    VerificationKey trustedOperator = VerificationKey.Create(publishedOperatorKey);
    Expect(ChannelCertificate.TryParse(certificateBytes, out ChannelCertificate? certificate, out ChannelFormatError certificateError), true, $"parse the certificate ({certificateError})");
    Expect(
        ChannelReceiver.TryCreate(certificate!, trustedOperator, engine.InstanceId, serviceId, redeemMargin: 5 * Minute, out ChannelReceiver? receiver, out string? refusal),
        true,
        $"accept the certificate ({refusal})");
    Step($"The service checked the certificate with the operator's key: deposit {Money(receiver!.Certificate.Deposit)} EUR.");

    // -----------------------------------------------------------------------------------------------------
    // 4. 10,000 payments. The device's wallet signs the next voucher of a lane (sequence + 1, cumulative amount +
    //    the price), never promising more than the deposit; it is sent as 128 bytes. The service parses and accepts
    //    each one offline: signature, channel, expiry, increasing sequence and amount, total within the deposit.
    //    (A real device saves wallet.ExportState() before handing a voucher out, so a restart never signs an old
    //    sequence again; a real service saves receiver.ExportState(), its money.)
    // -----------------------------------------------------------------------------------------------------
    ChannelWallet wallet = ChannelWallet.Create(config, deviceKey, deposit);
    byte[] wire = new byte[Voucher.Size];
    Voucher firstOfLane0 = default;
    long signing = 0;
    long verifying = 0;
    for (int i = 0; i < Payments; i++)
    {
        // --- on the device ---
        long began = Stopwatch.GetTimestamp();
        Voucher paid = wallet.Pay(lane: (uint)i % Lanes, amount: PricePerUnit, validUntil: expiresAt);
        paid.Encode(wire);
        signing += Stopwatch.GetTimestamp() - began;
        if (i == 0)
        {
            firstOfLane0 = paid;
        }

        // --- on the service ---
        began = Stopwatch.GetTimestamp();
        Expect(Voucher.TryParse(wire, out Voucher received, out ChannelFormatError voucherError), true, $"parse voucher {i} ({voucherError})");
        VoucherAcceptResult accepted = receiver.Accept(received, NowNanos(), out UInt128 increase);
        verifying += Stopwatch.GetTimestamp() - began;
        Expect(accepted, VoucherAcceptResult.Accepted, $"accept voucher {i}");
        Expect(increase, (UInt128)PricePerUnit, $"what voucher {i} pays");
    }

    UInt128 earned = (UInt128)(Payments * PricePerUnit);
    Expect(receiver.AcceptedTotal, earned, "total the service accepted");
    Expect(wallet.Committed, earned, "total the device promised");
    Step($"The device paid {Payments:N0} times on {Lanes} lanes; the service verified every voucher offline: {Money(earned)} EUR accepted.");

    // A voucher the service already holds is refused offline too: the device cannot be made to pay twice for it.
    Expect(receiver.Accept(firstOfLane0, NowNanos(), out _), VoucherAcceptResult.SequenceNotIncreasing, "accept an old voucher again");

    // -----------------------------------------------------------------------------------------------------
    // 5. The service redeems: only the best voucher of each lane, 4 vouchers for 10,000 payments, in one batch.
    //    The engine verifies each signature before queueing, then pays the difference to what each lane redeemed.
    // -----------------------------------------------------------------------------------------------------
    Voucher[] best = receiver.BestVouchers();
    Expect(best.Length, (int)Lanes, "best vouchers, one per lane");
    var results = new ChannelResult[best.Length];
    Expect(await engine.RedeemVouchersAsync(best, results), 0, "vouchers not redeemed");
    Expect(results.All(r => r == ChannelResult.Ok), true, "every best voucher redeemed");
    Expect(engine.TryGetAccount(serviceId, out Account service), true, "look up the service");
    Expect(service.CreditsPosted, earned, "what the service was paid");
    Step($"The service redeemed {best.Length} vouchers in one batch and was paid {Money(service.CreditsPosted)} EUR.");

    // Redemption is deduplicated on (channel, lane, sequence): a replayed voucher pays nothing, and so does an older one.
    Expect(await engine.RedeemVoucherAsync(best[0]), ChannelResult.AlreadyRedeemed, "redeem a voucher again");
    Expect(await engine.RedeemVoucherAsync(firstOfLane0), ChannelResult.SequenceNotIncreasing, "redeem a superseded voucher");
    Step("A replayed voucher returns AlreadyRedeemed, a superseded one SequenceNotIncreasing: nothing paid twice.");

    // -----------------------------------------------------------------------------------------------------
    // 6. The service is done and closes the channel cooperatively: the rest of the deposit goes back to the device
    //    at once. (Without the service, the device can close unilaterally with ChannelClose.Unilateral: the service
    //    then has the settle delay to redeem before the refund.)
    // -----------------------------------------------------------------------------------------------------
    Expect(await engine.CloseChannelAsync(ChannelClose.Cooperative(config.Id)), ChannelResult.Ok, "close the channel");
    Expect(engine.TryGetChannel(config.Id, out ChannelInfo channel), true, "look up the channel");
    Expect(channel.Remaining, UInt128.Zero, "escrow left after the close");
    Step("Closed the channel cooperatively: the unspent 0.50 EUR went back to the device.");

    // -----------------------------------------------------------------------------------------------------
    // 7. Balances: conservation by construction, every move went through the ledger's own transfers.
    // -----------------------------------------------------------------------------------------------------
    Expect(engine.TryGetAccount(deviceId, out Account device), true, "look up the device");
    Expect(engine.TryGetAccount(config.Id, out Account escrow), true, "look up the escrow (its id is the channel's)");
    Console.WriteLine();
    Console.WriteLine("Balances (EUR):");
    Console.WriteLine($"  {"account",-8} {"debits",8} {"credits",8} {"net",8}");
    foreach ((string name, Account a) in new[] { ("device", device), ("service", service), ("escrow", escrow) })
    {
        Console.WriteLine($"  {name,-8} {Money(a.DebitsPosted),8} {Money(a.CreditsPosted),8} {Money(Net(a)),8}");
    }

    Console.WriteLine();
    Expect(Net(device), (Int128)(funds - earned), "the device's balance");
    Expect(Net(service), (Int128)earned, "the service's balance");
    Expect(Net(escrow), (Int128)0, "the escrow's balance");
    Expect(escrow.CreditsPosted, deposit, "what went into escrow");

    double signedPerSecond = Payments / Stopwatch.GetElapsedTime(0, signing).TotalSeconds;
    double verifiedPerSecond = Payments / Stopwatch.GetElapsedTime(0, verifying).TotalSeconds;
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"Timings: the device signed {signedPerSecond:N0} vouchers/s, the service verified {verifiedPerSecond:N0} vouchers/s (one thread each; this machine, this run)."));
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

// The ledger's clock: nanoseconds since the Unix epoch (the engine stamps batches from the system clock by default).
static ulong NowNanos() => (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100UL;

static Int128 Net(in Account a) => (Int128)a.CreditsPosted - (Int128)a.DebitsPosted;

// Millicents to euros with two decimals.
static string Money<T>(T millicents)
    where T : System.Numerics.IBinaryInteger<T> =>
    (decimal.CreateChecked(millicents) / 100_000m).ToString("0.00", CultureInfo.InvariantCulture);

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
