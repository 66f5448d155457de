using System.Buffers.Binary;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>A request to close a channel: cooperative (on the payee's behalf) or unilateral (the payer's, signed).</summary>
/// <remarks>
/// <para>Wire format and journal record (128 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0    1 Version     1
///      1    1 Kind        ChannelCloseKind: 1 cooperative, 2 unilateral
///      2    6 Reserved    0
///      8   16 ChannelId   not 0
///     24   40 Reserved    0
///     64   64 Signature   unilateral: Ed25519 by the channel's payer key over "micropay/channel-close/v1" (32 bytes,
///                         zero-padded) || instance id || bytes 0..63; cooperative: zeros
/// </code>
/// <para>A cooperative close carries no signature: it is the payee's decision, and the engine's caller vouches for the
/// payee as it does for a transfer's debit account. Closing is idempotent: a repeated close is refused with
/// <see cref="ChannelResult.ChannelClosing"/> or <see cref="ChannelResult.ChannelClosed"/> and changes nothing.</para>
/// </remarks>
public readonly struct ChannelClose : IEquatable<ChannelClose>
{
    /// <summary>The encoded size: 128 bytes.</summary>
    public const int Size = 128;

    private const byte Version = 1;
    private const int SignedSize = 64;

    private readonly byte[]? _signature;

    private ChannelClose(UInt128 channelId, ChannelCloseKind kind, byte[]? signature)
    {
        ChannelId = channelId;
        Kind = kind;
        _signature = signature;
    }

    /// <summary>The channel.</summary>
    public UInt128 ChannelId { get; }

    /// <summary>Cooperative or unilateral.</summary>
    public ChannelCloseKind Kind { get; }

    /// <summary>A cooperative close of <paramref name="channelId"/>.</summary>
    /// <param name="channelId">The channel; not 0.</param>
    /// <returns>The request.</returns>
    public static ChannelClose Cooperative(UInt128 channelId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(channelId);
        return new ChannelClose(channelId, ChannelCloseKind.Cooperative, null);
    }

    /// <summary>The payer's unilateral close, signed.</summary>
    /// <param name="payerKey">The channel's payer key.</param>
    /// <param name="instanceId">The ledger instance the channel lives on.</param>
    /// <param name="channelId">The channel; not 0.</param>
    /// <returns>The signed request.</returns>
    public static ChannelClose Unilateral(SigningKey payerKey, UInt128 instanceId, UInt128 channelId)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        ArgumentOutOfRangeException.ThrowIfZero(channelId);
        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(channelId, ChannelCloseKind.Unilateral, body);
        byte[] signature = new byte[64];
        SignedMessage.Sign(payerKey, DomainTags.ChannelClose, instanceId, body, signature);
        return new ChannelClose(channelId, ChannelCloseKind.Unilateral, signature);
    }

    /// <summary>Whether a unilateral close's signature verifies with the payer key and instance id (always true for a cooperative close).</summary>
    /// <param name="payerKey">The channel's payer key.</param>
    /// <param name="instanceId">The ledger instance.</param>
    /// <returns>Whether the close is authorised by its signature.</returns>
    public bool Verify(VerificationKey payerKey, UInt128 instanceId)
    {
        ArgumentNullException.ThrowIfNull(payerKey);
        if (Kind == ChannelCloseKind.Cooperative)
        {
            return true;
        }

        if (Kind != ChannelCloseKind.Unilateral || _signature is null)
        {
            return false;
        }

        Span<byte> body = stackalloc byte[SignedSize];
        WriteBody(ChannelId, Kind, body);
        return SignedMessage.Verify(payerKey, DomainTags.ChannelClose, instanceId, body, _signature);
    }

    /// <summary>Writes the 128-byte encoding.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A channel close takes {Size} bytes.", nameof(destination));
        }

        destination[..Size].Clear();
        WriteBody(ChannelId, Kind, destination);
        _signature?.CopyTo(destination[SignedSize..]);
    }

    /// <summary>Reads a close; never throws. The signature is not checked here (see <see cref="Verify"/>).</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="close">The close, or default.</param>
    /// <param name="error">What is wrong, or <see cref="ChannelFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed close.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out ChannelClose close, out ChannelFormatError error)
    {
        close = default;
        if (source.Length != Size)
        {
            error = ChannelFormatError.WrongLength;
            return false;
        }

        if (source[0] != Version)
        {
            error = ChannelFormatError.UnknownVersion;
            return false;
        }

        var kind = (ChannelCloseKind)source[1];
        if (kind is not (ChannelCloseKind.Cooperative or ChannelCloseKind.Unilateral))
        {
            error = ChannelFormatError.UnknownKind;
            return false;
        }

        if (source[2..8].ContainsAnyExcept((byte)0) || source[24..64].ContainsAnyExcept((byte)0) ||
            (kind == ChannelCloseKind.Cooperative && source[64..].ContainsAnyExcept((byte)0)))
        {
            error = ChannelFormatError.ReservedNotZero;
            return false;
        }

        UInt128 channelId = BinaryPrimitives.ReadUInt128LittleEndian(source[8..]);
        if (channelId == UInt128.Zero)
        {
            error = ChannelFormatError.ZeroChannelId;
            return false;
        }

        close = new ChannelClose(channelId, kind, kind == ChannelCloseKind.Unilateral ? source[64..].ToArray() : null);
        error = ChannelFormatError.None;
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ChannelClose other) =>
        ChannelId == other.ChannelId && Kind == other.Kind && (_signature ?? []).AsSpan().SequenceEqual(other._signature ?? []);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ChannelClose other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ChannelId, Kind);

    /// <inheritdoc />
    public override string ToString() => $"ChannelClose({Kind}, channel {ChannelId:X32})";

    /// <summary>Tests equality.</summary>
    public static bool operator ==(ChannelClose left, ChannelClose right) => left.Equals(right);

    /// <summary>Tests inequality.</summary>
    public static bool operator !=(ChannelClose left, ChannelClose right) => !left.Equals(right);

    private static void WriteBody(UInt128 channelId, ChannelCloseKind kind, Span<byte> destination)
    {
        destination[..SignedSize].Clear();
        destination[0] = Version;
        destination[1] = (byte)kind;
        BinaryPrimitives.WriteUInt128LittleEndian(destination[8..], channelId);
    }
}
