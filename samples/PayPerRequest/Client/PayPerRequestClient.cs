using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using PayPerRequest.Server;

namespace PayPerRequest.Client;

/// <summary>
/// The client's side of the protocol over HTTP: reads a price challenge, opens a channel (and checks the ledger's
/// certificate of it), and sends paid requests. <see cref="VoucherPayer"/> and <see cref="TickPayer"/> build on it.
/// </summary>
public static class PayPerRequestClient
{
    /// <summary>Asks for a protected resource without paying and reads the price challenge of the 402 answer.</summary>
    /// <param name="http">A client whose base address is the server.</param>
    /// <param name="path">The protected path.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The challenge.</returns>
    /// <exception cref="InvalidOperationException">The answer was not a 402 with a challenge.</exception>
    public static async Task<PriceChallenge> FetchChallengeAsync(HttpClient http, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        using HttpResponseMessage response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
        PaymentRequired? required = response.StatusCode == HttpStatusCode.PaymentRequired
            ? await response.Content.ReadFromJsonAsync<PaymentRequired>(JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false)
            : null;
        return required?.Challenge ?? throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}, not 402 with a challenge.");
    }

    /// <summary>The challenge's ids and key, parsed.</summary>
    /// <param name="challenge">The challenge.</param>
    /// <returns>The instance id, the payee's account and the operator's verification key.</returns>
    public static (UInt128 InstanceId, UInt128 Payee, VerificationKey OperatorKey) ParseTerms(PriceChallenge challenge)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return (
            UInt128.Parse(challenge.InstanceId, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            UInt128.Parse(challenge.Payee, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            VerificationKey.Create(Convert.FromBase64String(challenge.OperatorKey)));
    }

    /// <summary>
    /// Posts a signed open request, then checks the certificate the server returns: signed by the challenge's operator
    /// key, for this very config and deposit. Only then does the client know its deposit is in the ledger's escrow.
    /// </summary>
    /// <param name="http">A client whose base address is the server.</param>
    /// <param name="challenge">The challenge (its operator key checks the certificate).</param>
    /// <param name="request">The payer's signed open request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The ledger's certificate of the channel.</returns>
    /// <exception cref="InvalidOperationException">The server refused the open, or its certificate does not check.</exception>
    public static async Task<ChannelCertificate> OpenChannelAsync(HttpClient http, PriceChallenge challenge, ChannelOpenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        byte[] encoded = new byte[request.EncodedSize];
        request.Encode(encoded);
        Uri path = new(challenge.Open.Path.TrimStart('/'), UriKind.Relative);
        using HttpResponseMessage response = await http.PostAsJsonAsync(path, new OpenChannelBody(Convert.ToBase64String(encoded)), JsonSerializerOptions.Web, cancellationToken)
            .ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            string refusal = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"The open was refused ({(int)response.StatusCode}): {refusal}");
        }

        OpenedChannel? opened = await response.Content.ReadFromJsonAsync<OpenedChannel>(JsonSerializerOptions.Web, cancellationToken).ConfigureAwait(false);
        VerificationKey operatorKey = ParseTerms(challenge).OperatorKey;
        if (opened is null || !ChannelCertificate.TryParse(Convert.FromBase64String(opened.Certificate), out ChannelCertificate? certificate, out _) ||
            !certificate.Verify(operatorKey) || !certificate.Config.Equals(request.Config) || certificate.Deposit != request.Deposit)
        {
            throw new InvalidOperationException("The server's certificate does not check with the operator's key, or is not for this channel and deposit.");
        }

        return certificate;
    }

    /// <summary>Sends a GET with one payment header and reads the answer.</summary>
    /// <param name="http">A client whose base address is the server.</param>
    /// <param name="path">The protected path.</param>
    /// <param name="header">The payment header (<see cref="PaymentHeaders"/>), or null to send none.</param>
    /// <param name="value">The header's value: the payment's base64.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What the server answered.</returns>
    public static async Task<PaymentAttempt> SendAsync(HttpClient http, string path, string? header, string? value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? reason = null;
        if (response.StatusCode == HttpStatusCode.PaymentRequired)
        {
            using var document = JsonDocument.Parse(body);
            reason = document.RootElement.GetProperty("reason").GetString();
        }

        return new PaymentAttempt(response.StatusCode, reason, body);
    }

    /// <summary>The base64 of a voucher's wire format, for the <see cref="PaymentHeaders.Voucher"/> header.</summary>
    /// <param name="voucher">The voucher.</param>
    /// <returns>The header value.</returns>
    public static string Encode(in Voucher voucher)
    {
        Span<byte> bytes = stackalloc byte[Voucher.Size];
        voucher.Encode(bytes);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>The base64 of a tick's wire format, for the <see cref="PaymentHeaders.Tick"/> header.</summary>
    /// <param name="tick">The tick.</param>
    /// <returns>The header value.</returns>
    public static string Encode(in Tick tick)
    {
        Span<byte> bytes = stackalloc byte[Tick.Size];
        tick.Encode(bytes);
        return Convert.ToBase64String(bytes);
    }
}
