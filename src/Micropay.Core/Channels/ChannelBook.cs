using System.Diagnostics;
using System.Runtime.InteropServices;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;

namespace Micropay.Core.Channels;

/// <summary>
/// The channels of one ledger and the deterministic rules that change them: open, top-up, voucher and tick redemption,
/// close, and the deadlines (expiry, end of a settle delay) that return the rest of a deposit to the payer. Applied on
/// the writer thread, replayed on recovery, kept in snapshots (the "channels" section).
/// </summary>
/// <remarks>
/// <para>
/// No cryptography runs here beyond the SHA-256 of a derived id: every signature, and a tick's hash chain, was checked
/// before the event was queued (at the engine's edge, on the caller's core), and the journal holds only events that
/// passed. Money moves only through the ledger's system transfers, so the ledger's own checks (balance flags,
/// overflow, idempotency of the derived ids) hold for every channel movement, and conservation with them.
/// </para>
/// <para>Time: an event at timestamp <c>t</c> finds the channel expired when <c>t &gt;= ExpiresAt</c>, and past a payer's
/// close when <c>t &gt;= CloseDeadline</c>; a voucher is redeemable while <c>t &lt;= ValidUntil</c>. The refund itself happens
/// at the start of the first batch at or after the deadline (an idle engine pulses for it, as for hold timeouts).</para>
/// </remarks>
internal sealed partial class ChannelBook : LedgerExtension
{
    // Writer thread only, like the ledger.
    private readonly Dictionary<UInt128, ChannelState> _channels = [];
    private readonly List<ChannelState> _byIndex = [];
    private readonly ExpiryQueue _deadlines = new();

    private ChannelBook(LedgerStateMachine ledger)
        : base(ledger)
    {
    }

    /// <summary>The number of channels ever opened on this ledger.</summary>
    public int Count => _byIndex.Count;

    /// <summary>The channels in creation order.</summary>
    public IReadOnlyList<ChannelState> All => _byIndex;

    /// <summary>Called on the writer thread whenever a channel's config becomes known (open applied, snapshot read).</summary>
    public Action<ChannelConfig>? ConfigAdded { get; set; }

    /// <summary>
    /// When set (by the engine, on the writer thread, for each batch), every change of a channel's status, tick index or
    /// lane is logged, so the engine publishes exactly those once the batch is released. Null for a plain ledger.
    /// </summary>
    public ChannelChangeLog? Changes { get; set; }

    /// <summary>The ledger's channel state, created with its first channel.</summary>
    public static ChannelBook Of(LedgerStateMachine ledger) => ledger.GetOrAddExtension(LedgerExtension.ChannelsSlot, static l => new ChannelBook(l));

    /// <summary>The ledger's channel state, or null when it never had a channel.</summary>
    public static ChannelBook? Find(LedgerStateMachine ledger) => (ChannelBook?)ledger.GetExtension(LedgerExtension.ChannelsSlot);

    /// <summary>The channel with this id, if any.</summary>
    public bool TryGet(UInt128 channelId, out ChannelState state) => _channels.TryGetValue(channelId, out state!);

    /// <inheritdoc />
    public override bool TryPeekNextDeadline(out ulong at) => _deadlines.TryPeek(out at);

    /// <summary>The deadline queue's entries, stale ones (channels closed before the deadline came) included.</summary>
    internal int DeadlineCount => _deadlines.Count;

    /// <inheritdoc />
    public override ulong FireDue(ulong now, ulong nextTimestamp)
    {
        while (_deadlines.TryPopDue(now, out ulong at, out int index))
        {
            ChannelState channel = _byIndex[index];

            // Stale entries: the channel closed since, or the deadline is not (or no longer) one of its own.
            if (channel.Status == ChannelStatus.Closed ||
                (at != channel.Config.ExpiresAt && !(channel.Status == ChannelStatus.Closing && at == channel.CloseDeadline)))
            {
                continue;
            }

            Close(channel, nextTimestamp);
            nextTimestamp++;
        }

        return nextTimestamp;
    }

