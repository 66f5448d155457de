using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;
using PayPerRequest.Client;
using PayPerRequest.Server;
using static PayPerRequest.Demo.UnexpectedResultException;

namespace PayPerRequest.Demo;

/// <summary>
/// The default run: starts the server on a free loopback port with a file-backed ledger, runs four clients at once
/// (two paying with vouchers, one with ticks, one misbehaving), redeems, closes the channels, and checks every outcome and
/// every balance. CI runs it; anything unexpected makes it return 1.
/// </summary>
internal static class ClientDemo
{
    private const ulong Price = 5;                 // millicents per request
    private static readonly UInt128 Funds = 1_000_000; // 10.00 EUR per payer

    public static async Task<int> RunAsync(TextWriter output)
    {
        string directory = Path.Combine(Path.GetTempPath(), "micropay-payperrequest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            await using PaymentServer server = await PaymentServer.StartAsync(new PaymentServerOptions { Price = Price, StoreDirectory = directory });
            output.WriteLine($"ok  Kestrel listens on {server.BaseAddress}; the ledger journals to a temporary directory (durable mode).");
            await RunClientsAsync(server, output);
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
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task RunClientsAsync(PaymentServer server, TextWriter output)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using SigningKey aliceKey = SigningKey.Generate();
        using SigningKey bobKey = SigningKey.Generate();
        using SigningKey carolKey = SigningKey.Generate();
        using SigningKey malloryKey = SigningKey.Generate();
        (string Name, UInt128 Id, SigningKey Key)[] payers =
            [("alice", 2001, aliceKey), ("bob", 2002, bobKey), ("carol", 2003, carolKey), ("mallory", 2004, malloryKey)];
        foreach ((string _, UInt128 id, SigningKey key) in payers)
        {
            await server.CreatePayerAsync(id, key.VerificationKey, Funds);
        }

        UInt128[] watched = [server.Options.BankAccountId, server.Options.PayeeAccountId, .. payers.Select(p => p.Id)];
        Dictionary<UInt128, Int128> before = watched.ToDictionary(id => id, id => Net(server, id));
        output.WriteLine("ok  Provisioned four payers with 10.00 EUR (1,000,000 millicents) each and their keys registered.");

        // 1. No payment: 402 and the price challenge, which says everything a client needs.
        PaymentAttempt unpaid = await PayPerRequestClient.SendAsync(http, "/weather", null, null);
        Expect(unpaid.Reason, "payment_missing", "an unpaid request");
        PriceChallenge challenge = await PayPerRequestClient.FetchChallengeAsync(http, "/weather");
        Expect(challenge.Price, Price, "the challenge's price");
        output.WriteLine($"ok  GET /weather unpaid: 402, reason payment_missing; price {challenge.Price} per request, schemes " +
            $"{string.Join(" and ", challenge.Schemes.Select(s => $"{s.Name} ({s.Header})"))}, open with {challenge.Open.Method} {challenge.Open.Path}.");

        // 2. Channels, opened through POST /channels; each client checks the ledger's certificate of its deposit.
        ulong expiresAt = LedgerClock.Now(TimeProvider.System) + (3600 * LedgerClock.Second);
        VoucherPayer alice = await VoucherPayer.OpenAsync(http, challenge, aliceKey, 2001, deposit: 10_000, salt: 1, expiresAt);
        VoucherPayer bob = await VoucherPayer.OpenAsync(http, challenge, bobKey, 2002, deposit: 10_000, salt: 1, expiresAt);
        using TickPayer carol = await TickPayer.OpenAsync(http, challenge, carolKey, 2003, requests: 200, salt: 1, expiresAt);
        VoucherPayer mallory = await VoucherPayer.OpenAsync(http, challenge, malloryKey, 2004, deposit: 1_000, salt: 1, expiresAt);
        output.WriteLine("ok  Opened four channels (three voucher, one hash-chain); every certificate checked with the operator's key.");

        // 3. The clients run at once: alice on four lanes in parallel, bob on one, carol with ticks, mallory misbehaving.
        const int AliceLanes = 4, AlicePerLane = 25, BobRequests = 60, CarolRequests = 80;
        long began = Stopwatch.GetTimestamp();
        Task<int>[] clients =
        [
            .. Enumerable.Range(0, AliceLanes).Select(lane => PayManyAsync(n => alice.GetAsync(PathOf(n), (uint)lane), AlicePerLane)),
            PayManyAsync(n => bob.GetAsync(PathOf(n), 0), BobRequests),
            PayManyAsync(n => carol.GetAsync(PathOf(n)), CarolRequests),
        ];
        Task<Dictionary<string, int>> misbehaving = MisbehaveAsync(http, server, mallory, carol, malloryKey);
        int[] served = await Task.WhenAll(clients);
        Dictionary<string, int> refusals = await misbehaving;
        double seconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
        Expect(served.Sum(), (AliceLanes * AlicePerLane) + BobRequests + CarolRequests, "requests the honest clients had served");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok  {served.Sum()} paid requests served to three honest clients in {seconds:0.00} s; mallory's tricks all refused."));

        // 4. Redeem what is left, then close: the ledger pays the payee and refunds the rest of each deposit.
        await server.Redeemer.RedeemNowAsync();
        long paidRequests = server.Gate.Count(PaymentOutcome.Accepted);
        UInt128 earned = (UInt128)paidRequests * Price;
        Expect(server.Gate.AcceptedTotal, earned, "what the gate accepted (price × requests served)");
        Expect(server.Redeemer.Failures, 0L, "redemptions the ledger refused");
        ChannelClose[] closes = [.. new[] { alice.Config.Id, bob.Config.Id, carol.Config.Id, mallory.Config.Id }.Select(ChannelClose.Cooperative)];
        Expect(await server.Engine.CloseChannelsAsync(closes, new ChannelResult[closes.Length]), 0, "channels not closed");
        foreach (ChannelClose close in closes)
        {
            Expect(server.Engine.TryGetAccount(close.ChannelId, out Account escrow) && escrow.CreditsPosted == escrow.DebitsPosted, true, "an escrow emptied by the close");
        }

        // 5. The summary, and the money: the payee gained exactly what the payers lost, request by request.
        Dictionary<UInt128, Int128> after = watched.ToDictionary(id => id, id => Net(server, id));
        output.WriteLine();
        output.WriteLine($"Requests served: {paidRequests}   price {Price} millicents   earned {Money(earned)} millicents");
        output.WriteLine("402 answers by reason: " + string.Join(", ", Enum.GetValues<PaymentOutcome>().Where(o => o != PaymentOutcome.Accepted && server.Gate.Count(o) != 0)
            .Select(o => $"{PaymentEndpointFilter.ReasonName(o)} {server.Gate.Count(o)}")));
        output.WriteLine($"Redemptions: vouchers {server.Redeemer.VouchersRedeemed}, ticks {server.Redeemer.TicksRedeemed}, in {server.Redeemer.Batches} ledger batches, for {paidRequests} requests.");
        output.WriteLine("Balances (millicents; 100,000 = 1 EUR):");
        output.WriteLine($"  {"account",-8} {"before",14} {"after",14} {"change",8}");
        string[] names = ["bank", "payee", .. payers.Select(p => p.Name)];
        for (int i = 0; i < watched.Length; i++)
        {
            output.WriteLine($"  {names[i],-8} {Money(before[watched[i]]),14} {Money(after[watched[i]]),14} {Money(after[watched[i]] - before[watched[i]]),8}");
        }

        Int128 change = watched.Aggregate(Int128.Zero, (sum, id) => sum + after[id] - before[id]);
        Expect(change, Int128.Zero, "the sum of every balance's change (money conserved)");
        Expect(after[server.Options.PayeeAccountId] - before[server.Options.PayeeAccountId], (Int128)earned, "what the payee earned");
        (UInt128 Id, int Served)[] perPayer = [(2001, AliceLanes * AlicePerLane), (2002, BobRequests), (2003, CarolRequests), (2004, refusals["served"])];
        foreach ((UInt128 id, int count) in perPayer)
        {
            Expect(before[id] - after[id], (Int128)(count * (int)Price), $"what payer {id} paid");
        }

        // Mallory's outcomes, and the gate's counts of each (the unpaid ones include step 1's two).
        Expect(refusals["served"], 1, "mallory's one honest request");
        foreach ((PaymentOutcome outcome, long expected) in new (PaymentOutcome, long)[]
        {
            (PaymentOutcome.PaymentMissing, 3), (PaymentOutcome.Replayed, 2), (PaymentOutcome.Underpaid, 1), (PaymentOutcome.BadSignature, 1),
            (PaymentOutcome.UnknownChannel, 1), (PaymentOutcome.Malformed, 1), (PaymentOutcome.WrongScheme, 1),
        })
        {
            Expect(server.Gate.Count(outcome), expected, $"402 answers with reason {PaymentEndpointFilter.ReasonName(outcome)}");
        }

        output.WriteLine("Money conserved: the payee gained what the payers lost; every closed channel's escrow is empty.");
        long stopping = Stopwatch.GetTimestamp();
        await server.StopAsync();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Stopped Kestrel and the redeemer in {Stopwatch.GetElapsedTime(stopping).TotalMilliseconds:0} ms."));
        output.WriteLine("All results as expected.");
    }

    // Mallory pays once honestly, then tries a replay, an underpayment, a forged signature, a channel that was never
    // opened, a malformed header, a voucher for a tick channel, a replayed tick and no payment at all. Returns what each got.
    private static async Task<Dictionary<string, int>> MisbehaveAsync(HttpClient http, PaymentServer server, VoucherPayer mallory, TickPayer carol, SigningKey malloryKey)
    {
        var seen = new Dictionary<string, int>();
        void Saw(PaymentAttempt attempt, string expected, string what)
        {
            Expect(attempt.Served ? "served" : attempt.Reason, expected, what);
            seen[expected] = seen.GetValueOrDefault(expected) + 1;
        }

        Voucher honest = mallory.Sign(lane: 0, Price);
        Saw(await mallory.SendAsync("/weather", honest), "served", "mallory's honest voucher");
        Saw(await mallory.SendAsync("/weather", honest), "replayed", "the same voucher again");
        Saw(await mallory.SendAsync("/weather", mallory.Sign(lane: 1, Price - 1)), "underpaid", "a voucher adding less than the price");

        byte[] forged = new byte[Voucher.Size];
        mallory.Sign(lane: 2, Price).Encode(forged);
        forged[Voucher.Size - 1] ^= 1; // the signature's last byte
        Saw(await PayPerRequestClient.SendAsync(http, "/weather", PaymentHeaders.Voucher, Convert.ToBase64String(forged)), "bad_signature", "a voucher with a flipped signature bit");

        ChannelConfig never = ChannelConfig.CreateCumulative(
            mallory.Config.InstanceId, 2004, mallory.Config.PayeeAccountId, mallory.Config.LedgerId, malloryKey.VerificationKey, mallory.Config.ExpiresAt, 0, salt: 99);
        Voucher unknown = Voucher.Sign(malloryKey, never.InstanceId, never.Id, lane: 0, sequence: 1, cumulativeAmount: Price, never.ExpiresAt);
        Saw(await mallory.SendAsync("/weather", unknown), "unknown_channel", "a voucher for a channel never opened");
        Saw(await PayPerRequestClient.SendAsync(http, "/weather", PaymentHeaders.Voucher, "bm90IGEgdm91Y2hlcg=="), "malformed", "a header that is not a voucher");

        Voucher wrongScheme = Voucher.Sign(malloryKey, never.InstanceId, carol.Config.Id, lane: 0, sequence: 1, cumulativeAmount: Price, never.ExpiresAt);
        Saw(await mallory.SendAsync("/weather", wrongScheme), "wrong_scheme", "a voucher for a hash-chain channel");

        // Carol's chain, replayed by an eavesdropper: wait for carol's first paid request, then send its tick again (by
        // then it is old: refused on its index, before any hashing).
        while (server.Gate.TickVerifiers.Single().LastIndex == 0)
        {
            await Task.Delay(1);
        }

        Expect(server.Gate.TickVerifiers.Single().TryGetBestTick(out Tick seenTick), true, "carol's best tick");
        Saw(await PayPerRequestClient.SendAsync(http, "/weather", PaymentHeaders.Tick, PayPerRequestClient.Encode(seenTick)), "replayed", "a tick replayed");
        Saw(await PayPerRequestClient.SendAsync(http, "/data/7", null, null), "payment_missing", "no payment at all");
        return seen;
    }

    private static async Task<int> PayManyAsync(Func<int, Task<PaymentAttempt>> pay, int count)
    {
        int served = 0;
        for (int n = 0; n < count; n++)
        {
            PaymentAttempt attempt = await pay(n);
            Expect(attempt.Reason, null, $"request {n}'s refusal");
            served += attempt.Served ? 1 : 0;
        }

        return served;
    }

    private static string PathOf(int n) => n % 2 == 0 ? "/weather" : $"/data/{n}";

    private static Int128 Net(PaymentServer server, UInt128 id) =>
        server.Engine.TryGetAccount(id, out Account a) ? (Int128)a.CreditsPosted - (Int128)a.DebitsPosted : throw new UnexpectedResultException($"no account {id}");

    private static string Money(Int128 millicents) => millicents.ToString("N0", CultureInfo.InvariantCulture);

    private static string Money(UInt128 millicents) => Money((Int128)millicents);
}
