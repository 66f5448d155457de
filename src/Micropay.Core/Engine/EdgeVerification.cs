using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;

namespace Micropay.Core.Engine;

/// <summary>
/// The edge's checks of every signed operation kind, written once: the engine runs them on the caller's thread before it
/// queues an event (over the keys and channel configs its writer has applied so far), and <see cref="AuditVerifier"/>
/// runs them again over a journal, against the keys and channels its replay has applied before the batch. Every check
/// here needs no ledger state but immutable key and config material, so both give the same answer for a journaled event.
/// </summary>
/// <remarks>
/// The lookups are type parameters constrained to structs, so each caller's lookup is compiled in (no interface call per
/// event on the engine's hot path).
/// </remarks>
internal static class EdgeVerification
{
    /// <summary>An order's checks: its key is known and an Ed25519 key, the signature verifies, and so does a co-signature.</summary>
    public static OrderResult VerifyOrder<TKeys>(in PaymentOrder order, UInt128 instanceId, TKeys keys)
        where TKeys : struct, IKeyLookup
    {
        if (order.Id == UInt128.Zero)
        {
            return OrderResult.BadSignature;
        }

        if (!keys.TryGetKey(order.KeyId, out KeyState? key))
        {
            return OrderResult.KeyNotFound;
        }

        if (key.Ed25519 is not { } verificationKey)
        {
            return OrderResult.WrongKeyKind;
        }

        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + PaymentOrder.SignedSize];
        Span<byte> message = order.AssembleMessage(buffer, instanceId);
        Span<byte> signature = stackalloc byte[VerificationKey.SignatureSize];
        order.CopySignatureTo(signature);
        if (!verificationKey.Verify(message, signature))
        {
            return OrderResult.BadSignature;
        }

        return order.CoSignature is { } coSignature ? VerifyCoSignature(coSignature, key.KeyId, message, keys) : OrderResult.Ok;
    }

    /// <summary>A co-signature's checks over <paramref name="message"/>: the co-signer is known, another key than the signer's, and its signature or assertion verifies.</summary>
    public static OrderResult VerifyCoSignature<TKeys>(CoSignature coSignature, UInt128 signerKeyId, ReadOnlySpan<byte> message, TKeys keys)
        where TKeys : struct, IKeyLookup
    {
        if (!keys.TryGetKey(coSignature.KeyId, out KeyState? coSigner))
        {
            return OrderResult.CoSignerNotFound;
        }

        if (coSigner.KeyId == signerKeyId)
        {
            return OrderResult.CoSignerIsSigner;
        }

        return coSignature.Verify(coSigner.Ed25519, coSigner.Passkey, message) ? OrderResult.Ok : OrderResult.BadCoSignature;
    }

    /// <summary>An open's checks: the config names this instance, the payer's signature verifies, and so does a step-up co-signature.</summary>
    public static ChannelResult VerifyOpen<TKeys>(in ChannelOpenRequest request, UInt128 instanceId, TKeys keys)
        where TKeys : struct, IKeyLookup
    {
        if (request.Config.InstanceId != instanceId)
        {
            return ChannelResult.InstanceMismatch;
        }

        if (!request.Verify())
        {
            return ChannelResult.BadSignature;
        }

        if (request.CoSignature is not { } coSignature)
        {
            return ChannelResult.Ok;
        }

        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + SignedMessage.MaxBodyLength];
        return VerifyCoSignature(coSignature, request.Config.PayerKeyId, request.AssembleMessage(buffer), keys) switch
        {
            OrderResult.Ok => ChannelResult.Ok,
            OrderResult.CoSignerNotFound => ChannelResult.CoSignerNotFound,
            OrderResult.CoSignerIsSigner => ChannelResult.CoSignerIsSigner,
            _ => ChannelResult.BadCoSignature,
        };
    }

    /// <summary>A voucher's checks: its channel is known and cumulative, and the payer key's signature verifies.</summary>
    public static ChannelResult VerifyVoucher<TChannels>(in Voucher voucher, UInt128 instanceId, TChannels channels)
        where TChannels : struct, IChannelConfigLookup
    {
        if (!channels.TryGetConfig(voucher.ChannelId, out ChannelConfig? config))
        {
            return ChannelResult.ChannelNotFound;
        }

        if (config.Mode != ChannelMode.Cumulative)
        {
            return ChannelResult.WrongChannelMode;
        }

        return voucher.Verify(config.PayerKey, instanceId) ? ChannelResult.Ok : ChannelResult.BadSignature;
    }

    /// <summary>A tick's checks: its channel is known and a hash chain, and the word hashes to the chain's root.</summary>
    public static ChannelResult VerifyTick<TChannels>(in Tick tick, TChannels channels)
        where TChannels : struct, IChannelConfigLookup
    {
        if (!channels.TryGetConfig(tick.ChannelId, out ChannelConfig? config))
        {
            return ChannelResult.ChannelNotFound;
        }

        if (config.Mode != ChannelMode.HashChain)
        {
            return ChannelResult.WrongChannelMode;
        }

        // The index is bounded by the chain's length before hashing: the check costs index hashes.
        Span<byte> word = stackalloc byte[HashChain.WordSize];
        tick.CopyWordTo(word);
        return tick.Index <= config.ChainLength && HashChain.VerifyAgainstRoot(word, tick.Index, config.ChainRoot) ? ChannelResult.Ok : ChannelResult.BadTick;
    }

    /// <summary>A close's checks: its channel is known, and a unilateral close is signed by the payer key (a cooperative one carries no signature).</summary>
    public static ChannelResult VerifyClose<TChannels>(in ChannelClose close, UInt128 instanceId, TChannels channels)
        where TChannels : struct, IChannelConfigLookup
    {
        if (!channels.TryGetConfig(close.ChannelId, out ChannelConfig? config))
        {
            return ChannelResult.ChannelNotFound;
        }

        return close.Verify(config.PayerKey, instanceId) ? ChannelResult.Ok : ChannelResult.BadSignature;
    }
}

