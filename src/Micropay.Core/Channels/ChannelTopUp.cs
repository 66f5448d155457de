using System.Buffers.Binary;

namespace Micropay.Core.Channels;

/// <summary>
/// More deposit for an open channel: a transfer from the channel's payer into its escrow, with an id the caller
/// chooses (so a retry is idempotent, as for transfers).
/// </summary>
/// <remarks>
/// <para>Journal record (128 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0   16 TransferId  the top-up transfer's id: not 0, not in the reserved range
///     16   16 ChannelId   the channel
///     32   16 Amount      not 0
///     48   80 Reserved    0
/// </code>
/// <para>A top-up moves the payer's money like a transfer does; the engine's caller authorises it as it authorises
/// transfers (with identity and spending policies, a signed order will).</para>
/// </remarks>
/// <param name="TransferId">The top-up transfer's id.</param>
/// <param name="ChannelId">The channel.</param>
/// <param name="Amount">The amount added to the deposit.</param>
public readonly record struct ChannelTopUp(UInt128 TransferId, UInt128 ChannelId, UInt128 Amount)
{
    /// <summary>The encoded size: 128 bytes.</summary>
    public const int Size = 128;

    /// <summary>Writes the 128-byte record.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A channel top-up takes {Size} bytes.", nameof(destination));
        }

        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt128LittleEndian(destination, TransferId);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[16..], ChannelId);
        BinaryPrimitives.WriteUInt128LittleEndian(destination[32..], Amount);
    }

    /// <summary>Reads a record; never throws.</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="topUp">The top-up, or default.</param>
    /// <param name="error">What is wrong, or <see cref="ChannelFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed record (the ledger checks the values themselves).</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out ChannelTopUp topUp, out ChannelFormatError error)
    {
        topUp = default;
        if (source.Length != Size)
        {
            error = ChannelFormatError.WrongLength;
            return false;
        }

        if (source[48..].ContainsAnyExcept((byte)0))
        {
            error = ChannelFormatError.ReservedNotZero;
            return false;
        }

        topUp = new ChannelTopUp(
            BinaryPrimitives.ReadUInt128LittleEndian(source),
            BinaryPrimitives.ReadUInt128LittleEndian(source[16..]),
            BinaryPrimitives.ReadUInt128LittleEndian(source[32..]));
        error = ChannelFormatError.None;
        return true;
    }
}
