namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>The flags byte of authenticator data (WebAuthn Level 3 section 6.1), for building test assertions.</summary>
[Flags]
internal enum AuthenticatorFlags : byte
{
    None = 0,
    UserPresent = 0x01,
    Reserved1 = 0x02,
    UserVerified = 0x04,
    BackupEligible = 0x08,
    BackedUp = 0x10,
    Reserved5 = 0x20,
    AttestedCredentialData = 0x40,
    ExtensionData = 0x80,
}
