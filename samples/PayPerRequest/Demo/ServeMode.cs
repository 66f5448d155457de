using Micropay.Core.Crypto;
using PayPerRequest.Client;
using PayPerRequest.Server;

namespace PayPerRequest.Demo;

/// <summary>
/// <c>--serve</c>: runs the server (in-memory ledger) until Ctrl+C, with one voucher channel already open for a demo payer
/// and a few of its vouchers printed as curl commands, since curl cannot sign.
/// </summary>
internal static class ServeMode
{
    public static async Task<int> RunAsync(TextWriter output)
    {
        await using PaymentServer server = await PaymentServer.StartAsync(new PaymentServerOptions());
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using SigningKey payerKey = SigningKey.Generate();
        await server.CreatePayerAsync(2001, payerKey.VerificationKey, 1_000_000);
        PriceChallenge challenge = await PayPerRequestClient.FetchChallengeAsync(http, "/weather");
        VoucherPayer payer = await VoucherPayer.OpenAsync(
            http, challenge, payerKey, 2001, deposit: 10_000, salt: 1, LedgerClock.Now(TimeProvider.System) + (3600 * LedgerClock.Second));

        output.WriteLine($"Listening on {server.BaseAddress} (Ctrl+C stops). The challenge:");
        output.WriteLine($"  curl -i {server.BaseAddress}weather");
        output.WriteLine("Three paid requests on a channel opened for a demo payer (send each once; again, it is a replay):");
        for (int i = 0; i < 3; i++)
        {
            output.WriteLine($"  curl -i -H '{PaymentHeaders.Voucher}: {PayPerRequestClient.Encode(payer.Sign(0, challenge.Price))}' {server.BaseAddress}weather");
        }

        var stop = new TaskCompletionSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.TrySetResult();
        };
        await stop.Task;
        await server.StopAsync();
        output.WriteLine($"Stopped: {server.Gate.Count(PaymentOutcome.Accepted)} requests served, {server.Redeemer.VouchersRedeemed} vouchers redeemed.");
        return 0;
    }
}
