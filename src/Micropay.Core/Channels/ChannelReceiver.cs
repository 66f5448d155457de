using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The payee's side of a cumulative channel, offline: trusts the channel through the ledger's certificate, accepts
/// vouchers with no connection to the ledger, keeps the best voucher per lane (the payee's money: export it), and hands
/// those to redemption. Thread-safe: <see cref="Accept"/> from any threads is serialised by a lock and allocates nothing
/// once a lane exists.
/// </summary>
/// <remarks>
/// <para>
/// A voucher is accepted when it is for this channel, not expired at the receiver's time, its signature verifies with
/// the payer key and instance id, its sequence is above the lane's best, its cumulative amount is above the lane's best,
/// and the total over lanes stays within the certificate's deposit. These are the ledger's redemption rules, so an
/// accepted voucher redeems unless the channel closed or expired first: redeem before the channel's expiry (and within
/// the settle delay of a payer's close). The receiver refuses vouchers once the channel is within
/// <see cref="RedeemMargin"/> of its expiry.
/// </para>
/// <para>State layout (little-endian): version (4) = 1, voucher count (4), channel id (16), then each lane's best voucher
/// (128 bytes, its wire format), in ascending lane order.</para>
/// </remarks>
public sealed class ChannelReceiver
{
    private const uint StateVersion = 1;
    private const int HeaderSize = 24;

    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Voucher> _best = [];
    private UInt128 _total;

    private ChannelReceiver(ChannelCertificate certificate, ulong redeemMargin)
    {
        Certificate = certificate;
        RedeemMargin = redeemMargin;
    }

    /// <summary>The ledger's certificate of the channel.</summary>
    public ChannelCertificate Certificate { get; }

    /// <summary>The channel's config.</summary>
    public ChannelConfig Config => Certificate.Config;

    /// <summary>How long before the channel's expiry the receiver stops accepting (time it needs to redeem), in nanoseconds.</summary>
    public ulong RedeemMargin { get; }

    /// <summary>The total the accepted vouchers are worth: the sum over lanes of the best voucher's cumulative amount.</summary>
    public UInt128 AcceptedTotal
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>Checks a certificate and makes a receiver for it; never throws on a bad certificate.</summary>
    /// <param name="certificate">The ledger's certificate of the channel.</param>
    /// <param name="ledgerKey">The ledger operator's verification key, which the payee trusts.</param>
    /// <param name="instanceId">The ledger instance the payee deals with.</param>
    /// <param name="payeeAccountId">The payee's own account.</param>
    /// <param name="redeemMargin">See <see cref="RedeemMargin"/>.</param>
    /// <param name="receiver">The receiver, when the certificate is good.</param>
    /// <param name="error">Why not, as a sentence; null when it is.</param>
    /// <returns>Whether the certificate verifies and names this instance, this payee and a cumulative channel.</returns>
    public static bool TryCreate(
        ChannelCertificate certificate,
        VerificationKey ledgerKey,
        UInt128 instanceId,
        UInt128 payeeAccountId,
        ulong redeemMargin,
        [NotNullWhen(true)] out ChannelReceiver? receiver,
        [NotNullWhen(false)] out string? error)
    {
        receiver = null;
        error = ChannelCertificate.WhyNotTrusted(certificate, ledgerKey, instanceId, payeeAccountId, ChannelMode.Cumulative);
        if (error is not null)
        {
            return false;
        }

        receiver = new ChannelReceiver(certificate!, redeemMargin);
        return true;
    }

