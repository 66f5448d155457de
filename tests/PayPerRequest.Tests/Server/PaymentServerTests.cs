using System.Globalization;
using System.Net;
using System.Text.Json;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;
using PayPerRequest.Client;
using PayPerRequest.Server;

namespace PayPerRequest.Tests.Server;

/// <summary>
/// The server end to end: each test starts the real Kestrel on 127.0.0.1 (a free port) with an in-memory ledger and
/// talks to it with a real <see cref="HttpClient"/>, through the sample's own client.
/// </summary>
public sealed class PaymentServerTests : IAsyncLifetime
{
    private const ulong Price = 5;
    private const string Protected = "/weather";
    private static readonly UInt128 Funds = 1_000_000;

    private readonly List<SigningKey> _keys = [];
    private PaymentServer _server = null!;
    private HttpClient _http = null!;
    private PriceChallenge _challenge = null!;
    private UInt128 _nextPayer = 2001;

    public async Task InitializeAsync()
    {
        _server = await PaymentServer.StartAsync(new PaymentServerOptions { Price = Price });
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        _challenge = await PayPerRequestClient.FetchChallengeAsync(_http, Protected);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task Get_WithoutPayment_Returns402WithTheChallenge()
    {
        PaymentAttempt attempt = await PayPerRequestClient.SendAsync(_http, Protected, null, null);

        Assert.Equal(HttpStatusCode.PaymentRequired, attempt.Status);
        Assert.Equal("payment_missing", attempt.Reason);
        using var body = JsonDocument.Parse(attempt.Body);
        JsonElement challenge = body.RootElement.GetProperty("challenge");
        Assert.Equal(Price, challenge.GetProperty("price").GetUInt64());
        Assert.Equal(978u, challenge.GetProperty("ledgerId").GetUInt32());
        Assert.Equal(_server.Options.PayeeAccountId, UInt128.Parse(challenge.GetProperty("payee").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        Assert.Equal(_server.Engine.InstanceId, UInt128.Parse(challenge.GetProperty("instanceId").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        Assert.Equal(
            [("cumulative-voucher", "Payment-Voucher"), ("hash-chain-tick", "Payment-Tick")],
            challenge.GetProperty("schemes").EnumerateArray().Select(s => (s.GetProperty("name").GetString(), s.GetProperty("header").GetString())));
        Assert.Equal("/channels", challenge.GetProperty("open").GetProperty("path").GetString());
    }

    [Fact]
    public async Task Get_WithAVoucherPayingThePrice_Returns200AndTheGoods()
    {
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: 1_000);

        PaymentAttempt attempt = await payer.GetAsync(Protected, lane: 0);

        Assert.Equal(HttpStatusCode.OK, attempt.Status);
        Assert.Contains("temperatureC", attempt.Body, StringComparison.Ordinal);
        Assert.Equal((UInt128)Price, _server.Gate.AcceptedTotal);
    }

    [Fact]
    public async Task Get_WithTheSameVoucherAgain_Returns402Replayed()
    {
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: 1_000);
        Voucher voucher = payer.Sign(lane: 0, Price);
        Assert.True((await payer.SendAsync(Protected, voucher)).Served);

        PaymentAttempt replay = await payer.SendAsync(Protected, voucher);

        Assert.Equal(HttpStatusCode.PaymentRequired, replay.Status);
        Assert.Equal("replayed", replay.Reason);
        Assert.Equal((UInt128)Price, _server.Gate.AcceptedTotal);
    }

    [Fact]
    public async Task Get_WithAVoucherAddingLessThanThePrice_Returns402UnderpaidAndKeepsNothing()
    {
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: 1_000);

        PaymentAttempt underpaid = await payer.SendAsync(Protected, payer.Sign(lane: 0, Price - 1));

        Assert.Equal("underpaid", underpaid.Reason);
        Assert.Equal(UInt128.Zero, _server.Gate.AcceptedTotal);
        Assert.Empty(_server.Gate.Receivers.Single().BestVouchers());

        // The lane is where it was: the wallet's next voucher (Price - 1 + Price above the last accepted) is served.
        Assert.True((await payer.GetAsync(Protected, lane: 0)).Served);
    }

    [Fact]
    public async Task Get_WithAVoucherWhoseSignatureHasAFlippedBit_Returns402BadSignature()
    {
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: 1_000);
        byte[] forged = new byte[Voucher.Size];
        payer.Sign(lane: 0, Price).Encode(forged);
        forged[Voucher.Size - 10] ^= 0x40;

        PaymentAttempt attempt = await PayPerRequestClient.SendAsync(_http, Protected, PaymentHeaders.Voucher, Convert.ToBase64String(forged));

        Assert.Equal("bad_signature", attempt.Reason);
        Assert.Equal(UInt128.Zero, _server.Gate.AcceptedTotal);
    }

    [Fact]
    public async Task Get_WithAVoucherForAChannelNeverOpened_Returns402UnknownChannel()
    {
        SigningKey key = NewKey();
        ChannelConfig never = ChannelConfig.CreateCumulative(
            _server.Engine.InstanceId, 2001, _server.Options.PayeeAccountId, 978, key.VerificationKey, ExpiresAt(), settleDelay: 0, salt: 7);
        Voucher voucher = Voucher.Sign(key, never.InstanceId, never.Id, lane: 0, sequence: 1, cumulativeAmount: Price, never.ExpiresAt);

        PaymentAttempt attempt = await PayPerRequestClient.SendAsync(_http, Protected, PaymentHeaders.Voucher, PayPerRequestClient.Encode(voucher));

        Assert.Equal("unknown_channel", attempt.Reason);
    }

    [Theory]
    [InlineData("Payment-Voucher", "not base64")]
    [InlineData("Payment-Voucher", "AAAA")]
    [InlineData("Payment-Tick", "AAAA")]
    public async Task Get_WithAHeaderThatIsNotAPayment_Returns402Malformed(string header, string value)
    {
        PaymentAttempt attempt = await PayPerRequestClient.SendAsync(_http, Protected, header, value);

        Assert.Equal("malformed", attempt.Reason);
    }

    [Fact]
    public async Task Get_WithTicks_IsServedOncePerTick_AndAReplayedTickIs402Replayed()
    {
        using TickPayer payer = await OpenTickChannelAsync(requests: 10);
        Tick first = payer.Wallet.NextTick(payer.Config.Id);
        Assert.True((await payer.SendAsync("/data/3", first)).Served);
        Assert.True((await payer.GetAsync(Protected)).Served);

        PaymentAttempt replay = await payer.SendAsync(Protected, first);

        Assert.Equal("replayed", replay.Reason);
        Assert.Equal((UInt128)(2 * Price), _server.Gate.AcceptedTotal);
    }

    [Fact]
    public async Task Get_WithATickOfTooFewUnits_Returns402Underpaid_AndOneOfEnoughUnitsIsServed()
    {
        // A chain whose unit is 1: a request needs Price units at once.
        SigningKey key = NewKey();
        UInt128 payerId = await NewPayerAsync(key);
        using HashChainWallet wallet = HashChainWallet.Create(100);
        ChannelConfig config = ChannelConfig.CreateHashChain(
            _server.Engine.InstanceId, payerId, _server.Options.PayeeAccountId, 978, key.VerificationKey, ExpiresAt(), settleDelay: 0, salt: 1,
            wallet.Root, unitAmount: 1, chainLength: 100);
        await PayPerRequestClient.OpenChannelAsync(_http, _challenge, ChannelOpenRequest.Sign(key, config, deposit: 100));

        PaymentAttempt short1 = await Send(wallet.NextTick(config.Id, units: (uint)Price - 1));
        PaymentAttempt enough = await Send(wallet.NextTick(config.Id, units: (uint)Price));

        Assert.Equal("underpaid", short1.Reason);
        Assert.True(enough.Served);
        Assert.Equal((UInt128)(2 * Price - 1), _server.Gate.AcceptedTotal); // the second tick also reveals the refused one's units

        Task<PaymentAttempt> Send(Tick tick) => PayPerRequestClient.SendAsync(_http, Protected, PaymentHeaders.Tick, PayPerRequestClient.Encode(tick));
    }

    [Fact]
    public async Task Get_WithAVoucherForATickChannel_Returns402WrongScheme()
    {
        using TickPayer payer = await OpenTickChannelAsync(requests: 10);
        SigningKey key = NewKey();
        Voucher voucher = Voucher.Sign(key, _server.Engine.InstanceId, payer.Config.Id, lane: 0, sequence: 1, cumulativeAmount: Price, ExpiresAt());

        PaymentAttempt attempt = await PayPerRequestClient.SendAsync(_http, Protected, PaymentHeaders.Voucher, PayPerRequestClient.Encode(voucher));

        Assert.Equal("wrong_scheme", attempt.Reason);
    }

    [Fact]
    public async Task Get_PastTheDeposit_Returns402ExceedsDeposit()
    {
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: Price);
        Assert.True((await payer.GetAsync(Protected, lane: 0)).Served);

        // The wallet refuses to promise past the deposit, so sign the voucher by hand, as a cheating payer would.
        Voucher beyond = Voucher.Sign(_keys[^1], _server.Engine.InstanceId, payer.Config.Id, lane: 1, sequence: 1, cumulativeAmount: Price, payer.Config.ExpiresAt);
        PaymentAttempt attempt = await payer.SendAsync(Protected, beyond);

        Assert.Equal("exceeds_deposit", attempt.Reason);
    }

