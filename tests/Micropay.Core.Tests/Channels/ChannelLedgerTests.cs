using Micropay.Core.Channels;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Channels;

/// <summary>The channel rules the writer applies (ChannelBook), driven through the operation descriptions on a plain ledger.</summary>
public sealed class ChannelLedgerTests
{
    private const ulong Second = ChannelTestKit.Second;

    [Fact]
    public void Open_FundedPayer_CreatesTheEscrowUnderTheChannelIdAndMovesTheDeposit()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();

        Assert.Equal(ChannelResult.Ok, kit.Open(config, 600));

        Account escrow = kit.Account(config.Id);
        Assert.True(ReservedIds.IsReserved(config.Id));
        Assert.Equal(ChannelLedgerCodes.Escrow, escrow.Code);
        Assert.Equal(AccountFlags.DebitsMustNotExceedCredits, escrow.Flags);
        Assert.Equal((UInt128)600, kit.Balance(config.Id));
        Assert.Equal((UInt128)400, kit.Balance(ChannelTestKit.Payer));
    }

    [Fact]
    public void Open_Retried_IsExistsAndMovesNothingMore()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        Assert.Equal(ChannelResult.Ok, kit.Open(config, 600));

        Assert.Equal(ChannelResult.Exists, kit.Open(config, 600));
        Assert.Equal(ChannelResult.ExistsWithDifferentDeposit, kit.Open(config, 601));
        Assert.Equal((UInt128)400, kit.Balance(ChannelTestKit.Payer));
    }

    [Fact]
    public void Open_PayerShort_IsInsufficientFundsLeavesNoEscrowAndSucceedsOnceFunded()
    {
        using var kit = new ChannelTestKit(payerFunds: 100);
        ChannelConfig config = kit.Cumulative();

        Assert.Equal(ChannelResult.InsufficientFunds, kit.Open(config, 600));
        Assert.False(kit.Ledger.TryGetAccount(config.Id, out _));

        kit.Fund(500);
        Assert.Equal(ChannelResult.Ok, kit.Open(config, 600));
        Assert.Equal((UInt128)600, kit.Balance(config.Id));
    }

    [Fact]
    public void Open_RefusalsInOrder_NameWhatIsWrong()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        Assert.Equal(ChannelResult.ExpiryNotInFuture, kit.Open(kit.Cumulative(expiresAt: kit.Now + 1), 10));

        ChannelConfig otherInstance = ChannelConfig.CreateCumulative(
            ChannelTestKit.Instance + 1, ChannelTestKit.Payer, ChannelTestKit.Payee, 1, kit.PayerKey.VerificationKey, kit.Now + (3600 * Second), Second, 0);
        Assert.Equal(ChannelResult.InstanceMismatch, kit.Open(otherInstance, 10));

        ChannelConfig unknownPayee = ChannelConfig.CreateCumulative(
            ChannelTestKit.Instance, ChannelTestKit.Payer, 99, 1, kit.PayerKey.VerificationKey, kit.Now + (3600 * Second), Second, 0);
        Assert.Equal(ChannelResult.PayeeAccountNotFound, kit.Open(unknownPayee, 10));

        ChannelConfig otherLedger = ChannelConfig.CreateCumulative(
            ChannelTestKit.Instance, ChannelTestKit.Payer, ChannelTestKit.Payee, 2, kit.PayerKey.VerificationKey, kit.Now + (3600 * Second), Second, 0);
        Assert.Equal(ChannelResult.AccountLedgerMismatch, kit.Open(otherLedger, 10));
        Assert.Equal((UInt128)1_000, kit.Balance(ChannelTestKit.Payer));
    }

    [Fact]
    public void Redeem_IncreasingVouchers_PaysTheDeltaEachTime()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 500);

        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, lane: 0, sequence: 1, cumulative: 10));
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, lane: 0, sequence: 5, cumulative: 35));

        Assert.Equal((UInt128)35, kit.Balance(ChannelTestKit.Payee));
        Assert.Equal((UInt128)465, kit.Balance(config.Id));
        Assert.True(kit.Ledger.TryGetTransfer(DerivedIds.Redemption(config.Id, 0, 5), out Transfer redemption));
        Assert.Equal((UInt128)25, redemption.Amount);
        Assert.Equal(ChannelLedgerCodes.VoucherRedemption, redemption.Code);
        Assert.Equal(config.Id, redemption.UserData128);
        Assert.Equal(5UL, redemption.UserData64);
    }

    [Fact]
    public void Redeem_SameVoucherTwice_IsAlreadyRedeemedAndPaysOnce()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 500);
        Voucher voucher = kit.Voucher(config, 0, 1, 40);

        Assert.Equal(ChannelResult.Ok, kit.Redeem(voucher));
        Assert.Equal(ChannelResult.AlreadyRedeemed, kit.Redeem(voucher));
        Assert.Equal((UInt128)40, kit.Balance(ChannelTestKit.Payee));
    }

    [Fact]
    public void Redeem_OlderOrNotIncreasingVoucher_RefusedWithItsOwnResult()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 500);
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, 0, 5, 50));

        Assert.Equal(ChannelResult.SequenceNotIncreasing, kit.Redeem(config, 0, 4, 60));

        // Redemptions are deduplicated on (channel, lane, sequence), never on signature bytes: another voucher with the
        // redeemed sequence (a payer who signed two) is the redeemed payment, and pays nothing.
        Assert.Equal(ChannelResult.AlreadyRedeemed, kit.Redeem(kit.Voucher(config, 0, 5, 70)));
        Assert.Equal(ChannelResult.AmountNotIncreasing, kit.Redeem(config, 0, 6, 50));
        Assert.Equal(ChannelResult.AmountNotIncreasing, kit.Redeem(config, 0, 7, 49));
        Assert.Equal((UInt128)50, kit.Balance(ChannelTestKit.Payee));
    }

    [Fact]
    public void Redeem_LanesAreIndependentButShareTheDeposit()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);

        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, lane: 1, sequence: 9, cumulative: 60));
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, lane: 2, sequence: 1, cumulative: 30));
        Assert.Equal(ChannelResult.ExceedsDeposit, kit.Redeem(config, lane: 3, sequence: 1, cumulative: 11));
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, lane: 3, sequence: 1, cumulative: 10));
        Assert.Equal((UInt128)100, kit.Balance(ChannelTestKit.Payee));
        Assert.Equal(UInt128.Zero, kit.Balance(config.Id));
    }

    [Fact]
    public void Redeem_ExceedsDepositThenTopUp_SameVoucherRedeemsAfterwards()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);
        Voucher voucher = kit.Voucher(config, 0, 1, 150);

        Assert.Equal(ChannelResult.ExceedsDeposit, kit.Redeem(voucher));
        Assert.Equal(ChannelResult.Ok, kit.TopUp(77, config, 50));
        Assert.Equal(ChannelResult.Ok, kit.Redeem(voucher));
        Assert.Equal((UInt128)150, kit.Balance(ChannelTestKit.Payee));
    }

    [Fact]
    public void TopUp_RetriedOrConflicting_IsExistsOrExistsWithDifferentFields()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);

        Assert.Equal(ChannelResult.Ok, kit.TopUp(77, config, 50));
        Assert.Equal(ChannelResult.Exists, kit.TopUp(77, config, 50));
        Assert.Equal(ChannelResult.ExistsWithDifferentFields, kit.TopUp(77, config, 51));
        Assert.Equal(ChannelResult.InvalidTransferId, kit.TopUp(ReservedIds.First, config, 5));
        Assert.Equal(ChannelResult.InvalidTransferId, kit.TopUp(0, config, 5));
        Assert.Equal((UInt128)150, kit.Balance(config.Id));
    }

    [Fact]
    public void Redeem_AtValidUntil_PaysAndOneNanosecondLater_IsVoucherExpired()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);
        ulong validUntil = kit.Now + 100;

        kit.SetNextTimestamp(validUntil + 1);
        Assert.Equal(ChannelResult.VoucherExpired, kit.Redeem(kit.Voucher(config, 0, 1, 10, validUntil)));
        Assert.Equal(UInt128.Zero, kit.Balance(ChannelTestKit.Payee));

        using var kit2 = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config2 = kit2.Cumulative();
        kit2.Open(config2, 100);
        ulong validUntil2 = kit2.Now + 100;
        kit2.SetNextTimestamp(validUntil2);
        Assert.Equal(ChannelResult.Ok, kit2.Redeem(kit2.Voucher(config2, 0, 1, 10, validUntil2)));
    }

    [Fact]
    public void Expiry_PulseAtExpiresAt_ReturnsTheRestToThePayerAndRefusesLaterRedemptions()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ulong expiresAt = kit.Now + (10 * Second);
        ChannelConfig config = kit.Cumulative(expiresAt);
        kit.Open(config, 100);
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, 0, 1, 30));
        Assert.True(kit.Ledger.TryPeekNextExpiry(out ulong due));
        Assert.Equal(expiresAt, due);

        kit.Pulse(expiresAt - 1);
        Assert.Equal((UInt128)70, kit.Balance(config.Id));

        kit.Pulse(expiresAt);
        Assert.Equal(UInt128.Zero, kit.Balance(config.Id));
        Assert.Equal((UInt128)970, kit.Balance(ChannelTestKit.Payer));
        Assert.True(kit.Ledger.TryGetTransfer(DerivedIds.Refund(config.Id), out Transfer refund));
        Assert.Equal((UInt128)70, refund.Amount);
        Assert.Equal(ChannelResult.ChannelExpired, kit.Redeem(config, 0, 2, 40));
        Assert.Equal(ChannelResult.ChannelExpired, kit.TopUp(9, config, 1));
    }

    [Fact]
    public void Redeem_InTheBatchThatReachesExpiresAt_IsChannelExpired()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ulong expiresAt = kit.Now + (10 * Second);
        ChannelConfig config = kit.Cumulative(expiresAt);
        kit.Open(config, 100);

        // One batch whose events are stamped expiresAt - 1 and expiresAt: the second finds the channel expired although
        // the expiry fires only at the next batch's start.
        kit.SetNextTimestamp(expiresAt - 1);
        ChannelResult[] results = kit.RedeemMany([kit.Voucher(config, 0, 1, 30), kit.Voucher(config, 0, 2, 40)]);
        Assert.Equal([ChannelResult.Ok, ChannelResult.ChannelExpired], results);
        Assert.Equal((UInt128)30, kit.Balance(ChannelTestKit.Payee));
        Assert.Equal((UInt128)70, kit.Balance(config.Id));

        kit.Pulse();
        Assert.Equal(UInt128.Zero, kit.Balance(config.Id));
    }

    [Fact]
    public void Redeem_InTheBatchThatReachesTheCloseDeadline_IsChannelClosedFromTheDeadlineOn()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative(settleDelay: 5 * Second);
        kit.Open(config, 100);
        Assert.Equal(ChannelResult.Ok, kit.CloseUnilaterally(config));
        ulong deadline = kit.Now + (5 * Second);

        kit.SetNextTimestamp(deadline - 1);
        ChannelResult[] results = kit.RedeemMany([kit.Voucher(config, 0, 1, 30), kit.Voucher(config, 0, 2, 40)]);
        Assert.Equal([ChannelResult.Ok, ChannelResult.ChannelClosed], results);
        Assert.Equal((UInt128)30, kit.Balance(ChannelTestKit.Payee));
    }

    [Fact]
    public void UnilateralClose_PayeeRedeemsDuringTheSettleDelay_ThenTheRestReturnsAtItsEnd()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative(settleDelay: 5 * Second);
        kit.Open(config, 100);

        Assert.Equal(ChannelResult.Ok, kit.CloseUnilaterally(config));
        ulong deadline = kit.Now + (5 * Second);
        Assert.Equal(ChannelResult.ChannelClosing, kit.CloseUnilaterally(config));
        Assert.Equal(ChannelResult.ChannelClosing, kit.TopUp(9, config, 1));

        kit.SetNextTimestamp(deadline - 1);
        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, 0, 1, 25));
        Assert.Equal(ChannelResult.ChannelClosed, kit.Redeem(config, 0, 2, 30));
        Assert.Equal((UInt128)25, kit.Balance(ChannelTestKit.Payee));

        // The refund fired at the start of the batch that reached the deadline.
        Assert.Equal(UInt128.Zero, kit.Balance(config.Id));
        Assert.Equal((UInt128)975, kit.Balance(ChannelTestKit.Payer));
    }

    [Fact]
    public void CooperativeClose_ReturnsTheRestAtOnce()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);
        kit.Redeem(config, 0, 1, 10);

        Assert.Equal(ChannelResult.Ok, kit.Close(ChannelClose.Cooperative(config.Id)));
        Assert.Equal(UInt128.Zero, kit.Balance(config.Id));
        Assert.Equal((UInt128)990, kit.Balance(ChannelTestKit.Payer));
        Assert.Equal(ChannelResult.ChannelClosed, kit.Close(ChannelClose.Cooperative(config.Id)));
        Assert.Equal(ChannelResult.ChannelClosed, kit.Redeem(config, 0, 2, 20));

        // A voucher already redeemed stays an idempotent retry after the close.
        Assert.Equal(ChannelResult.AlreadyRedeemed, kit.Redeem(config, 0, 1, 10));
    }

    [Fact]
    public void OrdinaryTransfers_CannotTouchTheEscrowOrTakeADerivedId()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);

        Assert.Equal(CreateTransferResult.DebitAccountIdReserved, kit.Ledger.CreateTransfer(kit.Now + 1, Tr(50, config.Id, ChannelTestKit.Payee, 100)));
        Assert.Equal(CreateTransferResult.CreditAccountIdReserved, kit.Ledger.CreateTransfer(kit.Now + 1, Tr(51, ChannelTestKit.Bank, config.Id, 100)));
        UInt128 nextRedemption = DerivedIds.Redemption(config.Id, 0, 1);
        Assert.Equal(CreateTransferResult.IdReserved, kit.Ledger.CreateTransfer(kit.Now + 1, Tr(nextRedemption, ChannelTestKit.Bank, ChannelTestKit.Payee, 1)));

        Assert.Equal(ChannelResult.Ok, kit.Redeem(config, 0, 1, 10));
    }

    [Fact]
    public void TopUp_TransferIdBurntByAFailedTransfer_IsTransferIdAlreadyFailed()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        ChannelConfig config = kit.Cumulative();
        kit.Open(config, 100);
        Assert.Equal(CreateTransferResult.CreditAccountNotFound, kit.Ledger.CreateTransfer(kit.Now + 1, Tr(66, ChannelTestKit.Payer, 999, 1)));

        Assert.Equal(ChannelResult.TransferIdAlreadyFailed, kit.TopUp(66, config, 10));
        Assert.Equal((UInt128)100, kit.Balance(config.Id));
    }

    [Fact]
    public void Redeem_PayeeWhoseFlagsRefuseTheCredit_IsPayeeCreditRefusedAndRetryable()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        Assert.Equal(CreateAccountResult.Ok, kit.Ledger.CreateAccount(kit.Now + 1, Acct(40, AccountFlags.CreditsMustNotExceedDebits)));
        ChannelConfig config = ChannelConfig.CreateCumulative(
            ChannelTestKit.Instance, ChannelTestKit.Payer, 40, 1, kit.PayerKey.VerificationKey, kit.Now + (3600 * Second), Second, 0);
        Assert.Equal(ChannelResult.Ok, kit.Open(config, 100));
        Voucher voucher = kit.Voucher(config, 0, 1, 30);

        Assert.Equal(ChannelResult.PayeeCreditRefused, kit.Redeem(voucher));
        Assert.Equal(CreateTransferResult.Ok, kit.Ledger.CreateTransfer(kit.Now + 1, Tr(67, 40, ChannelTestKit.Bank, 50)));
        Assert.Equal(ChannelResult.Ok, kit.Redeem(voucher));
        Assert.Equal((UInt128)70, kit.Balance(config.Id));
    }

    [Fact]
    public void Redeem_UnknownChannel_IsChannelNotFound()
    {
        using var kit = new ChannelTestKit(payerFunds: 1_000);
        Assert.Equal(ChannelResult.ChannelNotFound, kit.Redeem(kit.Cumulative(), 0, 1, 10));
    }

    [Fact]
    public void OpenRequestTryParse_ZeroDeposit_IsRefusedAsZeroAmount()
    {
        // Sign refuses a zero deposit; bytes that say so anyway are refused by name before they reach the ledger.
        using var kit = new ChannelTestKit(payerFunds: 0);
        byte[] bytes = new byte[ChannelOpenRequest.Size];
        ChannelOpenRequest.Sign(kit.PayerKey, kit.Cumulative(), 1).Encode(bytes);
        bytes.AsSpan(ChannelConfig.EncodedSize, 16).Clear();

        Assert.False(ChannelOpenRequest.TryParse(bytes, out _, out ChannelFormatError error));
        Assert.Equal(ChannelFormatError.ZeroAmount, error);
    }
}
