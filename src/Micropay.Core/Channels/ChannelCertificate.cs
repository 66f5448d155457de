using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The ledger operator's signed statement that a channel was opened: its config, the deposit placed in escrow and when.
/// A payee holding only the ledger's public key can check it offline and then accept the channel's vouchers without
/// asking the ledger.
/// </summary>
/// <remarks>
/// <para>Wire format (version 1, exactly 272 bytes, little-endian), written and read field by field:</para>
/// <code>
/// offset size field
///      0    1 Version          1
///      1    7 Reserved         0
///      8    8 OpenedAt         ledger clock, nanoseconds; not 0
///     16   16 Deposit          the amount moved from the payer into escrow; not 0
///     32  176 Config           the ChannelConfig encoding (its rules apply)
///    208   64 Signature        Ed25519 by the ledger's key over
///                              DomainTags.ChannelCertificate || Config.InstanceId || bytes 0..207
/// </code>
/// <para>
/// The signed message binds the domain tag "micropay/channel-certificate/v1" (zero-padded to 32 bytes) and the instance
/// id of the embedded config, so neither a voucher signature nor a certificate from another ledger instance verifies
/// here. <see cref="Verify"/> checks the signature and nothing else: the payee must itself check that
/// <c>Config.InstanceId</c> is the ledger instance it expects, that <c>Config.PayeeAccountId</c> is its own account,
/// and that the deposit and the expiry suit it. A parse error in the embedded config is reported as the config's own
/// <see cref="ChannelFormatError"/>.
/// </para>
/// </remarks>
public sealed class ChannelCertificate : IEquatable<ChannelCertificate>
{
    /// <summary>The size of the encoding in bytes: 272.</summary>
    public const int Size = 272;

    /// <summary>The format version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    private const int ConfigOffset = 32;
    private const int SignedSize = ConfigOffset + ChannelConfig.EncodedSize;

    // The 272 bytes, signature included: the source of Encode, Verify and equality.
    private readonly byte[] _encoded;

    private ChannelCertificate(ChannelConfig config, UInt128 deposit, ulong openedAt, byte[] encoded)
    {
        Config = config;
        Deposit = deposit;
        OpenedAt = openedAt;
        _encoded = encoded;
    }

    /// <summary>The channel's config (and through it, its id).</summary>
    public ChannelConfig Config { get; }

    /// <summary>The amount placed in escrow at open, in the ledger's smallest unit. Never 0.</summary>
    public UInt128 Deposit { get; }

    /// <summary>When the ledger applied the open, in nanoseconds of its clock. Never 0.</summary>
    public ulong OpenedAt { get; }

    /// <summary>Issues a certificate: the ledger operator signs the channel's config, deposit and opening time.</summary>
    /// <param name="ledgerKey">The ledger operator's signing key.</param>
    /// <param name="config">The channel's config.</param>
    /// <param name="deposit">The amount moved into escrow; not 0.</param>
    /// <param name="openedAt">When the open was applied, ledger clock nanoseconds; not 0.</param>
    /// <returns>The signed certificate.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ledgerKey"/> or <paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="deposit"/> or <paramref name="openedAt"/> is 0.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="ledgerKey"/> has been disposed.</exception>
    public static ChannelCertificate Issue(SigningKey ledgerKey, ChannelConfig config, UInt128 deposit, ulong openedAt)
    {
        ArgumentNullException.ThrowIfNull(ledgerKey);
        ArgumentNullException.ThrowIfNull(config);
        if (openedAt == 0)
        {
            ThrowHelper.ThrowArgumentException_Field(nameof(openedAt), ChannelFormatError.ZeroOpenedAt);
        }

        if (deposit == UInt128.Zero)
        {
            ThrowHelper.ThrowArgumentException_Field(nameof(deposit), ChannelFormatError.ZeroDeposit);
        }

        byte[] encoded = new byte[Size];
        encoded[0] = CurrentVersion;
        BinaryPrimitives.WriteUInt64LittleEndian(encoded.AsSpan(8), openedAt);
        BinaryPrimitives.WriteUInt128LittleEndian(encoded.AsSpan(16), deposit);
        config.Encoded.CopyTo(encoded.AsSpan(ConfigOffset));
        SignedMessage.Sign(ledgerKey, DomainTags.ChannelCertificate, config.InstanceId, encoded.AsSpan(0, SignedSize), encoded.AsSpan(SignedSize));
        return new ChannelCertificate(config, deposit, openedAt, encoded);
    }

    /// <summary>
    /// Checks the ledger's signature, and nothing else (see the remarks for what the payee must check itself).
    /// Allocates nothing.
    /// </summary>
    /// <param name="ledgerKey">The ledger operator's verification key.</param>
    /// <returns>Whether <paramref name="ledgerKey"/> signed this certificate, for the instance its config names.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ledgerKey"/> is null.</exception>
    public bool Verify(VerificationKey ledgerKey)
    {
        ArgumentNullException.ThrowIfNull(ledgerKey);
        return SignedMessage.Verify(ledgerKey, DomainTags.ChannelCertificate, Config.InstanceId, _encoded.AsSpan(0, SignedSize), _encoded.AsSpan(SignedSize));
    }