    [Fact]
    public async Task Get_OnceTheChannelIsWithinTheRedeemMarginOfItsExpiry_Returns402Expired_ForVouchersAndTicks()
    {
        var clock = new ShiftableClock();
        await RestartAsync(new PaymentServerOptions { Price = Price, TimeProvider = clock });
        ulong expiresAt = LedgerClock.Now(clock) + (20 * 60 * LedgerClock.Second);
        SigningKey key = NewKey();
        UInt128 payerId = await NewPayerAsync(key);
        VoucherPayer vouchers = await VoucherPayer.OpenAsync(_http, _challenge, key, payerId, deposit: 1_000, salt: 1, expiresAt);
        using TickPayer ticks = await TickPayer.OpenAsync(_http, _challenge, key, payerId, requests: 10, salt: 2, expiresAt);
        Assert.True((await vouchers.GetAsync(Protected, lane: 0)).Served);
        Assert.True((await ticks.GetAsync(Protected)).Served);

        clock.Advance(TimeSpan.FromMinutes(16)); // 4 minutes left, inside the 5-minute redeem margin

        Assert.Equal("expired", (await vouchers.GetAsync(Protected, lane: 0)).Reason);
        Assert.Equal("expired", (await ticks.GetAsync(Protected)).Reason);
    }

