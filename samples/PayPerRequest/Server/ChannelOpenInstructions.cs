namespace PayPerRequest.Server;

/// <summary>How a client opens a channel to pay this server, as the price challenge states it.</summary>
/// <param name="Method">The HTTP method: <c>POST</c>.</param>
/// <param name="Path">The path: <c>/channels</c>.</param>
/// <param name="Body">
/// What to post: JSON <c>{"openRequest": "&lt;base64&gt;"}</c>, the base64 of the payer's signed
/// <c>ChannelOpenRequest</c> (256 bytes) naming <see cref="PriceChallenge.Payee"/>, <see cref="PriceChallenge.LedgerId"/> and
/// <see cref="PriceChallenge.InstanceId"/>. The answer (201) holds the channel id and the ledger's certificate of it.
/// </param>
/// <param name="MinDeposit">The smallest deposit the server accepts: one request's price.</param>
/// <param name="MinLifetimeSeconds">The shortest time to the channel's expiry the server accepts (it needs time to redeem).</param>
/// <param name="MaxLanes">Voucher lanes the server keeps per channel: lanes 0 to <c>MaxLanes - 1</c>.</param>
/// <param name="MaxTickUnits">The most units one tick may pay at once (the server hashes once per unit).</param>
public sealed record ChannelOpenInstructions(
    string Method, string Path, string Body, ulong MinDeposit, long MinLifetimeSeconds, int MaxLanes, uint MaxTickUnits);