    /// <summary>Copies the 64-byte signature into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least 64 bytes; the signature goes to the first 64.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 64 bytes.</exception>
    public void CopySignatureTo(Span<byte> destination)
    {
        if (destination.Length < VerificationKey.SignatureSize)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), VerificationKey.SignatureSize);
        }

        _encoded.AsSpan(SignedSize).CopyTo(destination);
    }

    /// <summary>Writes the 272-byte wire format (the byte table in the remarks).</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes; the certificate goes to the first 272.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/> bytes.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), Size);
        }

        _encoded.CopyTo(destination);
    }

    /// <summary>Writes the 272-byte wire format, if it fits.</summary>
    /// <param name="destination">Receives the certificate in its first <see cref="Size"/> bytes.</param>
    /// <param name="written"><see cref="Size"/> on success; 0 otherwise.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough; nothing is written when it was not.</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        if (destination.Length < Size)
        {
            written = 0;
            return false;
        }

        _encoded.CopyTo(destination);
        written = Size;
        return true;
    }

    /// <summary>
    /// Reads a certificate from its wire format, checking every rule of the byte table and of the embedded config (not
    /// the signature: see <see cref="Verify"/>). Never throws.
    /// </summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="certificate">The certificate, when the result is true; otherwise null.</param>
    /// <param name="error">
    /// The first rule the bytes break, in this order: length, version, reserved bytes, opening time, deposit, then the
    /// config's rules; or <see cref="ChannelFormatError.None"/>.
    /// </param>
    /// <returns>Whether <paramref name="source"/> is a well-formed version-1 certificate.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, [NotNullWhen(true)] out ChannelCertificate? certificate, out ChannelFormatError error)
    {
        certificate = null;
        if (source.Length != Size)
        {
            error = ChannelFormatError.WrongLength;
            return false;
        }

        if (source[0] != CurrentVersion)
        {
            error = ChannelFormatError.UnknownVersion;
            return false;
        }

        if (source[1..8].IndexOfAnyExcept((byte)0) >= 0)
        {
            error = ChannelFormatError.ReservedNotZero;
            return false;
        }

        ulong openedAt = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        if (openedAt == 0)
        {
            error = ChannelFormatError.ZeroOpenedAt;
            return false;
        }

        UInt128 deposit = BinaryPrimitives.ReadUInt128LittleEndian(source[16..]);
        if (deposit == UInt128.Zero)
        {
            error = ChannelFormatError.ZeroDeposit;
            return false;
        }

        if (!ChannelConfig.TryParse(source.Slice(ConfigOffset, ChannelConfig.EncodedSize), out ChannelConfig? config, out error))
        {
            return false;
        }

        certificate = new ChannelCertificate(config, deposit, openedAt, source.ToArray());
        return true;
    }

    /// <inheritdoc />
    public bool Equals([NotNullWhen(true)] ChannelCertificate? other) =>
        other is not null && _encoded.AsSpan().SequenceEqual(other._encoded);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is ChannelCertificate other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Config.Id, Deposit, OpenedAt);

    /// <summary>Compares two certificates by their encodings (signature included); two nulls are equal.</summary>
    /// <param name="left">A certificate or null.</param>
    /// <param name="right">A certificate or null.</param>
    /// <returns>Whether both are null or both encode to the same bytes.</returns>
    public static bool operator ==(ChannelCertificate? left, ChannelCertificate? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two certificates by their encodings (signature included); two nulls are equal.</summary>
    /// <param name="left">A certificate or null.</param>
    /// <param name="right">A certificate or null.</param>
    /// <returns>Whether exactly one is null or they encode to different bytes.</returns>
    public static bool operator !=(ChannelCertificate? left, ChannelCertificate? right) => !(left == right);

    /// <summary>The channel id in hexadecimal, the deposit and the opening time.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() =>
        $"ChannelCertificate {{ Channel = {Config.Id:x32}, Instance = {Config.InstanceId:x32}, Deposit = {Deposit}, OpenedAt = {OpenedAt} }}";

    /// <summary>
    /// Why an offline payee must not trust <paramref name="certificate"/>, or null when it may: the signature verifies with
    /// the ledger's key, and the channel is on the expected instance, pays the payee and has the payee's mode. The payees'
    /// one check (<see cref="ChannelReceiver"/>, <see cref="TickVerifier"/>).
    /// </summary>
    internal static string? WhyNotTrusted(ChannelCertificate? certificate, VerificationKey? ledgerKey, UInt128 instanceId, UInt128 payeeAccountId, ChannelMode mode) =>
        certificate is null || ledgerKey is null ? "A certificate and the ledger's key are required."
            : !certificate.Verify(ledgerKey) ? "The certificate's signature does not verify with the ledger's key."
            : certificate.Config.InstanceId != instanceId ? "The certificate is for another ledger instance."
            : certificate.Config.PayeeAccountId != payeeAccountId ? "The channel pays another account."
            : certificate.Config.Mode == mode ? null
            : mode == ChannelMode.Cumulative ? "The channel is a hash-chain channel: accept its ticks with a TickVerifier."
            : "The channel is a cumulative channel: accept its vouchers with a ChannelReceiver.";
}
