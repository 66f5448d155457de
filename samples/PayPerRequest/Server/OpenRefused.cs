namespace PayPerRequest.Server;

/// <summary>The answer to a channel open the server or the ledger refused (<c>400 Bad Request</c>).</summary>
/// <param name="Reason">
/// Why, in snake case: <c>malformed</c>, <c>wrong_payee</c>, <c>wrong_ledger</c>, <c>payer_key_not_registered</c>, <c>deposit_too_small</c>,
/// <c>expires_too_soon</c>, or the ledger's <c>ChannelResult</c> (<c>bad_signature</c>, <c>insufficient_funds</c>,
/// <c>key_not_found</c>…).
/// </param>
/// <param name="Detail">The same, as a sentence.</param>
public sealed record OpenRefused(string Reason, string Detail);