    /// <summary>Applies an open at <paramref name="timestamp"/> (its signature was checked at the edge).</summary>
    public ChannelResult Open(in ChannelOpenRequest request, ulong timestamp)
    {
        ChannelConfig config = request.Config;
        if (config.InstanceId != Ledger.InstanceId)
        {
            return ChannelResult.InstanceMismatch;
        }

        if (_channels.TryGetValue(config.Id, out ChannelState? existing))
        {
            return existing.OpenDeposit == request.Deposit ? ChannelResult.Exists : ChannelResult.ExistsWithDifferentDeposit;
        }

        if (request.Deposit == UInt128.Zero)
        {
            return ChannelResult.AmountMustNotBeZero;
        }

        if (timestamp >= config.ExpiresAt)
        {
            return ChannelResult.ExpiryNotInFuture;
        }

        ChannelResult accounts = CheckAccounts(config);
        if (accounts != ChannelResult.Ok)
        {
            return accounts;
        }

        // A payer account with registered keys: the payer key must be one of them, and its policy must allow the deposit.
        IdentityBook? identity = IdentityBook.Find(Ledger);
        KeyState? key = null;
        KeyState? coSigner = null;
        if (identity is not null)
        {
            ChannelResult authorised = identity.AuthorizeChannel(config, request.Deposit, request.Deposit, request.CoSignature, timestamp, out key, out coSigner);
            if (authorised != ChannelResult.Ok)
            {
                return authorised;
            }
        }

        // The escrow and the deposit are one operation: if the deposit fails, the escrow is undone with it.
        Ledger.BeginSystemGroup();
        var escrow = new Account
        {
            Id = config.Id,
            LedgerId = config.LedgerId,
            Code = ChannelLedgerCodes.Escrow,
            Flags = AccountFlags.DebitsMustNotExceedCredits,
            UserData128 = config.PayerAccountId,
        };
        CreateAccountResult created = Ledger.CreateSystemAccount(escrow, timestamp, grouped: true);
        if (created != CreateAccountResult.Ok)
        {
            // Only the ledger's channels create accounts in the reserved range, and this channel is new.
            throw new InvalidOperationException($"Creating the escrow account of channel {config.Id:X32} failed with {created}.");
        }

        CreateTransferResult deposited = Ledger.CreateSystemTransfer(
            Move(DerivedIds.Deposit(config.Id), config.PayerAccountId, config.Id, request.Deposit, config, ChannelLedgerCodes.Deposit),
            timestamp,
            grouped: true);
        if (deposited != CreateTransferResult.Ok)
        {
            Ledger.RollbackSystemGroup();
            return FromPayerDebit(deposited);
        }

        Ledger.EndSystemGroup();
        if (key is not null)
        {
            identity!.Commit(key, request.Deposit, request.CoSignature, coSigner, timestamp);
        }

        var channel = new ChannelState(config, _byIndex.Count, request.Deposit, timestamp);
        _channels.Add(config.Id, channel);
        _byIndex.Add(channel);
        _deadlines.Push(config.ExpiresAt, channel.Index);
        ConfigAdded?.Invoke(config);
        LogState(channel);
        return ChannelResult.Ok;
    }

    /// <summary>Applies a top-up at <paramref name="timestamp"/>.</summary>
    public ChannelResult TopUp(in ChannelTopUp topUp, ulong timestamp)
    {
        if (topUp.TransferId == UInt128.Zero || ReservedIds.IsReserved(topUp.TransferId))
        {
            return ChannelResult.InvalidTransferId;
        }

        if (!_channels.TryGetValue(topUp.ChannelId, out ChannelState? channel))
        {
            return ChannelResult.ChannelNotFound;
        }

        ChannelConfig config = channel.Config;
        Transfer transfer = Move(topUp.TransferId, config.PayerAccountId, config.Id, topUp.Amount, config, ChannelLedgerCodes.TopUp);

        // Idempotency first, as for transfers: a retry finds its transfer whatever happened to the channel since.
        if (Ledger.TryGetTransfer(topUp.TransferId, out Transfer existing))
        {
            return SameMove(existing, transfer) ? ChannelResult.Exists : ChannelResult.ExistsWithDifferentFields;
        }

        ChannelResult state = CheckOpen(channel, timestamp);
        if (state != ChannelResult.Ok)
        {
            return state;
        }

        if (channel.Status == ChannelStatus.Closing)
        {
            return ChannelResult.ChannelClosing;
        }

        if (topUp.Amount == UInt128.Zero)
        {
            return ChannelResult.AmountMustNotBeZero;
        }

        ChannelResult accounts = CheckAccounts(config);
        if (accounts != ChannelResult.Ok)
        {
            return accounts;
        }

        if (topUp.Amount > UInt128.MaxValue - channel.Deposit)
        {
            return ChannelResult.Overflow;
        }

        // Top-ups of a channel funded under a registered key count against its policy like the open (without a co-signature).
        IdentityBook? identity = IdentityBook.Find(Ledger);
        KeyState? key = null;
        if (identity is not null)
        {
            ChannelResult authorised = identity.AuthorizeChannel(config, topUp.Amount, channel.Deposit + topUp.Amount, null, timestamp, out key, out _);
            if (authorised != ChannelResult.Ok)
            {
                return authorised;
            }
        }

        CreateTransferResult result = Ledger.CreateSystemTransfer(transfer, timestamp);
        if (result != CreateTransferResult.Ok)
        {
            return FromPayerDebit(result);
        }

        if (key is not null)
        {
            identity!.Commit(key, topUp.Amount, null, null, timestamp);
        }

        channel.Deposit += topUp.Amount;
        return ChannelResult.Ok;
    }