/// <summary>What the edge knew, for a journaled event's recheck: the ledger's instance, and the keys and channels a replay applied before its batch.</summary>
internal readonly struct JournalEdge(UInt128 instanceId, BookKeyLookup keys, BookChannelLookup channels)
{
    public UInt128 InstanceId { get; } = instanceId;

    public BookKeyLookup Keys { get; } = keys;

    public BookChannelLookup Channels { get; } = channels;

    /// <summary>An edge result as a refusal: null for Ok (0 in every checked result enum), else its name.</summary>
    public static string? Refusal<TResult>(TResult result)
        where TResult : unmanaged, Enum => EqualityComparer<TResult>.Default.Equals(result, default) ? null : result.ToString();
}

/// <summary>Finds a registered key by id (its immutable members only are read: id, public key or credential).</summary>
internal interface IKeyLookup
{
    /// <summary>The key registered under <paramref name="keyId"/>, if any.</summary>
    bool TryGetKey(UInt128 keyId, [NotNullWhen(true)] out KeyState? key);
}

/// <summary>Finds an opened channel's config by the channel's id.</summary>
internal interface IChannelConfigLookup
{
    /// <summary>The config of channel <paramref name="channelId"/>, if it was opened.</summary>
    bool TryGetConfig(UInt128 channelId, [NotNullWhen(true)] out ChannelConfig? config);
}

/// <summary>The engine's keys: every registration its writer applied, in a map any caller reads.</summary>
internal readonly struct ConcurrentKeyLookup(ConcurrentDictionary<UInt128, KeyState> keys) : IKeyLookup
{
    public bool TryGetKey(UInt128 keyId, [NotNullWhen(true)] out KeyState? key) => keys.TryGetValue(keyId, out key);
}

/// <summary>The engine's channel configs: every open its writer applied, in a map any caller reads.</summary>
internal readonly struct ConcurrentChannelLookup(ConcurrentDictionary<UInt128, ChannelConfig> configs) : IChannelConfigLookup
{
    public bool TryGetConfig(UInt128 channelId, [NotNullWhen(true)] out ChannelConfig? config) => configs.TryGetValue(channelId, out config);
}

/// <summary>A ledger's own key registry, or none yet (a replay's, on the thread that replays).</summary>
internal readonly struct BookKeyLookup(IdentityBook? book) : IKeyLookup
{
    public bool TryGetKey(UInt128 keyId, [NotNullWhen(true)] out KeyState? key)
    {
        KeyState state = null!;
        bool found = book is not null && book.TryGet(keyId, out state);
        key = found ? state : null;
        return found;
    }
}

/// <summary>A ledger's own channels, or none yet (a replay's, on the thread that replays).</summary>
internal readonly struct BookChannelLookup(ChannelBook? book) : IChannelConfigLookup
{
    public bool TryGetConfig(UInt128 channelId, [NotNullWhen(true)] out ChannelConfig? config)
    {
        ChannelState state = null!;
        bool found = book is not null && book.TryGet(channelId, out state);
        config = found ? state.Config : null;
        return found;
    }
}
