namespace Micropay.Core.Channels;

/// <summary>
/// The <c>Code</c> values of the accounts and transfers the ledger makes for channels, so a reader of the ledger can
/// tell them apart (their ids lie in the reserved range, <see cref="Ledger.ReservedIds"/>). Their <c>UserData128</c> is
/// the channel id; a redemption's <c>UserData64</c> and <c>UserData32</c> are the voucher's sequence and lane (a tick
/// redemption's <c>UserData32</c> is the tick index).
/// </summary>
public static class ChannelLedgerCodes
{
    /// <summary>A channel's escrow account (its id is the channel id).</summary>
    public const ushort Escrow = 0xFF00;

    /// <summary>The deposit an open moves from the payer into escrow.</summary>
    public const ushort Deposit = 0xFF01;

    /// <summary>A top-up from the payer into escrow (its id is the caller's).</summary>
    public const ushort TopUp = 0xFF02;

    /// <summary>A voucher's redemption from escrow to the payee.</summary>
    public const ushort VoucherRedemption = 0xFF03;

    /// <summary>A tick's redemption from escrow to the payee.</summary>
    public const ushort TickRedemption = 0xFF04;

    /// <summary>The rest of the deposit returned from escrow to the payer when the channel closes.</summary>
    public const ushort Refund = 0xFF05;
}