    /// <summary>
    /// Applies a voucher's redemption at <paramref name="timestamp"/> (its signature was checked at the edge, which also
    /// derived its transfer id).
    /// </summary>
    public ChannelResult Redeem(in VoucherRedemption redemption, ulong timestamp)
    {
        ref readonly Voucher voucher = ref redemption.Voucher;
        if (!_channels.TryGetValue(voucher.ChannelId, out ChannelState? channel))
        {
            return ChannelResult.ChannelNotFound;
        }

        if (channel.Config.Mode != ChannelMode.Cumulative)
        {
            return ChannelResult.WrongChannelMode;
        }

        UInt128 transferId = redemption.TransferId;
        Debug.Assert(transferId == DerivedIds.Redemption(voucher.ChannelId, voucher.Lane, voucher.Sequence), "the edge derived the id");
        if (Ledger.TryGetTransfer(transferId, out _))
        {
            return ChannelResult.AlreadyRedeemed;
        }

        ChannelResult state = CheckOpen(channel, timestamp);
        if (state != ChannelResult.Ok)
        {
            return state;
        }

        if (timestamp > voucher.ValidUntil)
        {
            return ChannelResult.VoucherExpired;
        }

        channel.Lanes ??= [];
        LaneState lane = channel.Lanes.GetValueOrDefault(voucher.Lane);
        if (voucher.Sequence <= lane.Sequence)
        {
            return ChannelResult.SequenceNotIncreasing;
        }

        if (voucher.CumulativeAmount <= lane.Redeemed)
        {
            return ChannelResult.AmountNotIncreasing;
        }

        UInt128 delta = voucher.CumulativeAmount - lane.Redeemed;
        if (delta > channel.Remaining)
        {
            return ChannelResult.ExceedsDeposit;
        }

        ChannelResult paid = Pay(channel, transferId, delta, ChannelLedgerCodes.VoucherRedemption, voucher.Sequence, voucher.Lane, timestamp);
        if (paid == ChannelResult.Ok)
        {
            var best = new LaneState(voucher.Sequence, voucher.CumulativeAmount);
            CollectionsMarshal.GetValueRefOrAddDefault(channel.Lanes, voucher.Lane, out _) = best;
            Changes?.Add(new ChannelChange(channel.Config, true, voucher.Lane, best, default, 0, 0));
        }

        return paid;
    }

    /// <summary>Applies a tick's redemption at <paramref name="timestamp"/> (its chain was checked against the root at the edge).</summary>
    public ChannelResult RedeemTick(in Tick tick, ulong timestamp)
    {
        if (!_channels.TryGetValue(tick.ChannelId, out ChannelState? channel))
        {
            return ChannelResult.ChannelNotFound;
        }

        ChannelConfig config = channel.Config;
        if (config.Mode != ChannelMode.HashChain)
        {
            return ChannelResult.WrongChannelMode;
        }

        UInt128 transferId = DerivedIds.TickRedemption(tick.ChannelId, tick.Index);
        if (Ledger.TryGetTransfer(transferId, out _))
        {
            return ChannelResult.AlreadyRedeemed;
        }

        ChannelResult state = CheckOpen(channel, timestamp);
        if (state != ChannelResult.Ok)
        {
            return state;
        }

        if (tick.Index > config.ChainLength)
        {
            return ChannelResult.BadTick;
        }

        if (tick.Index <= channel.TickIndex)
        {
            return ChannelResult.TickIndexNotIncreasing;
        }

        // Index and unit are bounded (2^32 ticks of a UInt128 unit can overflow): an overflow is a status, never a throw.
        UInt128 units = tick.Index - channel.TickIndex;
        if (config.UnitAmount > UInt128.MaxValue / units)
        {
            return ChannelResult.Overflow;
        }

        UInt128 amount = units * config.UnitAmount;
        if (amount > channel.Remaining)
        {
            return ChannelResult.ExceedsDeposit;
        }

        ChannelResult paid = Pay(channel, transferId, amount, ChannelLedgerCodes.TickRedemption, 0, tick.Index, timestamp);
        if (paid == ChannelResult.Ok)
        {
            channel.TickIndex = tick.Index;
            LogState(channel);
        }

        return paid;
    }

