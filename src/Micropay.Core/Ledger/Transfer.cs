using System.Runtime.InteropServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// A transfer of <see cref="Amount"/> from a debit account to a credit account on one ledger: a 128-byte
/// blittable record. Field set and semantics follow TigerBeetle's <c>Transfer</c>.
/// </summary>
/// <remarks>
/// <para>Byte layout (little-endian on every supported platform; pinned by a test):</para>
/// <code>
/// offset size field
///      0   16 Id                 UInt128, not 0 and not UInt128.MaxValue
///     16   16 DebitAccountId     UInt128
///     32   16 CreditAccountId    UInt128
///     48   16 Amount             UInt128
///     64   16 PendingId          UInt128, the pending transfer a post or void refers to; else 0
///     80   16 UserData128        UInt128, opaque to the ledger
///     96    8 UserData64         UInt64,  opaque to the ledger
///    104    4 UserData32         UInt32,  opaque to the ledger
///    108    4 Timeout            UInt32,  seconds until a pending transfer expires; 0 = never
///    112    4 LedgerId           UInt32,  the currency / asset; not 0
///    116    2 Code               UInt16,  the transfer's kind, chosen by the user; not 0
///    118    2 Flags              TransferFlags
///    120    8 Timestamp          UInt64,  assigned by the ledger; must be 0 on create
/// </code>
/// <para>
/// A post or void may leave <see cref="DebitAccountId"/>, <see cref="CreditAccountId"/>, <see cref="LedgerId"/>
/// and <see cref="Code"/> zero: the ledger takes them from the pending transfer, and stores the transfer with
/// them filled in and with <see cref="Amount"/> set to the amount actually posted (or, for a void, released).
/// A balancing transfer is stored with the amount actually moved.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct Transfer : IEquatable<Transfer>
{
    /// <summary>The size of the record in bytes: 128.</summary>
    public const int Size = 128;

    /// <summary>
    /// The transfer's identifier, chosen by the user; it is the idempotency key. 0 and
    /// <see cref="UInt128.MaxValue"/> are reserved.
    /// </summary>
    [field: FieldOffset(0)]
    public UInt128 Id { get; set; }

    /// <summary>The account debited.</summary>
    [field: FieldOffset(16)]
    public UInt128 DebitAccountId { get; set; }

    /// <summary>The account credited.</summary>
    [field: FieldOffset(32)]
    public UInt128 CreditAccountId { get; set; }

    /// <summary>
    /// The amount, in the ledger's smallest unit. For a balancing transfer, the most that may move; for a post,
    /// <see cref="UInt128.MaxValue"/> posts the whole pending amount; for a void, 0 or the pending amount.
    /// </summary>
    [field: FieldOffset(48)]
    public UInt128 Amount { get; set; }

    /// <summary>For a post or void, the id of the pending transfer; otherwise 0.</summary>
    [field: FieldOffset(64)]
    public UInt128 PendingId { get; set; }

    /// <summary>Opaque 128-bit user data, e.g. an invoice id.</summary>
    [field: FieldOffset(80)]
    public UInt128 UserData128 { get; set; }

    /// <summary>Opaque 64-bit user data.</summary>
    [field: FieldOffset(96)]
    public ulong UserData64 { get; set; }

    /// <summary>Opaque 32-bit user data.</summary>
    [field: FieldOffset(104)]
    public uint UserData32 { get; set; }

    /// <summary>
    /// For a pending transfer, seconds of the ledger's logical clock after which the hold expires and its
    /// amount is released; 0 means it never expires. Must be 0 for every other transfer.
    /// </summary>
    [field: FieldOffset(108)]
    public uint Timeout { get; set; }

    /// <summary>The ledger (currency or asset); both accounts must belong to it.</summary>
    [field: FieldOffset(112)]
    public uint LedgerId { get; set; }

    /// <summary>A user-defined code describing the kind of transfer. Must not be 0 (except on a post or void).</summary>
    [field: FieldOffset(116)]
    public ushort Code { get; set; }

    /// <summary>The transfer's flags: its mode (single-phase, pending, post, void, balancing, closing) and linking.</summary>
    [field: FieldOffset(118)]
    public TransferFlags Flags { get; set; }

    /// <summary>The time the ledger applied the transfer, in nanoseconds of its logical clock. Must be 0 on create.</summary>
    [field: FieldOffset(120)]
    public ulong Timestamp { get; set; }

    /// <inheritdoc />
    public readonly bool Equals(Transfer other) =>
        Id == other.Id && DebitAccountId == other.DebitAccountId && CreditAccountId == other.CreditAccountId &&
        Amount == other.Amount && PendingId == other.PendingId && UserData128 == other.UserData128 &&
        UserData64 == other.UserData64 && UserData32 == other.UserData32 && Timeout == other.Timeout &&
        LedgerId == other.LedgerId && Code == other.Code && Flags == other.Flags && Timestamp == other.Timestamp;

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is Transfer other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode() => HashCode.Combine(Id, DebitAccountId, CreditAccountId, Amount, Timestamp);

    /// <summary>Compares two transfers field by field.</summary>
    public static bool operator ==(Transfer left, Transfer right) => left.Equals(right);

    /// <summary>Compares two transfers field by field.</summary>
    public static bool operator !=(Transfer left, Transfer right) => !left.Equals(right);

    /// <inheritdoc />
    public override readonly string ToString() =>
        $"Transfer {{ Id = {Id}, Debit = {DebitAccountId}, Credit = {CreditAccountId}, Amount = {Amount}, PendingId = {PendingId}, Ledger = {LedgerId}, Code = {Code}, Flags = {Flags}, Timeout = {Timeout}, Timestamp = {Timestamp} }}";
}
