using System.Buffers.Binary;

namespace Micropay.Core.Ledger;

/// <summary>
/// The account and transfer ids the ledger keeps for itself: every id whose top 32 bits are all ones
/// (<c>0xFFFFFFFF_xxxxxxxx_xxxxxxxx_xxxxxxxx</c>, which includes <see cref="UInt128.MaxValue"/>).
/// </summary>
/// <remarks>
/// <para>
/// Ids the ledger derives (a channel's escrow account, a voucher's redemption transfer) are hashes of what they
/// stand for. If an ordinary account or transfer could take such an id first, anyone who learnt a channel's id
/// could squat its escrow or its redemptions (a failed transfer burns its id) and block them for good. So ordinary
/// <c>CreateAccounts</c> and <c>CreateTransfers</c> refuse ids in this range (<c>IdReserved</c>), and ordinary
/// transfers refuse accounts in it (<c>DebitAccountIdReserved</c>, <c>CreditAccountIdReserved</c>): only the ledger's
/// own operations create or move money in them.
/// </para>
/// <para>
/// The range is one id in 2^32: random 128-bit ids fall into it about once in four billion, and time-ordered ids
/// (ULID-style, the recommended scheme) not before the year 10889. Derived ids keep 95 bits of their hash (bit 95 is
/// cleared, so a derived id is never <see cref="UInt128.MaxValue"/>).
/// </para>
/// </remarks>
public static class ReservedIds
{
    /// <summary>The smallest reserved id: <c>0xFFFFFFFF_00000000_00000000_00000000</c>.</summary>
    public static readonly UInt128 First = new(0xFFFF_FFFF_0000_0000UL, 0);

    /// <summary>Whether <paramref name="id"/> is reserved for the ledger's own accounts and transfers.</summary>
    /// <param name="id">An account or transfer id.</param>
    /// <returns>True when the id's top 32 bits are all ones.</returns>
    public static bool IsReserved(UInt128 id) => (ulong)(id >> 64) >= 0xFFFF_FFFF_0000_0000UL;

    /// <summary>
    /// The reserved id derived from a hash: its first 12 bytes, read little-endian, with bit 95 cleared, under the
    /// reserved prefix. Distinct hashes (distinct domain tags) keep the kinds of derived ids apart.
    /// </summary>
    /// <param name="hash">A hash of at least 12 bytes.</param>
    /// <returns>An id for which <see cref="IsReserved"/> is true and which is never <see cref="UInt128.MaxValue"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="hash"/> is shorter than 12 bytes.</exception>
    internal static UInt128 FromHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length < 12)
        {
            throw new ArgumentException("A derived id takes 12 bytes of hash.", nameof(hash));
        }

        ulong low = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        ulong high = BinaryPrimitives.ReadUInt32LittleEndian(hash[8..]) & 0x7FFF_FFFFU;
        return new UInt128(0xFFFF_FFFF_0000_0000UL | high, low);
    }
}
