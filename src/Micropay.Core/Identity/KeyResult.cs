namespace Micropay.Core.Identity;

/// <summary>The outcome of one <see cref="KeyOperation"/>, in the order the ledger checks.</summary>
public enum KeyResult : uint
{
    /// <summary>Applied.</summary>
    Ok = 0,

    /// <summary>Register: the key is already registered to this account with this policy (an idempotent retry).</summary>
    Exists = 1,

    /// <summary>Register: the key is already registered to this account, with another policy (use <see cref="KeyOperationKind.UpdatePolicy"/>).</summary>
    ExistsWithDifferentPolicy = 2,

    /// <summary>Register: the key is registered to another account; a key belongs to one account.</summary>
    ExistsWithDifferentAccount = 3,

    /// <summary>Register: the account does not exist.</summary>
    AccountNotFound = 4,

    /// <summary>Register: the account is closed.</summary>
    AccountClosed = 5,

    /// <summary>Update or revoke: no key with this id is registered.</summary>
    KeyNotFound = 6,

    /// <summary>The key was revoked: it cannot be registered again or given a new policy.</summary>
    KeyRevoked = 7,

    /// <summary>Revoke: the key is already revoked (an idempotent retry).</summary>
    AlreadyRevoked = 8,

    /// <summary>
    /// Register: the Ed25519 public key is not the canonical encoding of a curve point of more than small order (a
    /// small-order point such as the identity, an encoding with y &gt;= p, or no point at all). No signature verifies
    /// under such a key with libsodium's rules, and a permissive verifier elsewhere accepts forgeries under a small-order
    /// one. Checked at the edge before any other check, so such a registration is never journaled.
    /// </summary>
    WeakPublicKey = 9,
}
