// PayPerRequest: an HTTP API that charges per request through payment channels, on Kestrel, with its own ledger.
//
// GET /weather costs 5 millicents. Asked without payment, the server answers 402 Payment Required with a JSON price
// challenge: the price, the payee's account, the ledger instance, the schemes it accepts (a cumulative voucher in the
// Payment-Voucher header, a hash-chain tick in Payment-Tick) and how to open a channel (POST /channels with the signed
// open request). A client opens a channel once, then pays every request with the next voucher or tick, which the server
// checks at the edge with no ledger call; a background redeemer turns the best voucher of each lane, and the best tick of
// each chain, into ledger transfers every 200 ms. Replays, underpayments, forged signatures and unknown channels get a
// 402 whose body names the reason.
//
//   dotnet run --project samples/PayPerRequest -c Release                  the demo: clients, checks, summary; exit 0 or 1
//   dotnet run --project samples/PayPerRequest -c Release -- --serve       keep the server running, for curl
//   dotnet run --project samples/PayPerRequest -c Release -- --load [--seconds 5]
//                                                                          requests/s unpaid, with ticks, with vouchers
//
// The server pieces are in Server/ (one concern a file, to copy), the client's in Client/.

using System.Globalization;
using PayPerRequest.Demo;
using PayPerRequest.Load;

if (args.Contains("--serve"))
{
    return await ServeMode.RunAsync(Console.Out);
}

if (args.Contains("--load"))
{
    int at = Array.IndexOf(args, "--seconds");
    double seconds = at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : 5;
    return await LoadHarness.RunAsync(TimeSpan.FromSeconds(seconds), Console.Out);
}

return await ClientDemo.RunAsync(Console.Out);
