using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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
/// <para>
/// <see cref="Encode"/>, <see cref="TryEncode"/> and <see cref="TryParse"/> write and read exactly this layout,
/// field by field, whatever the platform's byte order; they check no field (any 128 bytes are some account: the
/// ledger validates fields when an account is created).
/// </para>
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

    /// <summary>Writes the account in its 128-byte little-endian layout (the byte table in the remarks).</summary>
    /// <param name="destination">Receives the record in its first <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/> bytes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowHelper.ThrowArgumentException_RecordBufferTooShort(nameof(destination), Size);
        }

        Write(in this, destination);
    }

    /// <summary>Writes the account in its 128-byte little-endian layout, if it fits.</summary>
    /// <param name="destination">Receives the record in its first <see cref="Size"/> bytes.</param>
    /// <param name="bytesWritten"><see cref="Size"/> on success; 0 otherwise.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough; nothing is written when it was not.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool TryEncode(Span<byte> destination, out int bytesWritten)
    {
        if (destination.Length < Size)
        {
            bytesWritten = 0;
            return false;
        }

        Write(in this, destination);
        bytesWritten = Size;
        return true;
    }

    /// <summary>Reads an account from its 128-byte little-endian layout (the byte table in the remarks).</summary>
    /// <param name="source">The record in its first <see cref="Size"/> bytes; bytes after them are ignored.</param>
    /// <param name="account">The account read; default when <paramref name="source"/> is too short.</param>
    /// <returns>
    /// Whether <paramref name="source"/> holds at least <see cref="Size"/> bytes. No field is checked: any 128 bytes
    /// decode to some account, and the ledger validates fields when it is asked to create one.
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryParse(ReadOnlySpan<byte> source, out Account account)
    {
        if (source.Length < Size)
        {
            account = default;
            return false;
        }

        Read(source, out account);
        return true;
    }

    /// <summary>
    /// Encodes <paramref name="source"/> back to back into <paramref name="destination"/>, which the caller (the
    /// ledger's snapshot writer) has checked holds <c>source.Length * Size</c> bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void EncodeAll(ReadOnlySpan<Account> source, Span<byte> destination)
    {
        if (destination.Length / Size < source.Length)
        {
            ThrowHelper.ThrowArgumentException_RecordBufferTooShort(nameof(destination), (long)source.Length * Size);
        }

        for (int i = 0; i < source.Length; i++)
        {
            // Offsets stay below destination.Length (checked above), which is an int.
            Write(in source[i], destination.Slice(unchecked(i * Size), Size));
        }
    }

    /// <summary>
    /// Decodes <c>destination.Length</c> records laid back to back in <paramref name="source"/>, which the caller
    /// has checked holds <c>destination.Length * Size</c> bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DecodeAll(ReadOnlySpan<byte> source, Span<Account> destination)
    {
        if (source.Length / Size < destination.Length)
        {
            ThrowHelper.ThrowArgumentException_RecordBufferTooShort(nameof(source), (long)destination.Length * Size);
        }

        for (int i = 0; i < destination.Length; i++)
        {
            Read(source.Slice(unchecked(i * Size), Size), out destination[i]);
        }
    }

    // The layout, once. The caller guarantees Size bytes; slicing to exactly Size first lets the JIT prove every
    // constant-offset write below in range and drop their bounds checks, which matters in the snapshot loops.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(in Account a, Span<byte> destination)
    {
        Span<byte> d = destination[..Size];
        BinaryPrimitives.WriteUInt128LittleEndian(d[0..], a.Id);
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], a.DebitsPending);
        BinaryPrimitives.WriteUInt128LittleEndian(d[32..], a.DebitsPosted);
        BinaryPrimitives.WriteUInt128LittleEndian(d[48..], a.CreditsPending);
        BinaryPrimitives.WriteUInt128LittleEndian(d[64..], a.CreditsPosted);
        BinaryPrimitives.WriteUInt128LittleEndian(d[80..], a.UserData128);
        BinaryPrimitives.WriteUInt64LittleEndian(d[96..], a.UserData64);
        BinaryPrimitives.WriteUInt32LittleEndian(d[104..], a.UserData32);
        BinaryPrimitives.WriteUInt32LittleEndian(d[108..], a.Reserved);
        BinaryPrimitives.WriteUInt32LittleEndian(d[112..], a.LedgerId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[116..], a.Code);
        BinaryPrimitives.WriteUInt16LittleEndian(d[118..], (ushort)a.Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(d[120..], a.Timestamp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Read(ReadOnlySpan<byte> source, out Account a)
    {
        ReadOnlySpan<byte> s = source[..Size];
        // Every one of the 128 bytes is assigned below, so zeroing the record first would only cost time.
        Unsafe.SkipInit(out a);
        a.Id = BinaryPrimitives.ReadUInt128LittleEndian(s[0..]);
        a.DebitsPending = BinaryPrimitives.ReadUInt128LittleEndian(s[16..]);
        a.DebitsPosted = BinaryPrimitives.ReadUInt128LittleEndian(s[32..]);
        a.CreditsPending = BinaryPrimitives.ReadUInt128LittleEndian(s[48..]);
        a.CreditsPosted = BinaryPrimitives.ReadUInt128LittleEndian(s[64..]);
        a.UserData128 = BinaryPrimitives.ReadUInt128LittleEndian(s[80..]);
        a.UserData64 = BinaryPrimitives.ReadUInt64LittleEndian(s[96..]);
        a.UserData32 = BinaryPrimitives.ReadUInt32LittleEndian(s[104..]);
        a.Reserved = BinaryPrimitives.ReadUInt32LittleEndian(s[108..]);
        a.LedgerId = BinaryPrimitives.ReadUInt32LittleEndian(s[112..]);
        a.Code = BinaryPrimitives.ReadUInt16LittleEndian(s[116..]);
        a.Flags = (AccountFlags)BinaryPrimitives.ReadUInt16LittleEndian(s[118..]);
        a.Timestamp = BinaryPrimitives.ReadUInt64LittleEndian(s[120..]);
    }

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
