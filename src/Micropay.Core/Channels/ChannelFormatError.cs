namespace Micropay.Core.Channels;

/// <summary>
/// Why bytes are not a valid channel record (<see cref="ChannelConfig"/>, <see cref="Voucher"/>,
/// <see cref="ChannelCertificate"/>): what their <c>TryParse</c> methods report. The parsers check the length first,
/// then the version, the kind or mode, the reserved bytes, and then each field in the order of its byte table; the
/// first rule broken is the one reported.
/// </summary>
/// <remarks>A wrong signature is not a format error: parsing checks the format, <c>Verify</c> the signature.</remarks>
public enum ChannelFormatError
{
    /// <summary>The bytes are a valid record.</summary>
    None = 0,

    /// <summary>The input is not exactly the record's size (128 bytes for a voucher, 176 for a config, 272 for a certificate).</summary>
    WrongLength = 1,

    /// <summary>The version byte (byte 0) is not 1, the only version this library reads.</summary>
    UnknownVersion = 2,

    /// <summary>A voucher's kind byte (byte 1) is not 1 (cumulative voucher).</summary>
    UnknownKind = 3,

    /// <summary>A config's mode byte (byte 1) is not a <see cref="ChannelMode"/>.</summary>
    UnknownMode = 4,

    /// <summary>A byte the format reserves is not zero.</summary>
    ReservedNotZero = 5,

    /// <summary>A voucher's sequence number is 0 (sequences start at 1).</summary>
    ZeroSequence = 6,

    /// <summary>A voucher names channel 0.</summary>
    ZeroChannelId = 7,

    /// <summary>A voucher's cumulative amount is 0 (a voucher for nothing).</summary>
    ZeroAmount = 8,

    /// <summary>A voucher's valid-until time is 0.</summary>
    ZeroValidUntil = 9,

    /// <summary>A config's ledger (currency) id is 0.</summary>
    ZeroLedgerId = 10,

    /// <summary>A config's ledger instance id is 0.</summary>
    ZeroInstanceId = 11,

    /// <summary>A config's payer or payee account id is 0.</summary>
    ZeroAccountId = 12,

    /// <summary>A config's payer or payee account id is in the range the ledger reserves for its own derived ids (<see cref="Ledger.ReservedIds"/>).</summary>
    ReservedAccountId = 13,

    /// <summary>A config's payer and payee are the same account.</summary>
    SameAccounts = 14,

    /// <summary>A config's payer key was refused as an Ed25519 public key (see <see cref="Crypto.VerificationKey.TryCreate"/>).</summary>
    BadVerificationKey = 15,

    /// <summary>A config's expiry time is 0.</summary>
    ZeroExpiry = 16,

    /// <summary>A hash-chain config's chain root is all zeros (most likely a field left unset).</summary>
    ZeroChainRoot = 17,

    /// <summary>A hash-chain config's amount per tick is 0.</summary>
    ZeroUnitAmount = 18,

    /// <summary>A hash-chain config's chain length is 0.</summary>
    ZeroChainLength = 19,

    /// <summary>A cumulative config has a non-zero chain root, unit amount or chain length (those fields must be zero in that mode).</summary>
    ChainFieldsInCumulativeMode = 20,

    /// <summary>A certificate's opening time is 0.</summary>
    ZeroOpenedAt = 21,

    /// <summary>A certificate's deposit is 0.</summary>
    ZeroDeposit = 22,
}
