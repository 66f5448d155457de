using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using PayPerRequest.Server;

namespace PayPerRequest.Client;

/// <summary>
/// A client paying each request with a hash-chain tick: it opens a channel whose unit amount is the price, then each
/// request reveals the chain's next word. No signature per request, for the client or the server: one hash each.
/// A chain is one sequence: send in order (a tick arriving after a later one is a replay).
/// </summary>
public sealed class TickPayer : IDisposable
{
    private readonly HttpClient _http;

    private TickPayer(HttpClient http, PriceChallenge challenge, HashChainWallet wallet, ChannelConfig config, ChannelCertificate certificate)
    {
        _http = http;
        Challenge = challenge;
        Wallet = wallet;
        Config = config;
        Certificate = certificate;
    }

    /// <summary>The challenge the channel was opened for.</summary>
    public PriceChallenge Challenge { get; }

    /// <summary>The chain's wallet (its seed is the payer's money).</summary>
    public HashChainWallet Wallet { get; }

    /// <summary>The channel's config.</summary>
    public ChannelConfig Config { get; }

    /// <summary>The ledger's certificate of the channel.</summary>
    public ChannelCertificate Certificate { get; }

    /// <summary>Opens a hash-chain channel of <paramref name="requests"/> units of one price each, and deposits their cost.</summary>
    /// <param name="http">A client whose base address is the server.</param>
    /// <param name="challenge">The price challenge.</param>
    /// <param name="payerKey">The payer's key (signs only the open).</param>
    /// <param name="payerAccountId">The payer's account.</param>
    /// <param name="requests">How many requests the chain pays for: its length.</param>
    /// <param name="salt">Makes this channel's id unique.</param>
    /// <param name="expiresAt">The channel's expiry, ledger nanoseconds.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The payer.</returns>
    public static async Task<TickPayer> OpenAsync(
        HttpClient http, PriceChallenge challenge, SigningKey payerKey, UInt128 payerAccountId, uint requests, UInt128 salt, ulong expiresAt,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        ArgumentNullException.ThrowIfNull(payerKey);
        (UInt128 instanceId, UInt128 payee, _) = PayPerRequestClient.ParseTerms(challenge);
        HashChainWallet wallet = HashChainWallet.Create(requests);
        try
        {
            ChannelConfig config = ChannelConfig.CreateHashChain(
                instanceId, payerAccountId, payee, challenge.LedgerId, payerKey.VerificationKey, expiresAt, settleDelay: 10 * 60 * LedgerClock.Second, salt,
                wallet.Root, unitAmount: challenge.Price, chainLength: requests);
            UInt128 deposit = (UInt128)challenge.Price * requests;
            ChannelCertificate certificate = await PayPerRequestClient.OpenChannelAsync(http, challenge, ChannelOpenRequest.Sign(payerKey, config, deposit), cancellationToken)
                .ConfigureAwait(false);
            return new TickPayer(http, challenge, wallet, config, certificate);
        }
        catch
        {
            wallet.Dispose();
            throw;
        }
    }

    /// <summary>Reveals the next word (one unit: the price) and GETs the path.</summary>
    /// <param name="path">The protected path.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What the server answered.</returns>
    public Task<PaymentAttempt> GetAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(path, Wallet.NextTick(Config.Id), cancellationToken);

    /// <summary>GETs the path with a given tick (a replay, or one made for a test).</summary>
    /// <param name="path">The protected path.</param>
    /// <param name="tick">The tick.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What the server answered.</returns>
    public Task<PaymentAttempt> SendAsync(string path, Tick tick, CancellationToken cancellationToken = default) =>
        PayPerRequestClient.SendAsync(_http, path, PaymentHeaders.Tick, PayPerRequestClient.Encode(tick), cancellationToken);

    /// <summary>Wipes the chain's seed.</summary>
    public void Dispose() => Wallet.Dispose();
}
