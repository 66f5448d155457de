using System.Diagnostics;
using System.Globalization;
using System.Net;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using PayPerRequest.Client;
using PayPerRequest.Server;

namespace PayPerRequest.Load;

/// <summary>
/// A bounded loopback load run, no BenchmarkDotNet: starts a <see cref="PaymentServer"/> (in-memory ledger) on a free
/// port, then drives <c>concurrency</c> HTTP clients in this process for a fixed time per mode: (a) the unpaid twin of
/// the endpoint (measured first and last), (b) paid with ticks, (c) paid with vouchers; and measures the crypto bound of (c): one voucher signature
/// plus one verification per request, per core. Every mode is warmed up before any is measured; every answer must be a 200.
/// </summary>
/// <remarks>
/// Client and server share the machine, so every figure includes the client's own cost (HTTP, signing or hashing), as
/// the bound does. Call <see cref="MeasureAsync"/> from a benchmark host to wire it elsewhere.
/// </remarks>
public static class LoadHarness
{
    private static readonly UInt128 PayerFunds = (UInt128)1 << 100;

    /// <summary>Runs the three modes and the bound, and prints the rates and ratios.</summary>
    /// <param name="perMode">Measured time per mode (a fifth of it, at most a second, is spent warming up first).</param>
    /// <param name="output">Where the figures go.</param>
    /// <returns>0; 1 when a request was not served.</returns>
    public static async Task<int> RunAsync(TimeSpan perMode, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int concurrency = 4 * Environment.ProcessorCount;
        string load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Load: {concurrency} loopback clients, {perMode.TotalSeconds:0.#} s per mode, {Environment.ProcessorCount} cores, load average before: {load}"));
        LoadReport report;
        try
        {
            report = await MeasureAsync(perMode, concurrency);
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine("FAILED: " + e.Message);
            return 1;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  unpaid    {report.UnpaidPerSecond,10:N0} req/s"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ticks     {report.TicksPerSecond,10:N0} req/s   {report.TicksOverUnpaid:0.00} x unpaid (target >= 0.70)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  vouchers  {report.VouchersPerSecond,10:N0} req/s   {report.VouchersOverBound:0.00} x bound (target >= 0.70)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  bound     {report.VoucherBound,10:N0} req/s   (sign + verify: {report.SignVerifyPerSecondPerCore:N0}/s on one thread x {report.Cores} cores)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  composed  {report.ComposedLimit,10:N0} req/s   1 / (1/unpaid + 1/bound): HTTP and crypto on the same cores; vouchers {report.VouchersPerSecond / report.ComposedLimit:0.00} x this"));
        return 0;
    }

