namespace Micropay.Core.Identity;

/// <summary>What a <see cref="KeyOperation"/> does.</summary>
public enum KeyOperationKind : byte
{
    /// <summary>Registers a key (Ed25519 or passkey) to an account, with a spending policy.</summary>
    Register = 1,

    /// <summary>Replaces a registered key's spending policy (its spending history in the window is kept).</summary>
    UpdatePolicy = 2,

    /// <summary>Revokes a key for good and starts the unilateral close of every open channel funded under it.</summary>
    Revoke = 3,
}
