using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Baselines;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;

namespace Micropay.Core.Benchmarks.Crypto;

/// <summary>
/// The key wrappers alone: <see cref="SigningKey.Sign"/> and <see cref="VerificationKey.Verify"/> over an assembled
/// message, against NSec's Ed25519 called directly on the same bytes (<see cref="RawEd25519Voucher"/>, the baseline of
/// each category).
/// </summary>
/// <remarks>
/// <para>
/// Setup: a fixed payer key (RFC 8032 section 7.1, test 1), one voucher signed for a fixed instance, and its 112-byte
/// signed message (domain tag, instance id, voucher bytes 0..63). Every method signs or verifies that one message; the
/// key is imported once, so no method measures key import or allocation. With <c>VoucherBenchmarks</c>, this splits what
/// <see cref="Voucher.Verify"/> adds to NSec into the wrapper's share (here) and the message assembly's (the rest).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(BaselinePerCategoryConfig))]
public class SignatureBenchmarks
{
    private static readonly byte[] Seed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly UInt128 Instance = new(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);

    private readonly byte[] _signature = new byte[VerificationKey.SignatureSize];
    private readonly byte[] _output = new byte[VerificationKey.SignatureSize];
    private byte[] _message = [];
    private SigningKey? _key;
    private VerificationKey? _verificationKey;
    private RawEd25519Voucher? _raw;

    /// <summary>Imports the key into both NSec and the wrapper, and signs the message once.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _key = SigningKey.Import(Seed, SigningKeyFormat.RawSeed);
        _verificationKey = _key.VerificationKey;
        Voucher voucher = Voucher.Sign(_key, Instance, channelId: 42, lane: 3, sequence: 7, cumulativeAmount: 1_000, validUntil: ulong.MaxValue);
        byte[] encoded = new byte[Voucher.Size];
        voucher.Encode(encoded);
        _raw = new RawEd25519Voucher(Seed, Instance, encoded);
        _message = _raw.Message.ToArray();
        voucher.CopySignatureTo(_signature);
        if (!_raw.Verify(_signature) || !_verificationKey.Verify(_message, _signature))
        {
            throw new InvalidOperationException("The voucher's signature does not verify over the assembled message.");
        }
    }

    /// <summary>Frees both keys.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _key?.Dispose();
        _raw?.Dispose();
    }

    /// <summary>NSec's <c>SignatureAlgorithm.Ed25519.Sign</c> on the 112-byte message.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Sign")]
    public void NSec_Sign() => _raw!.Sign(_output);

    /// <summary><see cref="SigningKey.Sign"/> on the same message.</summary>
    [Benchmark]
    [BenchmarkCategory("Sign")]
    public void SigningKey_Sign() => _key!.Sign(_message, _output);

    /// <summary>NSec's <c>SignatureAlgorithm.Ed25519.Verify</c> of the message's signature.</summary>
    /// <returns>True.</returns>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Verify")]
    public bool NSec_Verify() => _raw!.Verify(_signature);

    /// <summary><see cref="VerificationKey.Verify"/> of the same signature over the same message.</summary>
    /// <returns>True.</returns>
    [Benchmark]
    [BenchmarkCategory("Verify")]
    public bool VerificationKey_Verify() => _verificationKey!.Verify(_message, _signature);
}
