using System.Buffers.Binary;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The payer's side of a cumulative channel: signs the next voucher on a lane (sequence + 1, cumulative amount + the
/// payment), never past the deposit it knows. Thread-safe: payments on any lanes from any threads are serialised by a
/// lock, so no two vouchers ever share a (lane, sequence).
/// </summary>
/// <remarks>
/// <para>
/// A restart must never sign an old sequence again (a payee would treat it as the payment it already holds, and the
/// payer would have paid twice for one voucher): keep the wallet's state (<see cref="ExportState"/>) with the payer, and
/// write it before handing a voucher out, or at least every so often with a sequence margin
/// (<see cref="Import"/>'s <c>sequenceMargin</c> skips ahead on every lane). The state holds no secret: the key stays
/// wherever the caller keeps its <see cref="SigningKey"/>.
/// </para>
/// <para>State layout (little-endian): version (4) = 1, lane count (4), channel id (16), known deposit (16), then per lane
/// in ascending order: lane (4), reserved (4) = 0, sequence (8), cumulative amount (16).</para>
/// </remarks>
public sealed class ChannelWallet
{
    private const uint StateVersion = 1;
    private const int HeaderSize = 40;
    private const int LaneSize = 32;

    private readonly Lock _lock = new();
    private readonly SigningKey _payerKey;
    private readonly Dictionary<uint, (ulong Sequence, UInt128 Cumulative)> _lanes = [];
    private UInt128 _deposit;
    private UInt128 _committed;

    private ChannelWallet(ChannelConfig config, SigningKey payerKey, UInt128 deposit)
    {
        Config = config;
        _payerKey = payerKey;
        _deposit = deposit;
    }

    /// <summary>The channel's config.</summary>
    public ChannelConfig Config { get; }

    /// <summary>The deposit the wallet may promise in total, across lanes.</summary>
    public UInt128 Deposit
    {
        get
        {
            lock (_lock)
            {
                return _deposit;
            }
        }
    }

    /// <summary>The total promised so far: the sum over lanes of the last voucher's cumulative amount.</summary>
    public UInt128 Committed
    {
        get
        {
            lock (_lock)
            {
                return _committed;
            }
        }
    }

    /// <summary>A wallet for a channel just opened with <paramref name="deposit"/>.</summary>
    /// <param name="config">The channel's config (cumulative mode).</param>
    /// <param name="payerKey">The key whose verification key is <see cref="ChannelConfig.PayerKey"/>; the wallet signs with it and does not own it.</param>
    /// <param name="deposit">The deposit in escrow.</param>
    /// <returns>The wallet.</returns>
    /// <exception cref="ArgumentException">The key is not the config's, or the channel is not cumulative.</exception>
    public static ChannelWallet Create(ChannelConfig config, SigningKey payerKey, UInt128 deposit)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(payerKey);
        if (config.Mode != ChannelMode.Cumulative)
        {
            throw new ArgumentException("A voucher wallet pays on a cumulative channel; a hash-chain channel pays with HashChainWallet.", nameof(config));
        }

        if (!payerKey.VerificationKey.Equals(config.PayerKey))
        {
            throw new ArgumentException("The key is not the payer key the channel config names.", nameof(payerKey));
        }

