using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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
/// Each user data field it leaves zero is stored with the pending transfer's value (TigerBeetle's rule); one it
/// sets is kept.
/// A balancing transfer is stored with the amount actually moved.
/// </para>
/// <para>
/// <see cref="Encode"/>, <see cref="TryEncode"/> and <see cref="TryParse"/> write and read exactly this layout,
/// field by field, whatever the platform's byte order; they check no field (any 128 bytes are some transfer: the
/// ledger validates fields when a transfer is applied).
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
    /// <see cref="UInt128.MaxValue"/> posts the whole pending amount, anything else at most the pending amount; for a
    /// void, 0 or the pending amount.
    /// </summary>
    [field: FieldOffset(48)]
    public UInt128 Amount { get; set; }

    /// <summary>For a post or void, the id of the pending transfer; otherwise 0.</summary>
    [field: FieldOffset(64)]
    public UInt128 PendingId { get; set; }

    /// <summary>Opaque 128-bit user data, e.g. an invoice id. A post or void that leaves it 0 takes the pending transfer's.</summary>
    [field: FieldOffset(80)]
    public UInt128 UserData128 { get; set; }

    /// <summary>Opaque 64-bit user data. A post or void that leaves it 0 takes the pending transfer's.</summary>
    [field: FieldOffset(96)]
    public ulong UserData64 { get; set; }

    /// <summary>Opaque 32-bit user data. A post or void that leaves it 0 takes the pending transfer's.</summary>
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

    /// <summary>Writes the transfer in its 128-byte little-endian layout (the byte table in the remarks).</summary>
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

    /// <summary>Writes the transfer in its 128-byte little-endian layout, if it fits.</summary>
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

    /// <summary>Reads a transfer from its 128-byte little-endian layout (the byte table in the remarks).</summary>
    /// <param name="source">The record in its first <see cref="Size"/> bytes; bytes after them are ignored.</param>
    /// <param name="transfer">The transfer read; default when <paramref name="source"/> is too short.</param>
    /// <returns>
    /// Whether <paramref name="source"/> holds at least <see cref="Size"/> bytes. No field is checked: any 128 bytes
    /// decode to some transfer, and the ledger validates fields when it is asked to apply one.
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryParse(ReadOnlySpan<byte> source, out Transfer transfer)
    {
        if (source.Length < Size)
        {
            transfer = default;
            return false;
        }

        Read(source, out transfer);
        return true;
    }

    /// <summary>
    /// Encodes <paramref name="source"/> back to back into <paramref name="destination"/>, which the caller (the
    /// ledger's snapshot writer) has checked holds <c>source.Length * Size</c> bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void EncodeAll(ReadOnlySpan<Transfer> source, Span<byte> destination)
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
    internal static void DecodeAll(ReadOnlySpan<byte> source, Span<Transfer> destination)
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
    private static void Write(in Transfer t, Span<byte> destination)
    {
        Span<byte> d = destination[..Size];
        BinaryPrimitives.WriteUInt128LittleEndian(d[0..], t.Id);
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], t.DebitAccountId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[32..], t.CreditAccountId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[48..], t.Amount);
        BinaryPrimitives.WriteUInt128LittleEndian(d[64..], t.PendingId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[80..], t.UserData128);
        BinaryPrimitives.WriteUInt64LittleEndian(d[96..], t.UserData64);
        BinaryPrimitives.WriteUInt32LittleEndian(d[104..], t.UserData32);
        BinaryPrimitives.WriteUInt32LittleEndian(d[108..], t.Timeout);
        BinaryPrimitives.WriteUInt32LittleEndian(d[112..], t.LedgerId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[116..], t.Code);
        BinaryPrimitives.WriteUInt16LittleEndian(d[118..], (ushort)t.Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(d[120..], t.Timestamp);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Read(ReadOnlySpan<byte> source, out Transfer t)
    {
        ReadOnlySpan<byte> s = source[..Size];
        // Every one of the 128 bytes is assigned below, so zeroing the record first would only cost time.
        Unsafe.SkipInit(out t);
        t.Id = BinaryPrimitives.ReadUInt128LittleEndian(s[0..]);
        t.DebitAccountId = BinaryPrimitives.ReadUInt128LittleEndian(s[16..]);
        t.CreditAccountId = BinaryPrimitives.ReadUInt128LittleEndian(s[32..]);
        t.Amount = BinaryPrimitives.ReadUInt128LittleEndian(s[48..]);
        t.PendingId = BinaryPrimitives.ReadUInt128LittleEndian(s[64..]);
        t.UserData128 = BinaryPrimitives.ReadUInt128LittleEndian(s[80..]);
        t.UserData64 = BinaryPrimitives.ReadUInt64LittleEndian(s[96..]);
        t.UserData32 = BinaryPrimitives.ReadUInt32LittleEndian(s[104..]);
        t.Timeout = BinaryPrimitives.ReadUInt32LittleEndian(s[108..]);
        t.LedgerId = BinaryPrimitives.ReadUInt32LittleEndian(s[112..]);
        t.Code = BinaryPrimitives.ReadUInt16LittleEndian(s[116..]);
        t.Flags = (TransferFlags)BinaryPrimitives.ReadUInt16LittleEndian(s[118..]);
        t.Timestamp = BinaryPrimitives.ReadUInt64LittleEndian(s[120..]);
    }

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
