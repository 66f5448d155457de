using BenchmarkDotNet.Attributes;
using Micropay.Core.Channels;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// A hash-chain tick's costs against one raw BLAKE2b-256 of 32 bytes through NSec (the baseline, so BDN prints the
/// ratio): checking a one-step tick (<see cref="HashChain.Verify"/>: one hash and a compare), parsing and
/// checking it from its 64 wire bytes, and the payer's wallet handing out the next tick (its amortised cost over a
/// segment of √n words).
/// </summary>
/// <remarks>
/// Target: a one-step verify at least 0.8x the raw hash's rate (a ratio of 1.25 or less in BDN's column). Setup builds a
/// chain of 1,000,000 words; the wallet benchmark runs on a wallet that is reset before it runs out.
/// </remarks>
[MemoryDiagnoser]
public class TickBenchmarks
{
    private const uint Length = 1_000_000;
    private static readonly NSec.Cryptography.HashAlgorithm Blake2b = NSec.Cryptography.HashAlgorithm.Blake2b_256;

    private readonly byte[] _input = new byte[32];
    private readonly byte[] _output = new byte[32];
    private readonly byte[] _word = new byte[32];
    private readonly byte[] _previous = new byte[32];
    private readonly byte[] _encoded = new byte[Tick.Size];
    private HashChainWallet? _wallet;

    /// <summary>Builds the chain and a tick at index 2 with its predecessor's word.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _wallet = HashChainWallet.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray(), Length);
        Tick one = _wallet.NextTick(1);
        Tick two = _wallet.NextTick(1);
        one.CopyWordTo(_previous);
        two.CopyWordTo(_word);
        two.Encode(_encoded);
        _word.CopyTo(_input, 0);
        if (!HashChain.Verify(_word, 2, _previous, 1))
        {
            throw new InvalidOperationException("the benchmark's tick does not verify");
        }
    }

    /// <summary>Disposes the wallet.</summary>
    [GlobalCleanup]
    public void Cleanup() => _wallet?.Dispose();

    /// <summary>One BLAKE2b-256 of 32 bytes, straight through NSec.</summary>
    [Benchmark(Baseline = true)]
    public void RawBlake2b256() => Blake2b.Hash(_input, _output);

    /// <summary>A one-step tick check: one hash and a compare.</summary>
    [Benchmark]
    public bool VerifyOneStep() => HashChain.Verify(_word, 2, _previous, 1);

    /// <summary>Parsing a tick from its 64 bytes, then the one-step check.</summary>
    [Benchmark]
    public bool ParseAndVerifyOneStep()
    {
        Tick.TryParse(_encoded, out Tick tick, out _);
        Span<byte> word = stackalloc byte[32];
        tick.CopyWordTo(word);
        return HashChain.Verify(word, tick.Index, _previous, 1);
    }

    /// <summary>The payer's wallet handing out the next single-unit tick (amortised over its cached segments).</summary>
    [Benchmark]
    public uint WalletNextTick()
    {
        if (_wallet!.Remaining == 0)
        {
            _wallet.Dispose();
            _wallet = HashChainWallet.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray(), Length);
        }

        return _wallet.NextTick(1).Index;
    }
}
