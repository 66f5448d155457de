using BenchmarkDotNet.Attributes;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// Verifying a batch of 8,189 vouchers: the engine's batch verifier (what <see cref="LedgerEngine.RedeemVouchersAsync"/>
/// runs before it queues a batch: every core, contiguous slices) against one core verifying them one after another
/// (the baseline).
/// </summary>
/// <remarks>
/// <para>
/// Setup: an <see cref="DurabilityMode.InMemory"/> engine with the three accounts and one open cumulative channel
/// (<see cref="ChannelFixture"/>), and 8,189 vouchers for it on 16 lanes, signed once. Both methods verify the same
/// vouchers every invocation (verification is stateless: nothing is redeemed); the mean is per voucher.
/// </para>
/// <para>
/// <c>Engine_AllCores</c> calls the engine's internal <c>LedgerEngine.VerifyVouchers</c>, the first step of
/// <c>RedeemVouchersAsync</c>: from 64 vouchers on it splits the batch into one contiguous slice per core with
/// <c>Parallel.For</c>; each voucher costs a lookup of the channel's config and <see cref="Voucher.Verify"/>.
/// <c>OneCore</c> is the loop a caller would write on one thread:
/// the config looked up once, then <see cref="Voucher.Verify"/> per voucher. On the 2-core VM the target is
/// <c>Engine_AllCores</c> at least 1.8x as fast as <c>OneCore</c> (a <c>Ratio</c> of at most 0.56).
/// </para>
/// <para>
/// <c>OneCore</c> allocates nothing; <c>Engine_AllCores</c> allocates the parallel loop's state once per batch (about
/// 2 KB, well under 1 B per voucher).
/// </para>
/// <para>
/// <c>Min</c> and <c>Max</c> are shown because the parallel figure depends on both cores being free: on a shared VM an
/// iteration during which another process runs measures that process too, and <c>Min</c> is the uncontended figure.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[MinColumn]
[MaxColumn]
public class BatchVerifyBenchmarks
{
    private readonly Voucher[] _vouchers = new Voucher[ChannelFixture.BatchSize];
    private readonly ChannelResult[] _results = new ChannelResult[ChannelFixture.BatchSize];
    private readonly Micropay.Core.Channels.VoucherRedemption[] _redemptions = new Micropay.Core.Channels.VoucherRedemption[ChannelFixture.BatchSize];
    private SigningKey? _payerKey;
    private LedgerEngine? _engine;
    private ChannelConfig? _config;

    /// <summary>Opens the in-memory engine and the channel, signs the vouchers, and checks both methods accept them all.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _payerKey = ChannelFixture.PayerKey();
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory }).AsTask().GetAwaiter().GetResult();
        _config = ChannelFixture.OpenOnEngine(_engine, _payerKey);
        ChannelFixture.SignVouchers(_payerKey, _config, first: 0, lanes: 16, _vouchers);
        if (OneCore() != 0 || Engine_AllCores() != 0)
        {
            throw new InvalidOperationException("Some of the benchmark's vouchers do not verify.");
        }
    }

    /// <summary>Disposes the engine and the key.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _payerKey?.Dispose();
    }

    /// <summary>One thread verifying the batch voucher after voucher.</summary>
    /// <returns>The number refused (0).</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = ChannelFixture.BatchSize)]
    public int OneCore()
    {
        ChannelConfig config = _config!;
        VerificationKey payerKey = config.PayerKey;
        UInt128 instanceId = config.InstanceId;
        Voucher[] vouchers = _vouchers;
        ChannelResult[] results = _results;
        int refused = 0;
        for (int i = 0; i < vouchers.Length; i++)
        {
            bool valid = vouchers[i].Verify(payerKey, instanceId);
            results[i] = valid ? ChannelResult.Ok : ChannelResult.BadSignature;
            refused += valid ? 0 : 1;
        }

        return refused;
    }

    /// <summary>The engine's batch verifier: every core, one contiguous slice each.</summary>
    /// <returns>The number refused (0).</returns>
    [Benchmark(OperationsPerInvoke = ChannelFixture.BatchSize)]
    public int Engine_AllCores() => _engine!.VerifyVouchers(_vouchers, _results, _redemptions);
}
