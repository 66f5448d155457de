namespace PayPerRequest.Server;

/// <summary>One way of paying a request, as the price challenge lists it.</summary>
/// <param name="Name">
/// <c>cumulative-voucher</c> (a cumulative channel: each request sends the lane's next voucher, its cumulative amount
/// raised by at least the price) or <c>hash-chain-tick</c> (a hash-chain channel: each request reveals the next
/// ⌈price / unit amount⌉ words).
/// </param>
/// <param name="Header">The request header that carries the payment (<see cref="PaymentHeaders"/>).</param>
/// <param name="Encoding">How the header's value encodes the payment's bytes: <c>base64</c>.</param>
/// <param name="Size">The payment's size in bytes before encoding: 128 (voucher) or 64 (tick).</param>
/// <param name="ChannelMode">The channel mode to open for it: <c>cumulative</c> or <c>hash-chain</c>.</param>
public sealed record PaymentScheme(string Name, string Header, string Encoding, int Size, string ChannelMode);
