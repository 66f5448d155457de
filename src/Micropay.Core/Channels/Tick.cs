using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Micropay.Core.Channels;

/// <summary>
/// A hash-chain payment (PayWord): the payer reveals the chain's word at an index; anyone holding the channel's root, or a
/// word at a lower index, checks it with hashes alone. No signature: the channel's open signed the root.
/// </summary>
/// <remarks>
/// <para>Wire format v1 (exactly 64 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0    1 Version     1
///      1    1 Kind        2 = hash-chain tick
///      2    2 Reserved    0
///      4    4 Index       i, 1..n: the number of units paid in total
///      8   16 ChannelId   not 0
///     24   32 Word        w_i: BLAKE2b-256 applied i times to it gives the root w_0
///     56    8 Reserved    0
/// </code>
/// <para>Chain: the payer picks a secret seed w_n and a length n; w_(i-1) = BLAKE2b-256(w_i); the root w_0 = H^n(seed) is in
/// the channel config. Revealing w_i pays i units in total (see <see cref="HashChain"/>).</para>
/// </remarks>
public readonly struct Tick : IEquatable<Tick>
{
    /// <summary>The encoded size: 64 bytes.</summary>
    public const int Size = 64;

    /// <summary>The format version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The kind byte of a hash-chain tick: 2 (1 is a cumulative voucher).</summary>
    public const byte HashChainKind = 2;

    private readonly WordBuffer _word;

    /// <summary>Creates a tick.</summary>
    /// <param name="channelId">The channel; not 0.</param>
    /// <param name="index">The index; not 0.</param>
    /// <param name="word">The 32-byte word at that index.</param>
    /// <exception cref="ArgumentException">A zero index or channel, or a word not 32 bytes long.</exception>
    public Tick(UInt128 channelId, uint index, ReadOnlySpan<byte> word)
    {
        ArgumentOutOfRangeException.ThrowIfZero(channelId);
        ArgumentOutOfRangeException.ThrowIfZero(index);
        if (word.Length != WordBuffer.Length)
        {
            throw new ArgumentException("A tick's word is 32 bytes.", nameof(word));
        }

        ChannelId = channelId;
        Index = index;
        word.CopyTo(_word);
    }

    /// <summary>The channel.</summary>
    public UInt128 ChannelId { get; }

    /// <summary>The index: the total number of units this tick pays.</summary>
    public uint Index { get; }

    /// <summary>Copies the 32-byte word.</summary>
    /// <param name="destination">At least 32 bytes.</param>
    public void CopyWordTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_word).CopyTo(destination);

    /// <summary>Writes the 64-byte encoding.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (!TryEncode(destination, out _))
        {
            throw new ArgumentException($"A tick takes {Size} bytes.", nameof(destination));
        }
    }

    /// <summary>Writes the 64-byte encoding if it fits.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="written"><see cref="Size"/>, or 0.</param>
    /// <returns>Whether it fit.</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        written = 0;
        if (destination.Length < Size)
        {
            return false;
        }

        destination[..Size].Clear();
        destination[0] = CurrentVersion;
        destination[1] = HashChainKind;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Index);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[8..], ChannelId);
        ((ReadOnlySpan<byte>)_word).CopyTo(destination[24..]);
        written = Size;
        return true;
    }

    /// <summary>Reads a tick; never throws. The word is not checked here (see <see cref="HashChain.Verify"/>).</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="tick">The tick, or default.</param>
    /// <param name="error">What is wrong, or <see cref="TickFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed tick.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out Tick tick, out TickFormatError error)
    {
        tick = default;
        error = source.Length != Size ? TickFormatError.WrongLength
            : source[0] != CurrentVersion ? TickFormatError.UnknownVersion
            : source[1] != HashChainKind ? TickFormatError.UnknownKind
            : source[2..4].ContainsAnyExcept((byte)0) || source[56..Size].ContainsAnyExcept((byte)0) ? TickFormatError.ReservedNotZero
            : BinaryPrimitives.ReadUInt32LittleEndian(source[4..]) == 0 ? TickFormatError.ZeroIndex
            : BinaryPrimitives.ReadUInt128LittleEndian(source[8..]) == UInt128.Zero ? TickFormatError.ZeroChannelId
            : TickFormatError.None;
        if (error != TickFormatError.None)
        {
            return false;
        }

        tick = new Tick(BinaryPrimitives.ReadUInt128LittleEndian(source[8..]), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]), source.Slice(24, WordBuffer.Length));
        return true;
    }

    /// <inheritdoc />
    public bool Equals(Tick other) =>
        ChannelId == other.ChannelId && Index == other.Index && ((ReadOnlySpan<byte>)_word).SequenceEqual(other._word);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Tick other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ChannelId, Index);

    /// <inheritdoc />
    public override string ToString() => $"Tick(channel {ChannelId:X32}, index {Index})";

    /// <summary>Tests equality.</summary>
    public static bool operator ==(Tick left, Tick right) => left.Equals(right);

    /// <summary>Tests inequality.</summary>
    public static bool operator !=(Tick left, Tick right) => !left.Equals(right);

    [InlineArray(Length)]
    private struct WordBuffer
    {
        public const int Length = 32;

        private byte _element;
    }
}