    /// <summary>Applies a close at <paramref name="timestamp"/> (a unilateral close's signature was checked at the edge).</summary>
    public ChannelResult Close(in ChannelClose close, ulong timestamp)
    {
        if (!_channels.TryGetValue(close.ChannelId, out ChannelState? channel))
        {
            return ChannelResult.ChannelNotFound;
        }

        ChannelResult state = CheckOpen(channel, timestamp);
        if (state != ChannelResult.Ok)
        {
            return state;
        }

        if (close.Kind == ChannelCloseKind.Cooperative)
        {
            Close(channel, timestamp);
            return ChannelResult.Ok;
        }

        if (channel.Status == ChannelStatus.Closing)
        {
            return ChannelResult.ChannelClosing;
        }

        BeginClose(channel, timestamp);
        return ChannelResult.Ok;
    }

    /// <summary>
    /// Starts the unilateral close (the settle delay) of every open channel of <paramref name="payerAccountId"/> funded
    /// under <paramref name="payerKey"/>, as if its payer had signed a close at <paramref name="timestamp"/>: the key was
    /// revoked. The payee can still redeem what it accepted until the delay ends. Scans every channel (revocations are rare).
    /// </summary>
    /// <returns>How many channels started closing.</returns>
    public int BeginCloseOfChannelsFundedBy(UInt128 payerAccountId, VerificationKey payerKey, ulong timestamp)
    {
        int closing = 0;
        foreach (ChannelState channel in _byIndex)
        {
            if (channel.Status == ChannelStatus.Open && channel.Config.PayerAccountId == payerAccountId &&
                channel.Config.PayerKey.Equals(payerKey) && CheckOpen(channel, timestamp) == ChannelResult.Ok)
            {
                BeginClose(channel, timestamp);
                closing++;
            }
        }

        return closing;
    }

    /// <summary>Starts a channel's settle delay at <paramref name="timestamp"/>.</summary>
    private void BeginClose(ChannelState channel, ulong timestamp)
    {
        // A deadline past the end of time never comes: the channel then ends at its expiry, which is earlier.
        ulong settleDelay = channel.Config.SettleDelay;
        ulong deadline = timestamp > ulong.MaxValue - settleDelay ? ulong.MaxValue : timestamp + settleDelay;
        channel.Status = ChannelStatus.Closing;
        channel.CloseDeadline = deadline;
        _deadlines.Push(deadline, channel.Index);
        LogState(channel);
    }

    /// <summary>Whether an event at <paramref name="timestamp"/> still finds the channel usable: not closed, not expired, not past a payer's close.</summary>
    private static ChannelResult CheckOpen(ChannelState channel, ulong timestamp)
    {
        if (channel.Status == ChannelStatus.Closed)
        {
            return channel.ClosedAt >= channel.Config.ExpiresAt ? ChannelResult.ChannelExpired : ChannelResult.ChannelClosed;
        }

        if (timestamp >= channel.Config.ExpiresAt)
        {
            return ChannelResult.ChannelExpired;
        }

        if (channel.Status == ChannelStatus.Closing && timestamp >= channel.CloseDeadline)
        {
            return ChannelResult.ChannelClosed;
        }

        return ChannelResult.Ok;
    }

    /// <summary>Whether the payer and payee accounts exist, are on the channel's ledger and open.</summary>
    private ChannelResult CheckAccounts(ChannelConfig config)
    {
        if (!Ledger.TryGetAccount(config.PayerAccountId, out Account payer))
        {
            return ChannelResult.PayerAccountNotFound;
        }

        if (!Ledger.TryGetAccount(config.PayeeAccountId, out Account payee))
        {
            return ChannelResult.PayeeAccountNotFound;
        }

        if (payer.LedgerId != config.LedgerId || payee.LedgerId != config.LedgerId)
        {
            return ChannelResult.AccountLedgerMismatch;
        }

        if ((payer.Flags & AccountFlags.Closed) != 0)
        {
            return ChannelResult.PayerAccountClosed;
        }

        return (payee.Flags & AccountFlags.Closed) != 0 ? ChannelResult.PayeeAccountClosed : ChannelResult.Ok;
    }

