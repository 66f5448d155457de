namespace Micropay.Core.Channels;

/// <summary>
/// A voucher on its way to the writer, with the id of the transfer that redeems it, which the ledger derives from
/// (channel, lane, sequence) with SHA-256. The id is computed on the caller's core at the edge (and by replay when it
/// decodes the journal's voucher), never on the writer: the writer's cost per redemption is then a lookup and a transfer.
/// The journal holds only the voucher; the id is always recomputed from it.
/// </summary>
internal readonly struct VoucherRedemption
{
    /// <summary>The voucher (its signature was verified at the edge).</summary>
    public readonly Voucher Voucher;

    /// <summary>Its redemption transfer's id: <see cref="DerivedIds.Redemption"/> of its fields.</summary>
    public readonly UInt128 TransferId;

    private VoucherRedemption(in Voucher voucher, UInt128 transferId)
    {
        Voucher = voucher;
        TransferId = transferId;
    }

    /// <summary>The redemption of <paramref name="voucher"/>, with its derived transfer id.</summary>
    public static VoucherRedemption Of(in Voucher voucher) =>
        new(voucher, DerivedIds.Redemption(voucher.ChannelId, voucher.Lane, voucher.Sequence));
}