        return new ChannelWallet(config, payerKey, deposit);
    }

    /// <summary>Restores a wallet from <see cref="ExportState"/>'s bytes.</summary>
    /// <param name="config">The channel's config.</param>
    /// <param name="payerKey">The channel's payer key.</param>
    /// <param name="state">The exported state.</param>
    /// <param name="sequenceMargin">Added to every lane's sequence, for state saved before the last vouchers were signed.</param>
    /// <returns>The wallet.</returns>
    /// <exception cref="ArgumentException">The state is malformed, belongs to another channel, or the key is not the config's.</exception>
    public static ChannelWallet Import(ChannelConfig config, SigningKey payerKey, ReadOnlySpan<byte> state, ulong sequenceMargin = 0)
    {
        ChannelWallet wallet = Create(config, payerKey, 0);
        if (state.Length < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(state) != StateVersion)
        {
            throw new ArgumentException("The wallet state is not version 1.", nameof(state));
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(state[4..]);
        if (count < 0 || state.Length != HeaderSize + ((long)count * LaneSize))
        {
            throw new ArgumentException("The wallet state's length does not match its lane count.", nameof(state));
        }

        if (BinaryPrimitives.ReadUInt128LittleEndian(state[8..]) != config.Id)
        {
            throw new ArgumentException("The wallet state belongs to another channel.", nameof(state));
        }

        wallet._deposit = BinaryPrimitives.ReadUInt128LittleEndian(state[24..]);
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> lane = state.Slice(HeaderSize + (i * LaneSize), LaneSize);
            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(lane[8..]);
            UInt128 cumulative = BinaryPrimitives.ReadUInt128LittleEndian(lane[16..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(lane[4..]) != 0 || sequence > ulong.MaxValue - sequenceMargin ||
                !wallet._lanes.TryAdd(BinaryPrimitives.ReadUInt32LittleEndian(lane), (sequence + sequenceMargin, cumulative)) ||
                cumulative > wallet._deposit - wallet._committed)
            {
                throw new ArgumentException($"The wallet state's lane {i} is repeated, malformed or past the deposit.", nameof(state));
            }

            wallet._committed += cumulative;
        }

        return wallet;
    }

    /// <summary>Raises the deposit the wallet may promise (after a top-up).</summary>
    /// <param name="amount">The top-up.</param>
    /// <exception cref="OverflowException">The deposit would overflow.</exception>
    public void AddDeposit(UInt128 amount)
    {
        lock (_lock)
        {
            _deposit = checked(_deposit + amount);
        }
    }

    /// <summary>Signs the voucher that pays <paramref name="amount"/> more on <paramref name="lane"/>.</summary>
    /// <param name="lane">The lane.</param>
    /// <param name="amount">The payment; not 0.</param>
    /// <param name="validUntil">The last ledger time at which the voucher may be redeemed.</param>
    /// <param name="voucher">The voucher, when the deposit covers the payment.</param>
    /// <returns>False (and nothing signed) when the payment would take the total promised past the deposit.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="amount"/> is 0, or <paramref name="validUntil"/> is 0.</exception>
    public bool TryPay(uint lane, UInt128 amount, ulong validUntil, out Voucher voucher)
    {
        ArgumentOutOfRangeException.ThrowIfZero(amount);
        ArgumentOutOfRangeException.ThrowIfZero(validUntil);
        lock (_lock)
        {
            (ulong sequence, UInt128 cumulative) = _lanes.GetValueOrDefault(lane);
            if (amount > _deposit - _committed || sequence == ulong.MaxValue)
            {
                voucher = default;
                return false;
            }

            voucher = Voucher.Sign(_payerKey, Config.InstanceId, Config.Id, lane, sequence + 1, cumulative + amount, validUntil);
            _lanes[lane] = (sequence + 1, cumulative + amount);
            _committed += amount;
            return true;
        }
    }

    /// <summary>Signs the voucher that pays <paramref name="amount"/> more on <paramref name="lane"/>.</summary>
    /// <param name="lane">The lane.</param>
    /// <param name="amount">The payment; not 0.</param>
    /// <param name="validUntil">The last ledger time at which the voucher may be redeemed.</param>
    /// <returns>The voucher.</returns>
    /// <exception cref="InvalidOperationException">The payment would take the total promised past the deposit.</exception>
    public Voucher Pay(uint lane, UInt128 amount, ulong validUntil) =>
        TryPay(lane, amount, validUntil, out Voucher voucher)
            ? voucher
            : throw new InvalidOperationException($"Paying {amount} would promise more than the channel's deposit ({Deposit}, of which {Committed} is promised).");

    /// <summary>The bytes <see cref="ExportState"/> writes now.</summary>
    public int StateSize
    {
        get
        {
            lock (_lock)
            {
                return HeaderSize + (_lanes.Count * LaneSize);
            }
        }
    }

    /// <summary>The wallet's state (no secret): the channel, the deposit and every lane's last sequence and amount.</summary>
    /// <returns>The state, for <see cref="Import"/>.</returns>
    public byte[] ExportState()
    {
        lock (_lock)
        {
            byte[] state = new byte[HeaderSize + (_lanes.Count * LaneSize)];
            BinaryPrimitives.WriteUInt32LittleEndian(state, StateVersion);
            BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(4), _lanes.Count);
            BinaryPrimitives.WriteUInt128LittleEndian(state.AsSpan(8), Config.Id);
            BinaryPrimitives.WriteUInt128LittleEndian(state.AsSpan(24), _deposit);
            int at = HeaderSize;
            foreach (uint lane in _lanes.Keys.Order())
            {
                (ulong sequence, UInt128 cumulative) = _lanes[lane];
                BinaryPrimitives.WriteUInt32LittleEndian(state.AsSpan(at), lane);
                BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(at + 8), sequence);
                BinaryPrimitives.WriteUInt128LittleEndian(state.AsSpan(at + 16), cumulative);
                at += LaneSize;
            }

            return state;
        }
    }

    /// <summary>The last voucher's sequence and cumulative amount on a lane, if the wallet paid on it.</summary>
    /// <param name="lane">The lane.</param>
    /// <param name="sequence">Its last sequence.</param>
    /// <param name="cumulative">Its last cumulative amount.</param>
    /// <returns>Whether the wallet paid on the lane.</returns>
    public bool TryGetLane(uint lane, out ulong sequence, out UInt128 cumulative)
    {
        lock (_lock)
        {
            bool found = _lanes.TryGetValue(lane, out (ulong Sequence, UInt128 Cumulative) state);
            (sequence, cumulative) = state;
            return found;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ChannelWallet(channel {Config.Id:X32}, {Committed} of {Deposit} promised)";
}
