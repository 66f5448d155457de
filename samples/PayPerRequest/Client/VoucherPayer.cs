using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using PayPerRequest.Server;

namespace PayPerRequest.Client;

/// <summary>
/// A client paying each request with a cumulative voucher: it opens a channel once, then each request carries the next
/// voucher of a lane, its cumulative amount raised by the price. Lanes are independent, so requests on different lanes
/// may be in flight together; on one lane, send in order (a voucher arriving after a later one is a replay).
/// Thread-safe (the wallet is).
/// </summary>
public sealed class VoucherPayer
{
    private readonly HttpClient _http;

    private VoucherPayer(HttpClient http, PriceChallenge challenge, ChannelWallet wallet, ChannelCertificate certificate)
    {
        _http = http;
        Challenge = challenge;
        Wallet = wallet;
        Certificate = certificate;
    }

    /// <summary>The challenge the channel was opened for.</summary>
    public PriceChallenge Challenge { get; }

    /// <summary>The wallet that signs the vouchers (its state is the payer's record of what it promised).</summary>
    public ChannelWallet Wallet { get; }

    /// <summary>The ledger's certificate of the channel.</summary>
    public ChannelCertificate Certificate { get; }

    /// <summary>The channel's config.</summary>
    public ChannelConfig Config => Wallet.Config;

    /// <summary>Opens a cumulative channel to the challenge's payee through the server.</summary>
    /// <param name="http">A client whose base address is the server.</param>
    /// <param name="challenge">The price challenge.</param>
    /// <param name="payerKey">The payer's key (registered to <paramref name="payerAccountId"/>).</param>
    /// <param name="payerAccountId">The payer's account.</param>
    /// <param name="deposit">What to lock in the channel.</param>
    /// <param name="salt">Makes this channel's id differ from the payer's other channels with the same terms.</param>
    /// <param name="expiresAt">The channel's expiry, ledger nanoseconds.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The payer.</returns>
    public static async Task<VoucherPayer> OpenAsync(
        HttpClient http, PriceChallenge challenge, SigningKey payerKey, UInt128 payerAccountId, UInt128 deposit, UInt128 salt, ulong expiresAt,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        ArgumentNullException.ThrowIfNull(payerKey);
        (UInt128 instanceId, UInt128 payee, _) = PayPerRequestClient.ParseTerms(challenge);
        ChannelConfig config = ChannelConfig.CreateCumulative(
            instanceId, payerAccountId, payee, challenge.LedgerId, payerKey.VerificationKey, expiresAt, settleDelay: 10 * 60 * LedgerClock.Second, salt);
        ChannelCertificate certificate = await PayPerRequestClient.OpenChannelAsync(http, challenge, ChannelOpenRequest.Sign(payerKey, config, deposit), cancellationToken)
            .ConfigureAwait(false);
        return new VoucherPayer(http, challenge, ChannelWallet.Create(config, payerKey, deposit), certificate);
    }

    /// <summary>Signs the lane's next voucher, paying <paramref name="amount"/> more (the price, unless testing the server).</summary>
    /// <param name="lane">The lane.</param>
    /// <param name="amount">What it adds to the lane.</param>
    /// <returns>The voucher.</returns>
    public Voucher Sign(uint lane, UInt128 amount) => Wallet.Pay(lane, amount, Config.ExpiresAt);

    /// <summary>Pays the price on a lane and GETs the path.</summary>
    /// <param name="path">The protected path.</param>
    /// <param name="lane">The lane.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What the server answered.</returns>
    public Task<PaymentAttempt> GetAsync(string path, uint lane, CancellationToken cancellationToken = default) =>
        SendAsync(path, Sign(lane, Challenge.Price), cancellationToken);

    /// <summary>GETs the path with a given voucher (a replay, or one signed for a test).</summary>
    /// <param name="path">The protected path.</param>
    /// <param name="voucher">The voucher.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What the server answered.</returns>
    public Task<PaymentAttempt> SendAsync(string path, Voucher voucher, CancellationToken cancellationToken = default) =>
        PayPerRequestClient.SendAsync(_http, path, PaymentHeaders.Voucher, PayPerRequestClient.Encode(voucher), cancellationToken);
}
