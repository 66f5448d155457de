namespace PayPerRequest.Server;

/// <summary>The JSON body of every <c>402 Payment Required</c> answer: why the request was not served, and the price.</summary>
/// <param name="Reason">Why, in snake case (<see cref="PaymentOutcome"/>): <c>payment_missing</c>, <c>replayed</c>, <c>underpaid</c>…</param>
/// <param name="Detail">The same, as a sentence for people.</param>
/// <param name="Challenge">The price challenge, so that any refusal tells the client how to pay.</param>
public sealed record PaymentRequired(string Reason, string Detail, PriceChallenge Challenge);
