using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// A cumulative voucher: the payer's signed statement that, on one lane of one channel, it owes the payee
/// <see cref="CumulativeAmount"/> in total. Each voucher supersedes the lane's earlier ones, so the payee only ever
/// redeems the newest.
/// </summary>
/// <remarks>
/// <para>Wire format (version 1, exactly 128 bytes, little-endian), written and read field by field:</para>
/// <code>
/// offset size field
///      0    1 Version          1
///      1    1 Kind             1 = cumulative voucher (other values refused: UnknownKind)
///      2    2 Reserved         0
///      4    4 Lane             any value; lanes are independent streams of one channel
///      8    8 Sequence         >= 1, strictly increasing per lane
///     16   16 ChannelId        not 0
///     32   16 CumulativeAmount total the payer owes on this lane, not 0
///     48    8 ValidUntil       ledger clock, nanoseconds; the voucher cannot be redeemed after it; not 0
///     56    8 Reserved         0
///     64   64 Signature        Ed25519 over DomainTags.Voucher || InstanceId || bytes 0..63
/// </code>
/// <para>
/// The signature covers the domain tag "micropay/voucher/v1" (zero-padded to 32 bytes), the ledger instance id (16 bytes,
/// little-endian) and the first 64 bytes of the encoding, version, kind and reserved bytes included: a voucher can be
/// verified only for the instance it was signed for, and no signature made for another purpose verifies as a voucher.
/// </para>
/// <para>
/// Parsing checks the format (<see cref="TryParse"/>), <see cref="Verify"/> the signature; the payee's other checks
/// (sequence and amount above the lane's last, total within the deposit, not expired, key not revoked) need state and
/// are not this type's. Deduplicate vouchers on (channel, lane, sequence), never on signature bytes.
/// </para>
/// <para>
/// The signature is stored inline: encoding, parsing and verifying allocate nothing. <c>default(Voucher)</c> is not a
/// valid voucher: it never verifies, and its encoding is refused by <see cref="TryParse"/>.
/// </para>
/// </remarks>
public readonly struct Voucher : IEquatable<Voucher>
{
    /// <summary>The size of the encoding in bytes: 128.</summary>
    public const int Size = 128;

    /// <summary>The format version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The kind byte of a cumulative voucher: 1.</summary>
    public const byte CumulativeKind = 1;

    /// <summary>The number of leading encoded bytes the signature covers (after the tag and instance id): 64.</summary>
    internal const int SignedSize = 64;

    private readonly UInt128 _channelId;
    private readonly UInt128 _cumulativeAmount;
    private readonly ulong _sequence;
    private readonly ulong _validUntil;
    private readonly uint _lane;
    private readonly SignatureBuffer _signature;

    private Voucher(uint lane, ulong sequence, UInt128 channelId, UInt128 cumulativeAmount, ulong validUntil, ReadOnlySpan<byte> signature)
    {
        _lane = lane;
        _sequence = sequence;
        _channelId = channelId;
        _cumulativeAmount = cumulativeAmount;
        _validUntil = validUntil;
        signature.CopyTo(_signature);
    }

    /// <summary>The lane: an independent stream of vouchers within the channel, with its own sequence and amount.</summary>
    public uint Lane => _lane;

    /// <summary>The voucher's number on its lane: at least 1, and higher than every earlier voucher of the lane.</summary>
    public ulong Sequence => _sequence;

    /// <summary>The channel (<see cref="ChannelConfig.Id"/>) the voucher draws on.</summary>
    public UInt128 ChannelId => _channelId;

    /// <summary>The total the payer owes the payee on this lane, in the ledger's smallest unit.</summary>
    public UInt128 CumulativeAmount => _cumulativeAmount;

    /// <summary>The last moment (ledger clock, nanoseconds) at which the voucher may be redeemed.</summary>
    public ulong ValidUntil => _validUntil;

    /// <summary>Creates and signs a voucher. Allocates nothing.</summary>
    /// <param name="payerKey">The payer's signing key (the channel's <see cref="ChannelConfig.PayerKey"/>).</param>
    /// <param name="instanceId">The ledger instance the channel lives on; not 0.</param>
    /// <param name="channelId">The channel; not 0.</param>
    /// <param name="lane">The lane.</param>
    /// <param name="sequence">The voucher's number on the lane; at least 1.</param>
    /// <param name="cumulativeAmount">The lane's total so far; not 0.</param>
    /// <param name="validUntil">The last moment the voucher may be redeemed, ledger clock nanoseconds; not 0.</param>
    /// <returns>The signed voucher.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payerKey"/> is null.</exception>
    /// <exception cref="ArgumentException">A field is 0; the exception names it.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="payerKey"/> has been disposed.</exception>
    public static Voucher Sign(SigningKey payerKey, UInt128 instanceId, UInt128 channelId, uint lane, ulong sequence, UInt128 cumulativeAmount, ulong validUntil)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        if (instanceId == UInt128.Zero)
        {
            ThrowHelper.ThrowArgumentException_Field(nameof(instanceId), ChannelFormatError.ZeroInstanceId);
        }

        ChannelFormatError error = CheckFields(sequence, channelId, cumulativeAmount, validUntil, out string parameter);
        if (error != ChannelFormatError.None)
        {
            ThrowHelper.ThrowArgumentException_Field(parameter, error);
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(body, lane, sequence, channelId, cumulativeAmount, validUntil);
        Span<byte> signature = stackalloc byte[VerificationKey.SignatureSize];
        SignedMessage.Sign(payerKey, DomainTags.Voucher, instanceId, body, signature);
        return new Voucher(lane, sequence, channelId, cumulativeAmount, validUntil, signature);
    }

    /// <summary>
    /// Checks the signature: that <paramref name="payerKey"/> signed exactly these fields for ledger instance
    /// <paramref name="instanceId"/> (libsodium's strict Ed25519 rules, see <see cref="VerificationKey"/>). Allocates nothing.
    /// </summary>
    /// <param name="payerKey">The channel's payer key.</param>
    /// <param name="instanceId">The ledger instance the verifier is on.</param>
    /// <returns>Whether the signature is valid. Always false for <c>default(Voucher)</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payerKey"/> is null.</exception>
    public bool Verify(VerificationKey payerKey, UInt128 instanceId)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        if (_sequence == 0)
        {
            // Only default(Voucher) has sequence 0: Sign and TryParse refuse it.
            return false;
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteSignedBody(body);
        return SignedMessage.Verify(payerKey, DomainTags.Voucher, instanceId, body, _signature);
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

        ((ReadOnlySpan<byte>)_signature).CopyTo(destination);
    }

    /// <summary>Writes the 128-byte wire format (the byte table in the remarks). Allocates nothing.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes; the voucher goes to the first 128.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/> bytes.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), Size);
        }

        Write(destination);
    }

    /// <summary>Writes the 128-byte wire format, if it fits. Allocates nothing.</summary>
    /// <param name="destination">Receives the voucher in its first <see cref="Size"/> bytes.</param>
    /// <param name="written"><see cref="Size"/> on success; 0 otherwise.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough; nothing is written when it was not.</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        if (destination.Length < Size)
        {
            written = 0;
            return false;
        }

        Write(destination);
        written = Size;
        return true;
    }

    /// <summary>
    /// Reads a voucher from its wire format, checking every rule of the byte table (not the signature: see
    /// <see cref="Verify"/>). Never throws; allocates nothing.
    /// </summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="voucher">The voucher, when the result is true; otherwise default.</param>
    /// <param name="error">
    /// The first rule the bytes break, in this order: length, version, kind, reserved bytes, sequence, channel id,
    /// amount, valid-until; or <see cref="ChannelFormatError.None"/>.
    /// </param>
    /// <returns>Whether <paramref name="source"/> is a well-formed version-1 cumulative voucher.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out Voucher voucher, out ChannelFormatError error)
    {
        voucher = default;
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

        if (source[1] != CumulativeKind)
        {
            error = ChannelFormatError.UnknownKind;
            return false;
        }

        if (source[2] != 0 || source[3] != 0 || BinaryPrimitives.ReadUInt64LittleEndian(source[56..]) != 0)
        {
            error = ChannelFormatError.ReservedNotZero;
            return false;
        }

        uint lane = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        UInt128 channelId = BinaryPrimitives.ReadUInt128LittleEndian(source[16..]);
        UInt128 cumulativeAmount = BinaryPrimitives.ReadUInt128LittleEndian(source[32..]);
        ulong validUntil = BinaryPrimitives.ReadUInt64LittleEndian(source[48..]);
        error = CheckFields(sequence, channelId, cumulativeAmount, validUntil, out _);
        if (error != ChannelFormatError.None)
        {
            return false;
        }

        voucher = new Voucher(lane, sequence, channelId, cumulativeAmount, validUntil, source.Slice(SignedSize, VerificationKey.SignatureSize));
        return true;
    }

    /// <summary>Writes the bytes the signature covers (bytes 0..63 of the wire format) into the first 64 bytes of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteSignedBody(Span<byte> destination) =>
        WriteBody(destination, _lane, _sequence, _channelId, _cumulativeAmount, _validUntil);

    /// <inheritdoc />
    public bool Equals(Voucher other) =>
        _lane == other._lane && _sequence == other._sequence && _channelId == other._channelId &&
        _cumulativeAmount == other._cumulativeAmount && _validUntil == other._validUntil &&
        ((ReadOnlySpan<byte>)_signature).SequenceEqual(other._signature);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Voucher other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_channelId, _lane, _sequence, _cumulativeAmount);

    /// <summary>Compares two vouchers field by field, signature included.</summary>
    /// <param name="left">A voucher.</param>
    /// <param name="right">A voucher.</param>
    /// <returns>Whether every field and every signature byte are equal.</returns>
    public static bool operator ==(Voucher left, Voucher right) => left.Equals(right);

    /// <summary>Compares two vouchers field by field, signature included.</summary>
    /// <param name="left">A voucher.</param>
    /// <param name="right">A voucher.</param>
    /// <returns>Whether any field or signature byte differs.</returns>
    public static bool operator !=(Voucher left, Voucher right) => !left.Equals(right);

    /// <summary>The voucher's fields (the channel id in hexadecimal); not the signature.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() =>
        $"Voucher {{ Channel = {_channelId:x32}, Lane = {_lane}, Sequence = {_sequence}, CumulativeAmount = {_cumulativeAmount}, ValidUntil = {_validUntil} }}";

    // Sequence, channel, amount and valid-until, in table order; parameter names the Sign parameter that breaks a rule.
    private static ChannelFormatError CheckFields(ulong sequence, UInt128 channelId, UInt128 cumulativeAmount, ulong validUntil, out string parameter)
    {
        if (sequence == 0)
        {
            parameter = nameof(sequence);
            return ChannelFormatError.ZeroSequence;
        }

        if (channelId == UInt128.Zero)
        {
            parameter = nameof(channelId);
            return ChannelFormatError.ZeroChannelId;
        }

        if (cumulativeAmount == UInt128.Zero)
        {
            parameter = nameof(cumulativeAmount);
            return ChannelFormatError.ZeroAmount;
        }

        if (validUntil == 0)
        {
            parameter = nameof(validUntil);
            return ChannelFormatError.ZeroValidUntil;
        }

        parameter = string.Empty;
        return ChannelFormatError.None;
    }

    private void Write(Span<byte> destination)
    {
        Span<byte> d = destination[..Size];
        WriteSignedBody(d);
        ((ReadOnlySpan<byte>)_signature).CopyTo(d[SignedSize..]);
    }

    // Bytes 0..63, the signed part; the caller guarantees 64 bytes.
    private static void WriteBody(Span<byte> destination, uint lane, ulong sequence, UInt128 channelId, UInt128 cumulativeAmount, ulong validUntil)
    {
        Span<byte> d = destination[..SignedSize];
        d[0] = CurrentVersion;
        d[1] = CumulativeKind;
        d[2] = 0;
        d[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], lane);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], sequence);
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], channelId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[32..], cumulativeAmount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[48..], validUntil);
        BinaryPrimitives.WriteUInt64LittleEndian(d[56..], 0UL);
    }
}
