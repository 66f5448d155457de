namespace Micropay.Core.Identity;

/// <summary>
/// Why bytes are not a valid identity record (<see cref="KeyOperation"/>, <see cref="PaymentOrder"/>,
/// <see cref="CoSignature"/>): what their <c>TryParse</c> methods report, the first rule broken in byte-table order.
/// </summary>
public enum IdentityFormatError : byte
{
    /// <summary>The bytes are well formed.</summary>
    None = 0,

    /// <summary>The input is not the format's length.</summary>
    WrongLength = 1,

    /// <summary>The version byte is not one this library reads.</summary>
    UnknownVersion = 2,

    /// <summary>A kind byte (operation kind, key kind, co-signature kind) is not a known value.</summary>
    UnknownKind = 3,

    /// <summary>A reserved or unused byte is not zero.</summary>
    ReservedNotZero = 4,

    /// <summary>An account id is 0 or in the range the ledger reserves (<see cref="Ledger.ReservedIds"/>).</summary>
    BadAccountId = 5,

    /// <summary>A key id is 0, or a registration's key id is not the one its public key derives (<see cref="KeyIds"/>).</summary>
    BadKeyId = 6,

    /// <summary>A public key was refused: not a valid Ed25519 key encoding, or not a P-256 point.</summary>
    BadPublicKey = 7,

    /// <summary>A spending policy breaks a rule of <see cref="SpendingPolicy"/>'s table.</summary>
    BadPolicy = 8,

    /// <summary>A passkey's credential id, relying-party id or origin is empty, too long or not printable ASCII.</summary>
    BadPasskeyField = 9,

    /// <summary>A passkey assertion's lengths do not parse (<see cref="PasskeyAssertion.TryParse"/>).</summary>
    BadAssertion = 10,

    /// <summary>An order's id is 0.</summary>
    ZeroId = 11,

    /// <summary>An order's amount is 0.</summary>
    ZeroAmount = 12,

    /// <summary>An order's valid-until time is 0.</summary>
    ZeroValidUntil = 13,
}
