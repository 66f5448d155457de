using System.Buffers.Binary;
using NSec.Cryptography;

namespace Micropay.Core.Benchmarks.Baselines;

/// <summary>
/// What a user would write instead of <see cref="Channels.Voucher.Sign"/> and <see cref="Channels.Voucher.Verify"/>:
/// NSec's Ed25519 called directly on a message the caller has already assembled, the same 112 bytes the library signs.
/// </summary>
/// <remarks>
/// <para>The message, as <c>Crypto/SignedMessage</c> lays it out:</para>
/// <code>
/// offset size field
///      0   32 domain tag   "micropay/voucher/v1", zero-padded
///     32   16 instance id  UInt128, little-endian
///     48   64 voucher      bytes 0..63 of the voucher's wire format (everything but the signature)
/// </code>
/// <para>
/// The baseline does only the Ed25519 call: no field checks, no message assembly, no key wrapper. What the library adds
/// on top (assembling the message on the stack from the voucher's fields, the key wrapper's checks) is the difference.
/// </para>
/// </remarks>
public sealed class RawEd25519Voucher : IDisposable
{
    /// <summary>The length of the signed message: 32 + 16 + 64 = 112 bytes.</summary>
    public const int MessageSize = 112;

    private readonly Key _key;
    private readonly PublicKey _publicKey;
    private readonly byte[] _message = new byte[MessageSize];

    /// <summary>Imports the payer's 32-byte seed into NSec and assembles the message of one voucher.</summary>
    /// <param name="seed">The payer's RFC 8032 private key (32 bytes).</param>
    /// <param name="instanceId">The ledger instance the voucher is signed for.</param>
    /// <param name="encodedVoucher">The voucher's 128-byte wire format; its first 64 bytes are signed.</param>
    public RawEd25519Voucher(ReadOnlySpan<byte> seed, UInt128 instanceId, ReadOnlySpan<byte> encodedVoucher)
    {
        _key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        _publicKey = _key.PublicKey;
        "micropay/voucher/v1"u8.CopyTo(_message);
        BinaryPrimitives.WriteUInt128LittleEndian(_message.AsSpan(32), instanceId);
        encodedVoucher[..64].CopyTo(_message.AsSpan(48));
    }

    /// <summary>The assembled 112-byte message.</summary>
    public ReadOnlySpan<byte> Message => _message;

    /// <summary>Signs the message with NSec.</summary>
    /// <param name="signature">Receives the 64-byte signature.</param>
    public void Sign(Span<byte> signature) => SignatureAlgorithm.Ed25519.Sign(_key, _message, signature);

    /// <summary>Verifies a signature of the message with NSec.</summary>
    /// <param name="signature">The 64-byte signature.</param>
    /// <returns>Whether it verifies.</returns>
    public bool Verify(ReadOnlySpan<byte> signature) => SignatureAlgorithm.Ed25519.Verify(_publicKey, _message, signature);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}
