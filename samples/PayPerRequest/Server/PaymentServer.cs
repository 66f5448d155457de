using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace PayPerRequest.Server;

/// <summary>
/// A pay-per-request HTTP API on Kestrel with its own embedded ledger: <c>GET /weather</c> and <c>GET /data/{n}</c> cost
/// <see cref="PaymentServerOptions.Price"/> each, paid through a payment channel the client opens with
/// <c>POST /channels</c>. Wires the pieces together: the engine, the <see cref="PaymentGate"/>, the
/// <see cref="PaymentEndpointFilter"/>, the <see cref="ChannelOpenEndpoint"/> and the <see cref="BatchRedeemer"/>.
/// </summary>
/// <remarks>
/// Here the API's operator also runs the ledger, so one process plays two of the channel roles: the ledger (opens,
/// certifies and redeems) and the payee (accepts payments at the edge, offline). The gate still trusts channels only
/// through the ledger's certificates, so the edge can move to another process or machine unchanged.
/// </remarks>
public sealed class PaymentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SigningKey _operatorKey;
    private bool _stopped;

    private PaymentServer(WebApplication app, LedgerEngine engine, SigningKey operatorKey, PaymentGate gate, BatchRedeemer redeemer, PriceChallenge challenge, PaymentServerOptions options)
    {
        _app = app;
        _operatorKey = operatorKey;
        Engine = engine;
        Gate = gate;
        Redeemer = redeemer;
        Challenge = challenge;
        Options = options;
        BaseAddress = new Uri(app.Urls.Single());
    }

    /// <summary>Where the server listens: <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The ledger.</summary>
    public LedgerEngine Engine { get; }

    /// <summary>The edge that judges payments.</summary>
    public PaymentGate Gate { get; }

    /// <summary>The background redeemer.</summary>
    public BatchRedeemer Redeemer { get; }

    /// <summary>The price challenge the 402 answers carry.</summary>
    public PriceChallenge Challenge { get; }

    /// <summary>The options the server started with.</summary>
    public PaymentServerOptions Options { get; }

    /// <summary>Opens the ledger (with the bank and payee accounts), then starts Kestrel on 127.0.0.1.</summary>
    /// <param name="options">The options.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<PaymentServer> StartAsync(PaymentServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The operator key signs channel certificates. A real operator imports it from its secret store.
        SigningKey operatorKey = SigningKey.Generate();
        LedgerEngine? engine = null;
        try
        {
            engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
            {
                Store = options.StoreDirectory is null ? null : new FileLedgerStore(options.StoreDirectory),
                Durability = options.StoreDirectory is null ? DurabilityMode.InMemory : options.Durability,
                OperatorKey = operatorKey,
                TimeProvider = options.TimeProvider,
            }).ConfigureAwait(false);
            Account[] accounts =
            [
                new Account { Id = options.BankAccountId, LedgerId = options.LedgerId, Code = 1 },
                new Account { Id = options.PayeeAccountId, LedgerId = options.LedgerId, Code = 3 },
            ];
            var created = new CreateAccountResult[accounts.Length];
            if (await engine.CreateAccountsAsync(accounts, created, cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidOperationException($"The server's accounts were not created: {string.Join(", ", created)}.");
            }

            ulong redeemMargin = Nanoseconds(options.RedeemMargin);
            var gate = new PaymentGate(options.Price, options.MaxLanes, options.MaxTickUnits, redeemMargin, options.TimeProvider);
            var redeemer = new BatchRedeemer(engine, gate, options.RedeemInterval);
            var opener = new ChannelOpenEndpoint(
                engine, gate, operatorKey.VerificationKey, options.PayeeAccountId, options.LedgerId, Nanoseconds(options.MinChannelLifetime), options.TimeProvider);
            PriceChallenge challenge = CreateChallenge(options, engine.InstanceId, operatorKey.VerificationKey);

            WebApplication app = Build(options, gate, redeemer, opener, challenge);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new PaymentServer(app, engine, operatorKey, gate, redeemer, challenge, options);
        }
        catch
        {
            if (engine is not null)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }

            operatorKey.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Provisions a payer, as the operator's sign-up would: an account that cannot go negative, funded from the bank, with
    /// the payer's key registered to it, so that the ledger refuses a channel open from this account signed by any other
    /// key (without a registered key, anyone knowing the account id could sign an open that spends it).
    /// </summary>
    /// <param name="accountId">The payer's account id.</param>
    /// <param name="payerKey">The payer's verification key.</param>
    /// <param name="funds">What the bank credits it.</param>
    /// <param name="cancellationToken">Cancels the submissions.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">The ledger refused one of the steps.</exception>
    public async Task CreatePayerAsync(UInt128 accountId, VerificationKey payerKey, UInt128 funds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        var account = new Account { Id = accountId, LedgerId = Options.LedgerId, Code = 2, Flags = AccountFlags.DebitsMustNotExceedCredits };
        CreateAccountResult created = await Engine.CreateAccountAsync(account, cancellationToken).ConfigureAwait(false);
        KeyResult registered = await Engine.RegisterKeyAsync(accountId, payerKey, SpendingPolicy.Unlimited, cancellationToken).ConfigureAwait(false);

        // The funding transfer's id is derived from the account's, so that provisioning the same payer twice funds it once.
        CreateTransferResult funded = await Engine.CreateTransferAsync(
            new Transfer { Id = accountId, DebitAccountId = Options.BankAccountId, CreditAccountId = accountId, Amount = funds, LedgerId = Options.LedgerId, Code = 1 },
            cancellationToken).ConfigureAwait(false);
        if (created != CreateAccountResult.Ok || registered != KeyResult.Ok || funded != CreateTransferResult.Ok)
        {
            throw new InvalidOperationException($"Payer {accountId} not provisioned: account {created}, key {registered}, funds {funded}.");
        }
    }

    /// <summary>
    /// Stops gracefully: Kestrel stops taking requests and drains those in flight, then the redeemer's last pass redeems
    /// everything accepted. The ledger stays open for reads until <see cref="DisposeAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Cuts the graceful part short.</param>
    /// <returns>A task.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);

        // The redeemer's own StopAsync runs a last pass too, but whether the host stops it before or after Kestrel has
        // drained the last requests is the host's business; a pass here, after both, makes the final state not depend on it.
        await Redeemer.RedeemNowAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await Engine.DisposeAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _operatorKey.Dispose();
        }
    }

    private static WebApplication Build(PaymentServerOptions options, PaymentGate gate, BatchRedeemer redeemer, ChannelOpenEndpoint opener, PriceChallenge challenge)
    {
        // The slim builder: Kestrel and routing, no configuration files, HTTPS or IIS; the sample needs nothing else.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(redeemer);
        builder.Services.AddHostedService(services => services.GetRequiredService<BatchRedeemer>());

        WebApplication app = builder.Build();
        var paid = new PaymentEndpointFilter(gate, challenge);
        app.MapGet("/weather", Weather).AddEndpointFilter(paid);
        app.MapGet("/data/{n:int}", Data).AddEndpointFilter(paid);
        app.MapPost("/channels", (OpenChannelBody? body, CancellationToken cancellationToken) => opener.HandleAsync(body, cancellationToken));
        if (options.MapUnpaidTwin)
        {
            app.MapGet("/unpaid/weather", Weather);
        }

        return app;
    }

    // The goods: small, deterministic JSON, so the cost measured is the payment's and HTTP's.
    private static IResult Weather() => Results.Json(new { city = "Lyon", temperatureC = 21, sky = "clear" });

    private static IResult Data(int n) => Results.Json(new { n, square = (long)n * n });

    private static PriceChallenge CreateChallenge(PaymentServerOptions options, UInt128 instanceId, VerificationKey operatorKey) =>
        new(
            options.Price,
            options.LedgerId,
            options.PayeeAccountId.ToString("x32", CultureInfo.InvariantCulture),
            instanceId.ToString("x32", CultureInfo.InvariantCulture),
            Convert.ToBase64String(operatorKey.AsSpan()),
            [
                new PaymentScheme("cumulative-voucher", PaymentHeaders.Voucher, "base64", Micropay.Core.Channels.Voucher.Size, "cumulative"),
                new PaymentScheme("hash-chain-tick", PaymentHeaders.Tick, "base64", Micropay.Core.Channels.Tick.Size, "hash-chain"),
            ],
            new ChannelOpenInstructions(
                "POST",
                "/channels",
                "{\"openRequest\": \"<base64 of the signed ChannelOpenRequest>\"}",
                options.Price,
                (long)options.MinChannelLifetime.TotalSeconds,
                options.MaxLanes,
                options.MaxTickUnits));

    private static ulong Nanoseconds(TimeSpan span) => (ulong)span.Ticks * 100UL;
}
