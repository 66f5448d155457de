using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The payee's side of a hash-chain channel, offline: holds the best tick accepted and checks the next one with
/// (new index − best index) hashes, no signature and no ledger. Thread-safe: <see cref="Accept"/> takes a lock and
/// allocates nothing.
/// </summary>
/// <remarks>
/// <para>The best tick is the payee's money (redeem it with <c>LedgerEngine.RedeemTickAsync</c>): export it
/// (<see cref="ExportState"/>). State layout (little-endian): version (4) = 1, reserved (4) = 0, channel id (16), then the
/// best tick (64 bytes, its wire format) or 64 zero bytes when none.</para>
/// </remarks>
public sealed class TickVerifier
{
    private const uint StateVersion = 1;
    private const int StateSize = 24 + Tick.Size;

    private readonly Lock _lock = new();
    private readonly byte[] _lastWord = new byte[HashChain.WordSize];
    private Tick _best;

    private TickVerifier(ChannelConfig config, UInt128 deposit)
    {
        Config = config;
        Deposit = deposit;
        config.ChainRoot.CopyTo(_lastWord);
    }

    /// <summary>The channel's config (hash-chain mode).</summary>
    public ChannelConfig Config { get; }

    /// <summary>The most the verifier accepts in total: the deposit it was told of.</summary>
    public UInt128 Deposit { get; }

    /// <summary>The best tick's index (0 before the first).</summary>
    public uint LastIndex
    {
        get
        {
            lock (_lock)
            {
                return _best.Index;
            }
        }
    }

    /// <summary>What the accepted ticks are worth: <see cref="LastIndex"/> × the unit amount.</summary>
    public UInt128 AcceptedAmount => LastIndex * Config.UnitAmount;

    /// <summary>A verifier for a hash-chain channel whose config the payee trusts by other means (it opened it, or asked the ledger).</summary>
    /// <param name="config">The config.</param>
    /// <param name="deposit">The deposit in escrow.</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="ArgumentException">The channel is not a hash-chain channel.</exception>
    public static TickVerifier Create(ChannelConfig config, UInt128 deposit)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Mode != ChannelMode.HashChain)
        {
            throw new ArgumentException("A tick verifier needs a hash-chain channel; a cumulative one pays with vouchers (ChannelReceiver).", nameof(config));
        }

        return new TickVerifier(config, deposit);
    }

    /// <summary>Checks a ledger certificate and makes a verifier for its channel; never throws on a bad certificate.</summary>
    /// <param name="certificate">The ledger's certificate of the channel.</param>
    /// <param name="ledgerKey">The ledger operator's verification key.</param>
    /// <param name="instanceId">The ledger instance the payee deals with.</param>
    /// <param name="payeeAccountId">The payee's account.</param>
    /// <param name="verifier">The verifier, when the certificate is good.</param>
    /// <param name="error">Why not, or null.</param>
    /// <returns>Whether the certificate verifies and names this instance, this payee and a hash-chain channel.</returns>
    public static bool TryCreate(
        ChannelCertificate certificate,
        VerificationKey ledgerKey,
        UInt128 instanceId,
        UInt128 payeeAccountId,
        [NotNullWhen(true)] out TickVerifier? verifier,
        [NotNullWhen(false)] out string? error)
    {
        verifier = null;
        error = ChannelCertificate.WhyNotTrusted(certificate, ledgerKey, instanceId, payeeAccountId, ChannelMode.HashChain);
        if (error is not null)
        {
            return false;
        }

        verifier = new TickVerifier(certificate!.Config, certificate.Deposit);
        return true;
    }

    /// <summary>Checks a tick against the best one and, when it is good, makes it the best.</summary>
    /// <param name="tick">The tick.</param>
    /// <returns>The verdict.</returns>
    public TickVerifyResult Accept(in Tick tick)
    {
        if (tick.ChannelId != Config.Id)
        {
            return TickVerifyResult.WrongChannel;
        }

        if (tick.Index > Config.ChainLength)
        {
            return TickVerifyResult.IndexBeyondChain;
        }

        Span<byte> word = stackalloc byte[HashChain.WordSize];
        tick.CopyWordTo(word);
        lock (_lock)
        {
            uint last = _best.Index;
            if (tick.Index <= last)
            {
                return TickVerifyResult.IndexNotIncreasing;
            }

            if (Config.UnitAmount > Deposit / tick.Index)
            {
                return TickVerifyResult.ExceedsDeposit;
            }

            if (!HashChain.Verify(word, tick.Index, _lastWord, last))
            {
                return TickVerifyResult.BadWord;
            }

            word.CopyTo(_lastWord);
            _best = tick;
            return TickVerifyResult.Accepted;
        }
    }

    /// <summary>The best tick accepted, to redeem.</summary>
    /// <param name="tick">The tick, when one was accepted.</param>
    /// <returns>Whether one was.</returns>
    public bool TryGetBestTick(out Tick tick)
    {
        lock (_lock)
        {
            tick = _best;
            return tick.Index != 0;
        }
    }

    /// <summary>The verifier's state: the best tick (the payee's money).</summary>
    /// <returns>The state, for <see cref="Import"/>.</returns>
    public byte[] ExportState()
    {
        byte[] state = new byte[StateSize];
        BinaryPrimitives.WriteUInt32LittleEndian(state, StateVersion);
        BinaryPrimitives.WriteUInt128LittleEndian(state.AsSpan(8), Config.Id);
        if (TryGetBestTick(out Tick best))
        {
            best.Encode(state.AsSpan(24));
        }

        return state;
    }

    /// <summary>Restores a state into this new verifier; the tick is checked against the root again, so tampered state is refused.</summary>
    /// <param name="state">The exported state.</param>
    /// <exception cref="ArgumentException">The state is malformed, for another channel, or its tick is not the chain's.</exception>
    public void Import(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize || BinaryPrimitives.ReadUInt32LittleEndian(state) != StateVersion || BinaryPrimitives.ReadUInt32LittleEndian(state[4..]) != 0 ||
            BinaryPrimitives.ReadUInt128LittleEndian(state[8..]) != Config.Id)
        {
            throw new ArgumentException("The verifier state is not version 1 of this channel.", nameof(state));
        }

        if (!state[24..].ContainsAnyExcept((byte)0))
        {
            return;
        }

        if (!Tick.TryParse(state[24..], out Tick tick, out TickFormatError error) || Accept(tick) != TickVerifyResult.Accepted)
        {
            throw new ArgumentException($"The verifier state's tick is not a good tick of this chain ({error}).", nameof(state));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"TickVerifier(channel {Config.Id:X32}, best index {LastIndex} of {Config.ChainLength})";
}
