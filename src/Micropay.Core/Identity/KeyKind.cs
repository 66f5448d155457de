namespace Micropay.Core.Identity;

/// <summary>The kind of a key registered to an account.</summary>
public enum KeyKind : byte
{
    /// <summary>An Ed25519 verification key (a device's key): signs payment orders and channel opens, and may co-sign another key's.</summary>
    Ed25519 = 1,

    /// <summary>A WebAuthn passkey credential (ES256, P-256): only co-signs, through an assertion behind the authenticator's user verification.</summary>
    Passkey = 2,
}
