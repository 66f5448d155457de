using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// A ledger account: a 128-byte blittable record holding the debit and credit balances of one party on
/// one ledger (currency). Field set and semantics follow TigerBeetle's <c>Account</c>.
/// </summary>
/// <remarks>
/// <para>Byte layout (little-endian on every supported platform; pinned by a test):</para>
/// <code>
/// offset size field
///      0   16 Id                 UInt128, not 0 and not UInt128.MaxValue
///     16   16 DebitsPending      UInt128, maintained by the ledger
///     32   16 DebitsPosted       UInt128, maintained by the ledger
///     48   16 CreditsPending     UInt128, maintained by the ledger
///     64   16 CreditsPosted      UInt128, maintained by the ledger
///     80   16 UserData128        UInt128, opaque to the ledger
///     96    8 UserData64         UInt64,  opaque to the ledger
///    104    4 UserData32         UInt32,  opaque to the ledger
///    108    4 Reserved           UInt32,  must be 0
///    112    4 LedgerId           UInt32,  the currency / asset; not 0
///    116    2 Code               UInt16,  the account's kind, chosen by the user; not 0
///    118    2 Flags              AccountFlags
///    120    8 Timestamp          UInt64,  assigned by the ledger; must be 0 on create
/// </code>
/// <para>When creating an account, the four balance fields and <see cref="Timestamp"/> must be zero.</para>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct Account : IEquatable<Account>
{
    /// <summary>The size of the record in bytes: 128.</summary>
    public const int Size = 128;

    // Offsets of the balances in 64-bit words (byte offset / 8), for the ledger's in-place arithmetic; each
    // balance is two words, low half first. Pinned by the layout tests together with the byte offsets.
    internal const int DebitsPendingWord = 2;
    internal const int DebitsPostedWord = 4;
    internal const int CreditsPendingWord = 6;
    internal const int CreditsPostedWord = 8;

    /// <summary>The account's identifier, chosen by the user. 0 and <see cref="UInt128.MaxValue"/> are reserved.</summary>
    [field: FieldOffset(0)]
    public UInt128 Id { get; set; }

    /// <summary>Sum of the amounts of this account's pending (held, not yet posted or voided) debits.</summary>
    [field: FieldOffset(16)]
    public UInt128 DebitsPending { get; set; }

    /// <summary>Sum of the amounts of this account's posted debits.</summary>
    [field: FieldOffset(32)]
    public UInt128 DebitsPosted { get; set; }

    /// <summary>Sum of the amounts of this account's pending credits.</summary>
    [field: FieldOffset(48)]
    public UInt128 CreditsPending { get; set; }

    /// <summary>Sum of the amounts of this account's posted credits.</summary>
    [field: FieldOffset(64)]
    public UInt128 CreditsPosted { get; set; }

    /// <summary>Opaque 128-bit user data, e.g. a foreign key into the application's database.</summary>
    [field: FieldOffset(80)]
    public UInt128 UserData128 { get; set; }

    /// <summary>Opaque 64-bit user data.</summary>
    [field: FieldOffset(96)]
    public ulong UserData64 { get; set; }

    /// <summary>Opaque 32-bit user data.</summary>
    [field: FieldOffset(104)]
    public uint UserData32 { get; set; }

    /// <summary>Reserved for future use; must be zero (<see cref="CreateAccountResult.ReservedField"/> otherwise).</summary>
    [field: FieldOffset(108)]
    public uint Reserved { get; set; }

    /// <summary>The ledger (currency or asset) this account belongs to. Transfers only move value within one ledger.</summary>
    [field: FieldOffset(112)]
    public uint LedgerId { get; set; }

    /// <summary>A user-defined code describing the kind of account (e.g. 1 = user wallet, 2 = merchant). Must not be 0.</summary>
    [field: FieldOffset(116)]
    public ushort Code { get; set; }

    /// <summary>The account's flags.</summary>
    [field: FieldOffset(118)]
    public AccountFlags Flags { get; set; }

    /// <summary>The time the ledger created the account, in nanoseconds of its logical clock. Must be 0 on create.</summary>
    [field: FieldOffset(120)]
    public ulong Timestamp { get; set; }

    /// <inheritdoc />
    public readonly bool Equals(Account other) =>
        Id == other.Id && DebitsPending == other.DebitsPending && DebitsPosted == other.DebitsPosted &&
        CreditsPending == other.CreditsPending && CreditsPosted == other.CreditsPosted &&
        UserData128 == other.UserData128 && UserData64 == other.UserData64 && UserData32 == other.UserData32 &&
        Reserved == other.Reserved && LedgerId == other.LedgerId && Code == other.Code && Flags == other.Flags &&
        Timestamp == other.Timestamp;

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is Account other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode() => HashCode.Combine(Id, DebitsPosted, CreditsPosted, Timestamp);

    /// <summary>Compares two accounts field by field.</summary>
    public static bool operator ==(Account left, Account right) => left.Equals(right);

    /// <summary>Compares two accounts field by field.</summary>
    public static bool operator !=(Account left, Account right) => !left.Equals(right);

    /// <inheritdoc />
    public override readonly string ToString() =>
        $"Account {{ Id = {Id}, Ledger = {LedgerId}, Code = {Code}, Flags = {Flags}, DebitsPending = {DebitsPending}, DebitsPosted = {DebitsPosted}, CreditsPending = {CreditsPending}, CreditsPosted = {CreditsPosted}, Timestamp = {Timestamp} }}";
}
