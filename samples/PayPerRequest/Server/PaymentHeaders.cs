namespace PayPerRequest.Server;

/// <summary>The request headers that carry a payment: one of them, holding the base64 of one voucher or one tick.</summary>
public static class PaymentHeaders
{
    /// <summary>A cumulative voucher: the base64 of its 128-byte wire format (<c>Voucher.Encode</c>).</summary>
    public const string Voucher = "Payment-Voucher";

    /// <summary>A hash-chain tick: the base64 of its 64-byte wire format (<c>Tick.Encode</c>).</summary>
    public const string Tick = "Payment-Tick";
}
