using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Baselines;
using Micropay.Core.Benchmarks.Crypto;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// One voucher: <see cref="Voucher.Sign"/> and <see cref="Voucher.Verify"/> against NSec's Ed25519 on the same 112-byte
/// signed message (<see cref="RawEd25519Voucher"/>, the baseline of each category), and the wire format's
/// <see cref="Voucher.TryParse"/> and <see cref="Voucher.Encode"/>.
/// </summary>
/// <remarks>
/// <para>
/// Setup: a fixed payer key (RFC 8032 section 7.1, test 1) imported once into the library and once into NSec, one
/// voucher signed for a fixed ledger instance, its 128-byte encoding, and the message NSec signs and verifies: the
/// 32-byte zero-padded tag "micropay/voucher/v1", the instance id (16 bytes, little-endian) and the voucher's bytes
/// 0..63, assembled once in the setup. The baselines therefore measure Ed25519 alone; the library's methods also check
/// the fields, assemble the message on the stack from the voucher's fields and go through the key wrapper
/// (<c>Crypto.SignatureBenchmarks</c> measures the wrapper alone). <c>Voucher_Sign</c> also builds the voucher.
/// </para>
/// <para>
/// Every method works on the same voucher, so none allocates in the steady state: <c>Allocated</c> should read "-".
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(BaselinePerCategoryConfig))]
public class VoucherBenchmarks
{
    private static readonly byte[] Seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly UInt128 Instance = new(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);
    private static readonly UInt128 ChannelId = new(0x0123_4567_89ab_cdefUL, 0xfedc_ba98_7654_3210UL);

    private readonly byte[] _encoded = new byte[Voucher.Size];
    private readonly byte[] _output = new byte[Voucher.Size];
    private readonly byte[] _signature = new byte[VerificationKey.SignatureSize];
    private readonly byte[] _signed = new byte[VerificationKey.SignatureSize];
    private SigningKey? _key;
    private VerificationKey? _payerKey;
    private RawEd25519Voucher? _raw;
    private Voucher _voucher;

    /// <summary>Imports the key, signs the voucher, encodes it and assembles NSec's message.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        _payerKey = _key.VerificationKey;
        _voucher = Voucher.Sign(_key, Instance, ChannelId, lane: 3, sequence: 1_000, cumulativeAmount: 123_456, validUntil: ulong.MaxValue - 1);
        _voucher.Encode(_encoded);
        _voucher.CopySignatureTo(_signature);
        _raw = new RawEd25519Voucher(Seed, Instance, _encoded);
        if (!_raw.Verify(_signature) || !_voucher.Verify(_payerKey, Instance))
        {
            throw new InvalidOperationException("The baseline's message is not the one the voucher signs.");
        }

        // Ed25519 signatures are deterministic: the baseline must produce the voucher's own signature.
        Span<byte> again = stackalloc byte[VerificationKey.SignatureSize];
        _raw.Sign(again);
        if (!again.SequenceEqual(_signature))
        {
            throw new InvalidOperationException("NSec's signature of the baseline's message differs from the voucher's.");
        }
    }

    /// <summary>Frees both keys.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _key?.Dispose();
        _raw?.Dispose();
    }

    /// <summary>NSec's <c>SignatureAlgorithm.Ed25519.Sign</c> on the assembled 112-byte message.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Sign")]
    public void NSec_Sign() => _raw!.Sign(_signed);

    /// <summary><see cref="Voucher.Sign"/>: checks the fields, assembles the message, signs, builds the voucher.</summary>
    /// <returns>The voucher.</returns>
    [Benchmark]
    [BenchmarkCategory("Sign")]
    public Voucher Voucher_Sign() => Voucher.Sign(_key!, Instance, ChannelId, 3, 1_000, 123_456, ulong.MaxValue - 1);

    /// <summary>NSec's <c>SignatureAlgorithm.Ed25519.Verify</c> of the voucher's signature over the assembled message.</summary>
    /// <returns>True.</returns>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Verify")]
    public bool NSec_Verify() => _raw!.Verify(_signature);

    /// <summary><see cref="Voucher.Verify"/>: assembles the message from the voucher's fields, then verifies.</summary>
    /// <returns>True.</returns>
    [Benchmark]
    [BenchmarkCategory("Verify")]
    public bool Voucher_Verify() => _voucher.Verify(_payerKey!, Instance);

    /// <summary><see cref="Voucher.TryParse"/> of the 128-byte encoding (every format rule; not the signature).</summary>
    /// <returns>The voucher.</returns>
    [Benchmark]
    [BenchmarkCategory("Format")]
    public Voucher Voucher_TryParse()
    {
        Voucher.TryParse(_encoded, out Voucher voucher, out _);
        return voucher;
    }

    /// <summary><see cref="Voucher.Encode"/> into a 128-byte buffer.</summary>
    [Benchmark]
    [BenchmarkCategory("Format")]
    public void Voucher_Encode() => _voucher.Encode(_output);
}
