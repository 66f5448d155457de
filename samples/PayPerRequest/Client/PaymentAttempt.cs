using System.Net;

namespace PayPerRequest.Client;

/// <summary>What the server answered a paid (or unpaid) request.</summary>
/// <param name="Status">The status: 200 when served, 402 when the payment was refused.</param>
/// <param name="Reason">The 402 body's machine-readable reason (<c>replayed</c>, <c>underpaid</c>…); null when served.</param>
/// <param name="Body">The answer's body.</param>
public sealed record PaymentAttempt(HttpStatusCode Status, string? Reason, string Body)
{
    /// <summary>Whether the request was served.</summary>
    public bool Served => Status == HttpStatusCode.OK;
}
