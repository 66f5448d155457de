using Micropay.Core.Crypto;

namespace Micropay.Core.Identity;

/// <summary>One registered key's state in the ledger (writer thread only): who it belongs to, its policy, whether it is revoked, and its spending in the current window.</summary>
internal sealed class KeyState(UInt128 keyId, UInt128 accountId, VerificationKey? ed25519, PasskeyCredential? passkey, SpendingPolicy policy, int index, ulong registeredAt)
{
    /// <summary>The key's id.</summary>
    public UInt128 KeyId { get; } = keyId;

    /// <summary>The account the key is bound to (for good).</summary>
    public UInt128 AccountId { get; } = accountId;

    /// <summary>The key when it is an Ed25519 key.</summary>
    public VerificationKey? Ed25519 { get; } = ed25519;

    /// <summary>The credential when it is a passkey.</summary>
    public PasskeyCredential? Passkey { get; } = passkey;

    /// <summary>The key's kind.</summary>
    public KeyKind Kind => Ed25519 is null ? KeyKind.Passkey : KeyKind.Ed25519;

    /// <summary>The key's place in registration order.</summary>
    public int Index { get; } = index;

    /// <summary>When the registration was applied.</summary>
    public ulong RegisteredAt { get; } = registeredAt;

    /// <summary>The current policy.</summary>
    public SpendingPolicy Policy { get; set; } = policy;

    /// <summary>Active or revoked.</summary>
    public KeyStatus Status { get; set; } = KeyStatus.Active;

    /// <summary>When the revocation was applied (0 while active).</summary>
    public ulong RevokedAt { get; set; }

    /// <summary>The ledger time of the key's last change (registration, policy, revocation or payment); its window is settled as of then.</summary>
    public ulong ChangedAt { get; set; } = registeredAt;

    /// <summary>Where the key's last change sits in the engine's current <see cref="KeyChangeLog"/> (see <see cref="KeyChangeLog.Add"/>).</summary>
    public int LogSlot { get; set; } = -1;

    /// <summary>A passkey's last accepted signature counter.</summary>
    public uint SignCount { get; set; }

    /// <summary>The payments the key made in its policy's window.</summary>
    public SpendWindow Window { get; } = new();
}
