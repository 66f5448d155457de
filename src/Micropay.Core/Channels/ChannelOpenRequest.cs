using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;

namespace Micropay.Core.Channels;

/// <summary>
/// A payer's signed request to open a channel: the channel's config and the deposit, signed with the payer key the
/// config names. Opening creates the escrow account (whose id is the channel id) and moves the deposit from the payer
/// to it, as one operation.
/// </summary>
/// <remarks>
/// <para>Wire format and journal record (256 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0  176 Config      the channel config (ChannelConfig's encoding, which starts with its version)
///    176   16 Deposit     not 0
///    192   64 Signature   Ed25519 by Config.PayerKey over "micropay/channel-open/v1" (32 bytes, zero-padded)
///                         || Config.InstanceId || bytes 0..191
///    256  832 CoSignature only in the co-signed record (1088 bytes): CoSignature's encoding (all zeros: none)
/// </code>
/// <para>A payer key registered with a spending policy (<c>Micropay.Core.Identity</c>) needs a step-up
/// <see cref="CoSignature"/> for a deposit above its threshold: a second key of the account co-signs the same message.</para>
/// <para>The signature proves that the holder of the payer key agreed to this config and deposit, so nobody can open a
/// channel that names someone else's key. The ledger checks it before the request is queued.</para>
/// </remarks>
public readonly struct ChannelOpenRequest : IEquatable<ChannelOpenRequest>
{
    /// <summary>The encoded size: 256 bytes.</summary>
    public const int Size = 256;

    /// <summary>The encoded size with a co-signature: 1088 bytes.</summary>
    public const int CoSignedSize = Size + CoSignature.Size;

    private const int SignedSize = ChannelConfig.EncodedSize + 16;
    private const int SignatureSize = 64;

    private readonly byte[]? _signature;

    private ChannelOpenRequest(ChannelConfig config, UInt128 deposit, byte[] signature, CoSignature? coSignature = null)
    {
        Config = config;
        Deposit = deposit;
        _signature = signature;
        CoSignature = coSignature;
    }

    /// <summary>The step-up co-signature by a second key of the payer's account, or null.</summary>
    public CoSignature? CoSignature { get; }

    /// <summary>The encoded size: <see cref="Size"/>, or <see cref="CoSignedSize"/> with a co-signature.</summary>
    public int EncodedSize => CoSignature is null ? Size : CoSignedSize;

    /// <summary>The channel's config (null only for a default value).</summary>
    public ChannelConfig Config { get; }

    /// <summary>The deposit moved from the payer into the channel's escrow.</summary>
    public UInt128 Deposit { get; }

    /// <summary>The channel's id (<see cref="ChannelConfig.Id"/>).</summary>
    public UInt128 ChannelId => Config?.Id ?? UInt128.Zero;

    /// <summary>Signs a request with the payer's key.</summary>
    /// <param name="payerKey">The signing key whose verification key is <see cref="ChannelConfig.PayerKey"/>.</param>
    /// <param name="config">The channel's config.</param>
    /// <param name="deposit">The deposit; not 0.</param>
    /// <returns>The signed request.</returns>
    /// <exception cref="ArgumentException"><paramref name="payerKey"/> is not the config's payer key, or the deposit is 0.</exception>
    public static ChannelOpenRequest Sign(SigningKey payerKey, ChannelConfig config, UInt128 deposit)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        ArgumentNullException.ThrowIfNull(config);
        if (!payerKey.VerificationKey.Equals(config.PayerKey))
        {
            throw new ArgumentException("The key is not the payer key the channel config names.", nameof(payerKey));
        }

        if (deposit == UInt128.Zero)
        {
            throw new ArgumentException("A channel's deposit is not 0.", nameof(deposit));
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(config, deposit, body);
        byte[] signature = new byte[SignatureSize];
        SignedMessage.Sign(payerKey, DomainTags.ChannelOpen, config.InstanceId, body, signature);
        return new ChannelOpenRequest(config, deposit, signature);
    }

    /// <summary>Whether the signature verifies with the config's payer key and instance id.</summary>
    /// <returns>True when it does; false for a default value.</returns>
    public bool Verify()
    {
        if (Config is null || _signature is null)
        {
            return false;
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(Config, Deposit, body);
        return SignedMessage.Verify(Config.PayerKey, DomainTags.ChannelOpen, Config.InstanceId, body, _signature);
    }

    /// <summary>This request with a step-up co-signature attached (see <see cref="Identity.CoSignature.SignEd25519(SigningKey, ChannelOpenRequest)"/>).</summary>
    /// <param name="coSignature">The co-signature, or null to remove one.</param>
    /// <returns>The request.</returns>
    /// <exception cref="InvalidOperationException">This is a default value.</exception>
    public ChannelOpenRequest WithCoSignature(CoSignature? coSignature) =>
        Config is null || _signature is null
            ? throw new InvalidOperationException("A default ChannelOpenRequest cannot be co-signed.")
            : new ChannelOpenRequest(Config, Deposit, _signature, coSignature);

    /// <summary>The challenge a passkey signs to co-sign this open: SHA-256 of the signed message.</summary>
    /// <param name="destination">At least 32 bytes.</param>
    /// <exception cref="InvalidOperationException">This is a default value.</exception>
    public void ComputeChallenge(Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + SignedSize];
        SHA256.HashData(AssembleMessage(buffer), destination);
    }

    /// <summary>Assembles the signed message (tag, instance, bytes 0..191) into <paramref name="buffer"/>.</summary>
    internal Span<byte> AssembleMessage(Span<byte> buffer)
    {
        if (Config is null)
        {
            throw new InvalidOperationException("A default ChannelOpenRequest has no signed message.");
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(Config, Deposit, body);
        return SignedMessage.Assemble(buffer, DomainTags.ChannelOpen, Config.InstanceId, body);
    }

    /// <summary>Writes the record at <paramref name="recordSize"/>: 256 (no co-signature) or 1088 (with or without one).</summary>
    internal void EncodeRecord(Span<byte> destination, int recordSize)
    {
        if (recordSize == Size && CoSignature is not null)
        {
            throw new ArgumentException("A co-signed open takes the 1088-byte record.", nameof(recordSize));
        }

        Encode(destination[..Size]);
        if (recordSize == CoSignedSize)
        {
            if (CoSignature is { } coSignature)
            {
                coSignature.Encode(destination[Size..CoSignedSize]);
            }
            else
            {
                destination[Size..CoSignedSize].Clear();
            }
        }
    }

    /// <summary>Reads a 1088-byte co-signed record (the co-signature part may be all zeros: none). Never throws.</summary>
    internal static bool TryParseCoSigned(ReadOnlySpan<byte> source, out ChannelOpenRequest request, out string? error)
    {
        request = default;
        if (source.Length != CoSignedSize)
        {
            error = ChannelFormatError.WrongLength.ToString();
            return false;
        }

        if (!TryParse(source[..Size], out ChannelOpenRequest plain, out ChannelFormatError reason))
        {
            error = reason.ToString();
            return false;
        }

        if (!CoSignature.TryParse(source[Size..], out CoSignature? coSignature, out IdentityFormatError coError))
        {
            error = "co-signature: " + coError;
            return false;
        }

        request = plain.WithCoSignature(coSignature);
        error = null;
        return true;
    }

    /// <summary>Copies the 64-byte signature.</summary>
    /// <param name="destination">At least 64 bytes.</param>
    public void CopySignatureTo(Span<byte> destination) => (_signature ?? new byte[SignatureSize]).CopyTo(destination);

    /// <summary>Writes the 256-byte encoding.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidOperationException">This is a default value.</exception>
    public void Encode(Span<byte> destination)
    {
        if (!TryEncode(destination, out _))
        {
            if (Config is null)
            {
                throw new InvalidOperationException("A default ChannelOpenRequest has nothing to encode.");
            }

            throw new ArgumentException($"A channel open request takes {Size} bytes.", nameof(destination));
        }
    }

    /// <summary>Writes the 256-byte encoding if it fits.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="written"><see cref="Size"/>, or 0 when it did not fit.</param>
    /// <returns>Whether it was written (false for a default value too).</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        written = 0;
        if (destination.Length < Size || Config is null || _signature is null)
        {
            return false;
        }

        WriteBody(Config, Deposit, destination);
        _signature.CopyTo(destination[SignedSize..]);
        written = Size;
        return true;
    }

    /// <summary>Reads a request; never throws. The signature is not checked here (see <see cref="Verify"/>).</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="request">The request, or default.</param>
    /// <param name="error">What is wrong, or <see cref="ChannelFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed request.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out ChannelOpenRequest request, out ChannelFormatError error)
    {
        request = default;
        if (source.Length != Size)
        {
            error = ChannelFormatError.WrongLength;
            return false;
        }

        if (!ChannelConfig.TryParse(source[..ChannelConfig.EncodedSize], out ChannelConfig? config, out error))
        {
            return false;
        }

        UInt128 deposit = BinaryPrimitives.ReadUInt128LittleEndian(source[ChannelConfig.EncodedSize..]);
        if (deposit == UInt128.Zero)
        {
            error = ChannelFormatError.ZeroAmount;
            return false;
        }

        request = new ChannelOpenRequest(config, deposit, source.Slice(SignedSize, SignatureSize).ToArray());
        error = ChannelFormatError.None;
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ChannelOpenRequest other) =>
        Equals(Config, other.Config) && Deposit == other.Deposit &&
        (_signature ?? []).AsSpan().SequenceEqual(other._signature ?? []) && Equals(CoSignature, other.CoSignature);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ChannelOpenRequest other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Config, Deposit);

    /// <inheritdoc />
    public override string ToString() => $"ChannelOpenRequest(channel {ChannelId:X32}, deposit {Deposit})";

    /// <summary>Tests equality.</summary>
    public static bool operator ==(ChannelOpenRequest left, ChannelOpenRequest right) => left.Equals(right);

    /// <summary>Tests inequality.</summary>
    public static bool operator !=(ChannelOpenRequest left, ChannelOpenRequest right) => !left.Equals(right);

    private static void WriteBody(ChannelConfig config, UInt128 deposit, Span<byte> destination)
    {
        config.Encode(destination);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[ChannelConfig.EncodedSize..], deposit);
    }
}