    /// <summary>Pays the payee from escrow.</summary>
    private ChannelResult Pay(ChannelState channel, UInt128 transferId, UInt128 amount, ushort code, ulong userData64, uint userData32, ulong timestamp)
    {
        ChannelConfig config = channel.Config;
        Transfer payment = Move(transferId, config.Id, config.PayeeAccountId, amount, config, code) with
        {
            UserData64 = userData64,
            UserData32 = userData32,
        };
        CreateTransferResult result = Ledger.CreateSystemTransfer(payment, timestamp);
        switch (result)
        {
            case CreateTransferResult.Ok:
                channel.Redeemed += amount;
                return ChannelResult.Ok;
            case CreateTransferResult.CreditAccountNotFound:
                return ChannelResult.PayeeAccountNotFound;
            case CreateTransferResult.CreditAccountAlreadyClosed:
                return ChannelResult.PayeeAccountClosed;
            case CreateTransferResult.ExceedsDebits:
                return ChannelResult.PayeeCreditRefused;
            case >= CreateTransferResult.OverflowsDebitsPending and <= CreateTransferResult.OverflowsTimeout:
                return ChannelResult.Overflow;
            default:
                // The escrow holds the amount (checked above) and the payee's ledger was checked at open.
                throw new InvalidOperationException($"Paying channel {config.Id:X32}'s payee failed with {result}.");
        }
    }

    /// <summary>Closes a channel: the rest of its escrow returns to the payer, stamped <paramref name="timestamp"/>.</summary>
    private void Close(ChannelState channel, ulong timestamp)
    {
        ChannelConfig config = channel.Config;
        UInt128 rest = channel.Remaining;
        if (rest != UInt128.Zero)
        {
            CreateTransferResult result = Ledger.CreateSystemTransfer(
                Move(DerivedIds.Refund(config.Id), config.Id, config.PayerAccountId, rest, config, ChannelLedgerCodes.Refund), timestamp);

            // A payer account closed since the open, or whose CreditsMustNotExceedDebits flag refuses the credit, keeps the
            // rest in escrow, visible on the escrow account (docs/ARCHITECTURE.md, known gaps). Nothing else can refuse it.
            Debug.Assert(result is CreateTransferResult.Ok or CreateTransferResult.CreditAccountAlreadyClosed or CreateTransferResult.ExceedsDebits, $"refund failed: {result}");
            if (result == CreateTransferResult.Ok)
            {
                channel.Refunded = rest;
            }
        }

        channel.Status = ChannelStatus.Closed;
        channel.ClosedAt = timestamp;
        LogState(channel);
    }

    /// <summary>Logs a channel's status, close deadline and tick index for publication.</summary>
    private void LogState(ChannelState channel) =>
        Changes?.Add(new ChannelChange(channel.Config, false, 0, default, channel.Status, channel.CloseDeadline, channel.TickIndex));

    /// <summary>A single-phase transfer the ledger makes for a channel.</summary>
    private static Transfer Move(UInt128 id, UInt128 debit, UInt128 credit, UInt128 amount, ChannelConfig config, ushort code) => new()
    {
        Id = id,
        DebitAccountId = debit,
        CreditAccountId = credit,
        Amount = amount,
        LedgerId = config.LedgerId,
        Code = code,
        UserData128 = config.Id,
    };

    /// <summary>Whether a stored transfer is the one <paramref name="wanted"/> describes (the fields a caller chose).</summary>
    private static bool SameMove(in Transfer stored, in Transfer wanted) =>
        stored.DebitAccountId == wanted.DebitAccountId && stored.CreditAccountId == wanted.CreditAccountId &&
        stored.Amount == wanted.Amount && stored.Code == wanted.Code && stored.UserData128 == wanted.UserData128 &&
        stored.LedgerId == wanted.LedgerId && stored.Flags == wanted.Flags;

    /// <summary>The channel result of a failed debit of the payer (deposit or top-up).</summary>
    private static ChannelResult FromPayerDebit(CreateTransferResult result) => result switch
    {
        CreateTransferResult.ExceedsCredits => ChannelResult.InsufficientFunds,
        CreateTransferResult.IdAlreadyFailed => ChannelResult.TransferIdAlreadyFailed,
        CreateTransferResult.DebitAccountNotFound => ChannelResult.PayerAccountNotFound,
        CreateTransferResult.DebitAccountAlreadyClosed => ChannelResult.PayerAccountClosed,
        CreateTransferResult.AccountsMustHaveTheSameLedger or CreateTransferResult.TransferMustHaveTheSameLedgerAsAccounts => ChannelResult.AccountLedgerMismatch,
        >= CreateTransferResult.OverflowsDebitsPending and <= CreateTransferResult.OverflowsTimeout => ChannelResult.Overflow,
        _ => throw new InvalidOperationException($"Debiting a channel's payer failed with {result}."),
    };
}