    [Fact]
    public async Task OpenChannel_ForAnotherPayee_IsRefused()
    {
        SigningKey key = NewKey();
        UInt128 payerId = await NewPayerAsync(key);
        ChannelConfig config = ChannelConfig.CreateCumulative(
            _server.Engine.InstanceId, payerId, _server.Options.BankAccountId, 978, key.VerificationKey, ExpiresAt(), settleDelay: 0, salt: 1);

        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => PayPerRequestClient.OpenChannelAsync(_http, _challenge, ChannelOpenRequest.Sign(key, config, deposit: 100)));

        Assert.Contains("wrong_payee", refused.Message, StringComparison.Ordinal);
        Assert.False(_server.Engine.TryGetChannel(config.Id, out _));
    }

    [Fact]
    public async Task OpenChannel_SignedByAKeyNotRegisteredToThePayer_IsRefused()
    {
        SigningKey owner = NewKey();
        UInt128 payerId = await NewPayerAsync(owner);
        SigningKey thief = NewKey();
        ChannelConfig config = ChannelConfig.CreateCumulative(
            _server.Engine.InstanceId, payerId, _server.Options.PayeeAccountId, 978, thief.VerificationKey, ExpiresAt(), settleDelay: 0, salt: 1);

        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => PayPerRequestClient.OpenChannelAsync(_http, _challenge, ChannelOpenRequest.Sign(thief, config, deposit: 100)));

        Assert.Contains("payer_key_not_registered", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenChannel_FromAnAccountWithNoRegisteredKey_IsRefused_AndTheAccountKeepsItsMoney()
    {
        // The bank has no registered key, so the ledger alone would accept an open from it signed by any key.
        SigningKey thief = NewKey();
        ChannelConfig config = ChannelConfig.CreateCumulative(
            _server.Engine.InstanceId, _server.Options.BankAccountId, _server.Options.PayeeAccountId, 978, thief.VerificationKey, ExpiresAt(), settleDelay: 0, salt: 1);
        Assert.True(_server.Engine.TryGetAccount(_server.Options.BankAccountId, out Account before));

        InvalidOperationException refused = await Assert.ThrowsAsync<InvalidOperationException>(
            () => PayPerRequestClient.OpenChannelAsync(_http, _challenge, ChannelOpenRequest.Sign(thief, config, deposit: 100)));

        Assert.Contains("payer_key_not_registered", refused.Message, StringComparison.Ordinal);
        Assert.True(_server.Engine.TryGetAccount(_server.Options.BankAccountId, out Account after));
        Assert.Equal(before.DebitsPosted, after.DebitsPosted);
    }

    [Fact]
    public async Task ConcurrentClients_AreAllServed_AndTheLedgerPaysThePayeeExactlyWhatTheyPaid()
    {
        const int Clients = 8, Requests = 50;
        var payments = new List<Func<int, Task<PaymentAttempt>>>();
        var tickPayers = new List<TickPayer>();
        for (int i = 0; i < Clients; i++)
        {
            if (i % 4 == 3)
            {
                TickPayer ticks = await OpenTickChannelAsync(Requests);
                tickPayers.Add(ticks);
                payments.Add(n => ticks.GetAsync(n % 2 == 0 ? Protected : $"/data/{n}"));
            }
            else
            {
                // Two lanes, each in order; requests alternate between them.
                VoucherPayer vouchers = await OpenVoucherChannelAsync(deposit: 10_000);
                payments.Add(n => vouchers.GetAsync(Protected, lane: (uint)(n % 2)));
            }
        }

        UInt128 payeeBefore = Credits(_server.Options.PayeeAccountId);
        int[] served = await Task.WhenAll(payments.Select(async pay =>
        {
            int count = 0;
            for (int n = 0; n < Requests; n++)
            {
                count += (await pay(n)).Served ? 1 : 0;
            }

            return count;
        }));
        await _server.Redeemer.RedeemNowAsync();
        tickPayers.ForEach(t => t.Dispose());

        Assert.All(served, count => Assert.Equal(Requests, count));
        UInt128 paid = (UInt128)(Clients * Requests) * Price;
        Assert.Equal(paid, _server.Gate.AcceptedTotal);
        Assert.Equal(paid, Credits(_server.Options.PayeeAccountId) - payeeBefore);
        Assert.Equal(0, _server.Redeemer.Failures);

        // Every escrow paid out exactly what its client was served, and nothing else moved out of it.
        foreach (UInt128 channel in _server.Gate.Receivers.Select(r => r.Config.Id).Concat(_server.Gate.TickVerifiers.Select(v => v.Config.Id)))
        {
            Assert.True(_server.Engine.TryGetChannel(channel, out ChannelInfo info));
            Assert.Equal((UInt128)Requests * Price, info.PaidOut);
        }
    }

    [Fact]
    public async Task StopAsync_RedeemsWhatWasAcceptedSinceTheLastPass()
    {
        await RestartAsync(new PaymentServerOptions { Price = Price, RedeemInterval = TimeSpan.FromHours(1) });
        VoucherPayer payer = await OpenVoucherChannelAsync(deposit: 1_000);
        for (int i = 0; i < 3; i++)
        {
            Assert.True((await payer.GetAsync(Protected, lane: 0)).Served);
        }

        Assert.Equal(UInt128.Zero, Credits(_server.Options.PayeeAccountId));

        await _server.StopAsync();

        Assert.Equal((UInt128)(3 * Price), Credits(_server.Options.PayeeAccountId));
    }

    private async Task RestartAsync(PaymentServerOptions options)
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _server = await PaymentServer.StartAsync(options);
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
        _challenge = await PayPerRequestClient.FetchChallengeAsync(_http, Protected);
    }

    private async Task<VoucherPayer> OpenVoucherChannelAsync(UInt128 deposit)
    {
        SigningKey key = NewKey();
        UInt128 payerId = await NewPayerAsync(key);
        return await VoucherPayer.OpenAsync(_http, _challenge, key, payerId, deposit, salt: 1, ExpiresAt());
    }

    private async Task<TickPayer> OpenTickChannelAsync(uint requests)
    {
        SigningKey key = NewKey();
        UInt128 payerId = await NewPayerAsync(key);
        return await TickPayer.OpenAsync(_http, _challenge, key, payerId, requests, salt: 1, ExpiresAt());
    }

    private async Task<UInt128> NewPayerAsync(SigningKey key)
    {
        UInt128 id = _nextPayer++;
        await _server.CreatePayerAsync(id, key.VerificationKey, Funds);
        return id;
    }

    private SigningKey NewKey()
    {
        SigningKey key = SigningKey.Generate();
        _keys.Add(key);
        return key;
    }

    private UInt128 Credits(UInt128 accountId) => _server.Engine.TryGetAccount(accountId, out Account account) ? account.CreditsPosted : UInt128.Zero;

    private static ulong ExpiresAt() => LedgerClock.Now(TimeProvider.System) + (3600 * LedgerClock.Second);
}
