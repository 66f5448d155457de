namespace PayPerRequest.Load;

/// <summary>What one <see cref="LoadHarness"/> run measured, on this machine, this run.</summary>
/// <param name="UnpaidPerSecond">Requests served per second without payment (the same handler, no filter): the higher of two runs, first and last.</param>
/// <param name="TicksPerSecond">Requests served per second, each paid with a hash-chain tick.</param>
/// <param name="VouchersPerSecond">Requests served per second, each paid with a signed voucher.</param>
/// <param name="SignVerifyPerSecondPerCore">Voucher signatures plus verifications per second on one thread (one pair per request).</param>
/// <param name="Cores">The cores the bound assumes (<see cref="Environment.ProcessorCount"/>).</param>
/// <param name="Concurrency">Concurrent loopback clients.</param>
public sealed record LoadReport(
    double UnpaidPerSecond, double TicksPerSecond, double VouchersPerSecond, double SignVerifyPerSecondPerCore, int Cores, int Concurrency)
{
    /// <summary>
    /// The most voucher-paid requests per second the crypto alone allows: one client signature and one server
    /// verification per request, on every core (client and server share this machine's cores).
    /// </summary>
    public double VoucherBound => SignVerifyPerSecondPerCore * Cores;

    /// <summary>
    /// What voucher-paid requests could reach if a request cost exactly an unpaid request plus its sign and verify:
    /// 1 / (1 / unpaid + 1 / bound). The HTTP work and the crypto share the same cores, so this, not
    /// <see cref="VoucherBound"/>, is the ceiling the voucher mode can approach.
    /// </summary>
    public double ComposedLimit => 1 / ((1 / UnpaidPerSecond) + (1 / VoucherBound));

    /// <summary>Tick-paid over unpaid throughput (target: at least 0.7).</summary>
    public double TicksOverUnpaid => TicksPerSecond / UnpaidPerSecond;

    /// <summary>Voucher-paid throughput over <see cref="VoucherBound"/> (target: at least 0.7).</summary>
    public double VouchersOverBound => VouchersPerSecond / VoucherBound;
}