    /// <summary>Checks a voucher and, when it is the lane's best, keeps it.</summary>
    /// <param name="voucher">The voucher.</param>
    /// <param name="now">The receiver's idea of the ledger's time (nanoseconds).</param>
    /// <param name="increase">What it adds to the lane (the payment), when accepted; else 0.</param>
    /// <returns>The verdict.</returns>
    public VoucherAcceptResult Accept(in Voucher voucher, ulong now, out UInt128 increase)
    {
        increase = 0;
        ChannelConfig config = Config;
        if (voucher.ChannelId != config.Id)
        {
            return VoucherAcceptResult.WrongChannel;
        }

        if (now > voucher.ValidUntil)
        {
            return VoucherAcceptResult.VoucherExpired;
        }

        if (now >= config.ExpiresAt || config.ExpiresAt - now <= RedeemMargin)
        {
            return VoucherAcceptResult.ChannelExpiring;
        }

        // The signature is checked outside the lock (it is the expensive part, and depends on nothing the lock guards).
        if (!voucher.Verify(config.PayerKey, config.InstanceId))
        {
            return VoucherAcceptResult.BadSignature;
        }

        lock (_lock)
        {
            bool known = _best.TryGetValue(voucher.Lane, out Voucher best);
            if (known && voucher.Sequence <= best.Sequence)
            {
                return VoucherAcceptResult.SequenceNotIncreasing;
            }

            UInt128 before = known ? best.CumulativeAmount : UInt128.Zero;
            if (voucher.CumulativeAmount <= before)
            {
                return VoucherAcceptResult.AmountNotIncreasing;
            }

            UInt128 delta = voucher.CumulativeAmount - before;
            if (delta > Certificate.Deposit - _total)
            {
                return VoucherAcceptResult.ExceedsDeposit;
            }

            _best[voucher.Lane] = voucher;
            _total += delta;
            increase = delta;
            return VoucherAcceptResult.Accepted;
        }
    }

    /// <summary>The best voucher of every lane, in lane order: what to redeem (<c>LedgerEngine.RedeemVouchersAsync</c>).</summary>
    /// <returns>The vouchers.</returns>
    public Voucher[] BestVouchers()
    {
        lock (_lock)
        {
            return [.. _best.OrderBy(p => p.Key).Select(p => p.Value)];
        }
    }

    /// <summary>The receiver's state: the best voucher per lane (the payee's money).</summary>
    /// <returns>The state, for <see cref="Import"/>.</returns>
    public byte[] ExportState()
    {
        Voucher[] best = BestVouchers();
        byte[] state = new byte[HeaderSize + (best.Length * Voucher.Size)];
        BinaryPrimitives.WriteUInt32LittleEndian(state, StateVersion);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(4), best.Length);
        BinaryPrimitives.WriteUInt128LittleEndian(state.AsSpan(8), Config.Id);
        for (int i = 0; i < best.Length; i++)
        {
            best[i].Encode(state.AsSpan(HeaderSize + (i * Voucher.Size), Voucher.Size));
        }

        return state;
    }

    /// <summary>
    /// Restores a receiver's state into this (new) receiver: every voucher is checked again as <see cref="Accept"/> would,
    /// except for its expiry, so a tampered state cannot make the payee believe it holds more than it does.
    /// </summary>
    /// <param name="state">The exported state.</param>
    /// <exception cref="ArgumentException">The state is malformed, for another channel, or holds a voucher that does not verify.</exception>
    /// <exception cref="InvalidOperationException">This receiver already accepted vouchers.</exception>
    public void Import(ReadOnlySpan<byte> state)
    {
        if (state.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(state) != StateVersion)
        {
            throw new ArgumentException("The receiver state is not version 1.", nameof(state));
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(state[4..]);
        if (count < 0 || state.Length != HeaderSize + ((long)count * Voucher.Size) || BinaryPrimitives.ReadUInt128LittleEndian(state[8..]) != Config.Id)
        {
            throw new ArgumentException("The receiver state's length, count or channel does not match.", nameof(state));
        }

        lock (_lock)
        {
            if (_best.Count != 0)
            {
                throw new InvalidOperationException("Import into a new receiver, before it accepts vouchers.");
            }

            UInt128 total = 0;
            var best = new Dictionary<uint, Voucher>(count);
            for (int i = 0; i < count; i++)
            {
                if (!Voucher.TryParse(state.Slice(HeaderSize + (i * Voucher.Size), Voucher.Size), out Voucher voucher, out ChannelFormatError error) ||
                    voucher.ChannelId != Config.Id || !voucher.Verify(Config.PayerKey, Config.InstanceId) || !best.TryAdd(voucher.Lane, voucher) ||
                    voucher.CumulativeAmount > Certificate.Deposit - total)
                {
                    throw new ArgumentException($"The receiver state's voucher {i} does not parse ({error}), verify, or fit the deposit, or repeats a lane.", nameof(state));
                }

                total += voucher.CumulativeAmount;
            }

            foreach ((uint lane, Voucher voucher) in best)
            {
                _best[lane] = voucher;
            }

            _total = total;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ChannelReceiver(channel {Config.Id:X32}, {AcceptedTotal} accepted of {Certificate.Deposit})";
}
