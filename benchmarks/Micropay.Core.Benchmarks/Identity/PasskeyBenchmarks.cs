using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Crypto;
using Micropay.Core.Identity;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// One passkey assertion: <see cref="PasskeyCredential.Verify"/> (every check of WebAuthn Level 3 section 7.2 the
/// ledger applies, then the ES256 signature) against the ES256 verification alone, as a user would write it with
/// <see cref="ECDsa.VerifyData(byte[], byte[], HashAlgorithmName, DSASignatureFormat)"/> on the same signed bytes
/// (the baseline).
/// </summary>
/// <remarks>
/// <para>
/// Setup: a fixed P-256 key (the tests' golden key), imported once into a credential (rpId "pay.example.com", origin
/// "https://pay.example.com") and once with <see cref="ECDsa.Create(ECParameters)"/>; one assertion built as a
/// browser does (37-byte authenticator data with UP and UV, a 136-byte clientDataJSON for a 32-byte challenge) and
/// signed once, DER. The baseline verifies authenticatorData || SHA-256(clientDataJSON), assembled once in the setup,
/// so it measures one SHA-256 of 69 bytes and the ECDSA verification; <c>Passkey_VerifyAssertion</c> also parses the
/// client data, checks the authenticator data and the DER, and hashes the client data itself.
/// </para>
/// <para>
/// Both verify the same valid signature every time. The credential verifies through <c>ECDsaOpenSsl</c> on Linux and
/// allocates nothing; the baseline's <see cref="ECDsa.Create(ECParameters)"/> instance is the runtime's wrapper, whose
/// DER verify allocates (about 1.4 KB per call on .NET 10).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(BaselinePerCategoryConfig))]
public class PasskeyBenchmarks
{
    private const string RpId = "pay.example.com";
    private const string Origin = "https://pay.example.com";
    private static readonly byte[] PrivateKey = Convert.FromHexString("2fa824ecbc7df677fa12ebf17cfcb204726a6ebaa88379654b5e50a1889e0cab");

    private byte[] _challenge = [];
    private byte[] _message = [];
    private byte[] _signature = [];
    private PasskeyAssertion _assertion;
    private PasskeyCredential? _credential;
    private ECDsa? _raw;

    /// <summary>Signs one assertion with the fixed key and imports the public key into the credential and the baseline.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        using var signer = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = PrivateKey });
        ECParameters publicKey = signer.ExportParameters(false);
        _raw = ECDsa.Create(publicKey);
        _credential = PasskeyCredential.Create([0xA1, 0xB2, 0xC3, 0xD4], [.. publicKey.Q.X!, .. publicKey.Q.Y!], RpId, Origin);

        _challenge = SHA256.HashData("payment order"u8);
        byte[] authenticatorData = new byte[37];
        SHA256.HashData(Encoding.ASCII.GetBytes(RpId), authenticatorData);
        authenticatorData[32] = 0x05; // UP | UV
        BinaryPrimitives.WriteUInt32BigEndian(authenticatorData.AsSpan(33), 7);
        string challenge = Convert.ToBase64String(_challenge).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        byte[] clientDataJson = Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{Origin}\",\"crossOrigin\":false}}");
        _message = [.. authenticatorData, .. SHA256.HashData(clientDataJson)];
        _signature = signer.SignData(_message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        _assertion = new PasskeyAssertion(authenticatorData, clientDataJson, _signature);

        if (!Raw_EcdsaP256Verify() || Passkey_VerifyAssertion() != PasskeyResult.Ok)
        {
            throw new InvalidOperationException("The assertion does not verify.");
        }
    }

    /// <summary>Frees the baseline's key.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => _raw?.Dispose();

    /// <summary><see cref="ECDsa.VerifyData(byte[], byte[], HashAlgorithmName, DSASignatureFormat)"/> of the DER signature over the precomputed signed bytes.</summary>
    /// <returns>True.</returns>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Verify")]
    public bool Raw_EcdsaP256Verify() => _raw!.VerifyData(_message, _signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary><see cref="PasskeyCredential.Verify"/> of the whole assertion.</summary>
    /// <returns><see cref="PasskeyResult.Ok"/>.</returns>
    [Benchmark]
    [BenchmarkCategory("Verify")]
    public PasskeyResult Passkey_VerifyAssertion() => _credential!.Verify(_assertion, _challenge, out _);
}
