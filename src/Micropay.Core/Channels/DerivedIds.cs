using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Ledger;

namespace Micropay.Core.Channels;

/// <summary>
/// The transfer ids the ledger derives for a channel's money movements, in the reserved range
/// (<see cref="ReservedIds"/>), so no ordinary transfer can take one first.
/// </summary>
/// <remarks>
/// <para>Each id is <c>ReservedIds.FromHash(SHA-256(tag || fields))</c> with a 32-byte zero-padded ASCII tag per kind:</para>
/// <code>
/// kind                 tag                                 fields (little-endian)
/// deposit at open      "micropay/deposit-id/v1"            channel id (16)
/// voucher redemption   "micropay/redemption-id/v1"         channel id (16), lane (4), sequence (8)
/// tick redemption      "micropay/tick-redemption-id/v1"    channel id (16), index (4)
/// refund at close      "micropay/refund-id/v1"             channel id (16)
/// </code>
/// <para>A cryptographic hash, not a mix: the ids of one channel's redemptions are public, and a payer who could pick
/// salts (or lanes and sequences) whose redemption ids collide with another channel's could block its redemptions.
/// With 95 bits of SHA-256 that costs about 2^95 hashes.</para>
/// </remarks>
internal static class DerivedIds
{
    private const int TagSize = 32;

    private static ReadOnlySpan<byte> DepositTag => "micropay/deposit-id/v1\0\0\0\0\0\0\0\0\0\0"u8;

    private static ReadOnlySpan<byte> RedemptionTag => "micropay/redemption-id/v1\0\0\0\0\0\0\0"u8;

    private static ReadOnlySpan<byte> TickRedemptionTag => "micropay/tick-redemption-id/v1\0\0"u8;

    private static ReadOnlySpan<byte> RefundTag => "micropay/refund-id/v1\0\0\0\0\0\0\0\0\0\0\0"u8;

    /// <summary>The id of the deposit transfer a channel's open makes (payer to escrow).</summary>
    public static UInt128 Deposit(UInt128 channelId) => Derive(DepositTag, channelId, 0, 0, 0);

    /// <summary>The id of the transfer that redeems a voucher (escrow to payee).</summary>
    public static UInt128 Redemption(UInt128 channelId, uint lane, ulong sequence) => Derive(RedemptionTag, channelId, lane, sequence, 12);

    /// <summary>The id of the transfer that redeems a tick (escrow to payee).</summary>
    public static UInt128 TickRedemption(UInt128 channelId, uint index) => Derive(TickRedemptionTag, channelId, index, 0, 4);

    /// <summary>The id of the transfer that returns the rest of a channel's deposit to the payer when it closes.</summary>
    public static UInt128 Refund(UInt128 channelId) => Derive(RefundTag, channelId, 0, 0, 0);

    private static UInt128 Derive(ReadOnlySpan<byte> tag, UInt128 channelId, uint a, ulong b, int extra)
    {
        System.Diagnostics.Debug.Assert(tag.Length == TagSize, "tags are 32 bytes");
        Span<byte> input = stackalloc byte[TagSize + 16 + 12];
        tag.CopyTo(input);
        BinaryPrimitives.WriteUInt128LittleEndian(input[TagSize..], channelId);
        BinaryPrimitives.WriteUInt32LittleEndian(input[(TagSize + 16)..], a);
        BinaryPrimitives.WriteUInt64LittleEndian(input[(TagSize + 20)..], b);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input[..(TagSize + 16 + extra)], hash);
        return ReservedIds.FromHash(hash);
    }
}