    /// <summary>Measures the three modes and the bound.</summary>
    /// <param name="perMode">Measured time per mode.</param>
    /// <param name="concurrency">Concurrent clients (each sends its next request when the last is answered).</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The rates.</returns>
    /// <exception cref="InvalidOperationException">A request was not served (a 402 in a paid mode means a bug).</exception>
    public static async Task<LoadReport> MeasureAsync(TimeSpan perMode, int concurrency, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(perMode, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        TimeSpan warmUp = TimeSpan.FromTicks(Math.Min(perMode.Ticks / 5, TimeSpan.TicksPerSecond));
        await using PaymentServer server = await PaymentServer.StartAsync(new PaymentServerOptions { MapUnpaidTwin = true }, cancellationToken).ConfigureAwait(false);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        PriceChallenge challenge = await PayPerRequestClient.FetchChallengeAsync(http, "/weather", cancellationToken).ConfigureAwait(false);
        ulong expiresAt = LedgerClock.Now(TimeProvider.System) + (3600 * LedgerClock.Second);

        // (a) The same handler with no payment filter. A first warm-up also estimates the rate, to size the chains.
        Func<Task<PaymentAttempt>>[] unpaid = [.. Enumerable.Repeat<Func<Task<PaymentAttempt>>>(() => PayPerRequestClient.SendAsync(http, "/unpaid/weather", null, null), concurrency)];
        double estimate = await DriveAsync(unpaid, warmUp, cancellationToken).ConfigureAwait(false);

        // (b) Ticks: a chain per client, three times longer than the estimate needs (ticks may run faster than unpaid
        // requests measured while the process was still warming up); its root costs one hash per unit, paid here.
        double perClient = estimate * (warmUp + perMode).TotalSeconds / concurrency;
        uint chainLength = (uint)Math.Clamp(perClient * 3, 1_000, 4_000_000);
        var keys = new List<SigningKey>();
        var chains = new List<TickPayer>();
        try
        {
            // (c) Vouchers: a channel per client, on its lane 0. Every channel is opened before anything is measured.
            var vouchers = new Func<Task<PaymentAttempt>>[concurrency];
            for (int i = 0; i < concurrency; i++)
            {
                SigningKey key = SigningKey.Generate();
                keys.Add(key);
                await server.CreatePayerAsync(PayerId(i), key.VerificationKey, PayerFunds, cancellationToken).ConfigureAwait(false);
                chains.Add(await TickPayer.OpenAsync(http, challenge, key, PayerId(i), chainLength, salt: 1, expiresAt, cancellationToken).ConfigureAwait(false));
                VoucherPayer payer = await VoucherPayer.OpenAsync(
                    http, challenge, key, PayerId(i), deposit: PayerFunds / 4, salt: 2, expiresAt, cancellationToken).ConfigureAwait(false);
                vouchers[i] = () => payer.GetAsync("/weather", lane: 0);
            }

            Func<Task<PaymentAttempt>>[] ticks = [.. chains.Select<TickPayer, Func<Task<PaymentAttempt>>>(c => () => c.GetAsync("/weather"))];

            // Every mode warms up before any is measured, and unpaid is measured first and last, the higher rate kept:
            // the machine is shared, and the baseline is the one figure a slow moment must not flatter the others with.
            foreach (Func<Task<PaymentAttempt>>[] mode in new[] { unpaid, ticks, vouchers })
            {
                await DriveAsync(mode, warmUp, cancellationToken).ConfigureAwait(false);
            }

            double unpaidFirst = await DriveAsync(unpaid, perMode, cancellationToken).ConfigureAwait(false);
            double ticksRate = await DriveAsync(ticks, perMode, cancellationToken).ConfigureAwait(false);
            double vouchersRate = await DriveAsync(vouchers, perMode, cancellationToken).ConfigureAwait(false);
            double unpaidRate = Math.Max(unpaidFirst, await DriveAsync(unpaid, perMode, cancellationToken).ConfigureAwait(false));

            double signVerify = MeasureSignVerify(TimeSpan.FromTicks(Math.Min(perMode.Ticks, 2 * TimeSpan.TicksPerSecond)));
            return new LoadReport(unpaidRate, ticksRate, vouchersRate, signVerify, Environment.ProcessorCount, concurrency);
        }
        finally
        {
            chains.ForEach(c => c.Dispose());
            keys.ForEach(k => k.Dispose());
        }
    }

    private static UInt128 PayerId(int client) => 10_001 + (UInt128)(uint)client;

    // Runs every client in a loop until the time is up; returns the requests served per second.
    private static async Task<double> DriveAsync(Func<Task<PaymentAttempt>>[] clients, TimeSpan duration, CancellationToken cancellationToken)
    {
        long began = Stopwatch.GetTimestamp();
        long[] served = await Task.WhenAll(clients.Select(async client =>
        {
            long count = 0;
            while (Stopwatch.GetElapsedTime(began) < duration)
            {
                cancellationToken.ThrowIfCancellationRequested();
                PaymentAttempt attempt = await client().ConfigureAwait(false);
                if (attempt.Status != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"A request was refused: {(int)attempt.Status} {attempt.Reason}.");
                }

                count++;
            }

            return count;
        })).ConfigureAwait(false);
        return served.Sum() / Stopwatch.GetElapsedTime(began).TotalSeconds;
    }

    // One client signature and one server verification of a voucher, as each voucher-paid request costs, on one thread.
    private static double MeasureSignVerify(TimeSpan duration)
    {
        using SigningKey key = SigningKey.Generate();
        VerificationKey verification = key.VerificationKey;
        UInt128 instance = 1, channel = 2;
        long began = Stopwatch.GetTimestamp();
        ulong pairs = 0;
        while (Stopwatch.GetElapsedTime(began) < duration)
        {
            pairs++;
            Voucher voucher = Voucher.Sign(key, instance, channel, lane: 0, pairs, cumulativeAmount: pairs * 5, validUntil: ulong.MaxValue);
            if (!voucher.Verify(verification, instance))
            {
                throw new InvalidOperationException("A voucher did not verify.");
            }
        }

        return pairs / Stopwatch.GetElapsedTime(began).TotalSeconds;
    }
}
