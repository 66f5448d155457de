namespace Micropay.Core.Identity;

/// <summary>
/// Why bytes are not a <see cref="PasskeyAssertion"/> encoding: what <see cref="PasskeyAssertion.TryParse"/> reports.
/// The header is checked first (its length, then each length field in table order), then that the three parts it
/// announces are all there.
/// </summary>
public enum PasskeyFormatError : byte
{
    /// <summary>The bytes begin with a valid encoding.</summary>
    None = 0,

    /// <summary>The input ends before the 5-byte header, or before the three parts the header announces.</summary>
    Truncated = 1,

    /// <summary>The authenticator data length is 0 or above <see cref="PasskeyAssertion.MaxAuthenticatorDataLength"/> (160).</summary>
    AuthenticatorDataLength = 2,

    /// <summary>The clientDataJSON length is 0 or above <see cref="PasskeyAssertion.MaxClientDataJsonLength"/> (512).</summary>
    ClientDataJsonLength = 3,

    /// <summary>The signature length is 0 or above <see cref="PasskeyAssertion.MaxSignatureLength"/> (72).</summary>
    SignatureLength = 4,
}
