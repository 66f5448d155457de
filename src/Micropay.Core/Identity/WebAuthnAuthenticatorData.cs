using System.Buffers.Binary;

namespace Micropay.Core.Identity;

/// <summary>
/// The checks of an assertion's authenticator data (WebAuthn Level 3 section 6.1) that need no stored state. Never
/// throws; allocates nothing.
/// </summary>
/// <remarks>
/// <para>Layout (all authenticator data; an assertion's has no attested credential data):</para>
/// <code>
/// offset size field
///      0   32 rpIdHash                SHA-256 of the UTF-8 RP ID the authenticator scoped the credential to
///     32    1 flags                   bit 0 UP, 1 RFU, 2 UV, 3 BE, 4 BS, 5 RFU, 6 AT, 7 ED
///     33    4 signCount               big-endian
///     37    * attestedCredentialData  only with AT: refused in an assertion
///     37    * extensions              only with ED: one CBOR map of extension outputs
/// </code>
/// <para>
/// The reserved bits 1 and 5 are ignored, as the specification asks of relying parties. Extension outputs are checked
/// for form only (exactly one well-formed CBOR map, <see cref="CborReader"/>): the ledger requests no extension, and
/// WebAuthn lets a relying party ignore unsolicited ones.
/// </para>
/// </remarks>
internal static class WebAuthnAuthenticatorData
{
    /// <summary>The fixed part: rpIdHash, flags and signCount.</summary>
    public const int MinLength = 37;

    public const int RpIdHashSize = 32;
    public const int FlagsOffset = 32;
    public const int SignCountOffset = 33;

    public const byte UserPresent = 0x01;
    public const byte UserVerified = 0x04;
    public const byte BackupEligible = 0x08;
    public const byte BackedUp = 0x10;
    public const byte AttestedCredentialData = 0x40;
    public const byte ExtensionData = 0x80;

    /// <summary>The big-endian signCount, or 0 when the data is shorter than its fixed part.</summary>
    public static uint SignCount(ReadOnlySpan<byte> authenticatorData) =>
        authenticatorData.Length >= MinLength ? BinaryPrimitives.ReadUInt32BigEndian(authenticatorData[SignCountOffset..]) : 0;

    /// <summary>Runs the checks in the order of <see cref="PasskeyResult"/> and returns the first failure, or Ok.</summary>
    public static PasskeyResult Check(ReadOnlySpan<byte> authenticatorData, ReadOnlySpan<byte> expectedRpIdHash)
    {
        if (authenticatorData.Length < MinLength)
        {
            return PasskeyResult.MalformedAuthenticatorData;
        }

        if (!authenticatorData[..RpIdHashSize].SequenceEqual(expectedRpIdHash))
        {
            return PasskeyResult.RpIdHashMismatch;
        }

        byte flags = authenticatorData[FlagsOffset];
        if ((flags & UserPresent) == 0)
        {
            return PasskeyResult.UserNotPresent;
        }

        if ((flags & UserVerified) == 0)
        {
            return PasskeyResult.UserNotVerified;
        }

        if ((flags & BackedUp) != 0 && (flags & BackupEligible) == 0)
        {
            return PasskeyResult.InvalidBackupFlags;
        }

        if ((flags & AttestedCredentialData) != 0)
        {
            return PasskeyResult.UnexpectedAttestedData;
        }

        ReadOnlySpan<byte> extensions = authenticatorData[MinLength..];
        bool wellFormed = (flags & ExtensionData) != 0 ? CborReader.IsSingleMap(extensions) : extensions.IsEmpty;
        return wellFormed ? PasskeyResult.Ok : PasskeyResult.MalformedExtensions;
    }
}
