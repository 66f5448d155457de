using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;

namespace Micropay.Core.Identity;

/// <summary>
/// A signed payment order: a direct single-phase transfer authorised by a key registered to the debit account. The
/// ledger applies it only if the key is the debit account's, active, and its <see cref="SpendingPolicy"/> allows the
/// payment (and, above the policy's step-up threshold, only with a <see cref="CoSignature"/> of another key of the account).
/// The order's id is the transfer's id, so a retried order is answered as a retried transfer.
/// </summary>
/// <remarks>
/// <para>Wire format and journal record (version 1, little-endian); 256 bytes, or 1024 with a co-signature:</para>
/// <code>
/// offset size field
///      0    1 Version          1
///      1    1 Reserved         0
///      2    2 Code             the transfer's code
///      4    4 LedgerId         the transfer's ledger
///      8    8 ValidUntil       ledger time (nanoseconds) after which the order is refused; not 0
///     16   16 Id               the transfer's id; not 0
///     32   16 DebitAccountId   the payer: the key's account
///     48   16 CreditAccountId  the payee
///     64   16 Amount           not 0
///     80   16 KeyId            the signing key (KeyIds); not 0
///     96   16 UserData128
///    112    8 UserData64
///    120    4 UserData32
///    124    4 Reserved         0
///    128   64 Signature        Ed25519 by the key over "micropay/payment-order/v1" (zero-padded to 32 bytes)
///                              || InstanceId || bytes 0..127
///    192   64 Reserved         0 (the 256-byte record)
///    192  832 CoSignature      the 1024-byte record: CoSignature's encoding (all zeros: none)
/// </code>
/// <para>
/// The signature binds every transfer field, the key, the expiry and the ledger instance: a flipped bit anywhere in bytes
/// 0..191 makes the order fail (a bad signature, or a reserved byte that is not zero). The passkey challenge for a
/// step-up is the SHA-256 of the signed message (<see cref="ComputeChallenge"/>). The ledger checks the signatures at its
/// edge, on the caller's thread, and the key's state and policy on its apply thread.
/// </para>
/// </remarks>
public readonly struct PaymentOrder : IEquatable<PaymentOrder>
{
    /// <summary>The size of an order's record without a co-signature: 256 bytes.</summary>
    public const int Size = 256;

    /// <summary>The size of a co-signed order's record: 1024 bytes.</summary>
    public const int CoSignedSize = 1024;

    /// <summary>The format version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The number of leading bytes the signature covers (after the tag and instance id): 128.</summary>
    internal const int SignedSize = 128;

    private const int CoSignatureOffset = SignedSize + VerificationKey.SignatureSize;

    private readonly SignatureBuffer _signature;

    private PaymentOrder(in Fields f, ReadOnlySpan<byte> signature, CoSignature? coSignature)
    {
        Id = f.Id;
        DebitAccountId = f.DebitAccountId;
        CreditAccountId = f.CreditAccountId;
        Amount = f.Amount;
        LedgerId = f.LedgerId;
        Code = f.Code;
        UserData128 = f.UserData128;
        UserData64 = f.UserData64;
        UserData32 = f.UserData32;
        KeyId = f.KeyId;
        ValidUntil = f.ValidUntil;
        signature.CopyTo(_signature);
        CoSignature = coSignature;
    }

    /// <summary>The order's id: the id of the transfer it creates.</summary>
    public UInt128 Id { get; }

    /// <summary>The payer: the account the signing key is registered to.</summary>
    public UInt128 DebitAccountId { get; }

    /// <summary>The payee.</summary>
    public UInt128 CreditAccountId { get; }

    /// <summary>The amount, in the ledger's smallest unit.</summary>
    public UInt128 Amount { get; }

    /// <summary>The transfer's ledger.</summary>
    public uint LedgerId { get; }

    /// <summary>The transfer's code.</summary>
    public ushort Code { get; }

    /// <summary>The transfer's user data.</summary>
    public UInt128 UserData128 { get; }

    /// <summary>The transfer's user data.</summary>
    public ulong UserData64 { get; }

    /// <summary>The transfer's user data.</summary>
    public uint UserData32 { get; }

    /// <summary>The signing key's id (<see cref="KeyIds"/>).</summary>
    public UInt128 KeyId { get; }

    /// <summary>The last ledger time (nanoseconds) at which the order may be applied.</summary>
    public ulong ValidUntil { get; }

    /// <summary>The step-up co-signature, or null.</summary>
    public CoSignature? CoSignature { get; }

    /// <summary>The record's size: <see cref="Size"/>, or <see cref="CoSignedSize"/> with a co-signature.</summary>
    public int EncodedSize => CoSignature is null ? Size : CoSignedSize;

    /// <summary>Signs an order with the payer's registered key.</summary>
    /// <param name="key">The key registered to <paramref name="transfer"/>'s debit account.</param>
    /// <param name="instanceId">The ledger instance; not 0.</param>
    /// <param name="transfer">
    /// The transfer: id, accounts, amount, ledger, code and user data are used; it must be single-phase (no flags, no
    /// pending id, no timeout, timestamp 0).
    /// </param>
    /// <param name="validUntil">The last ledger time (nanoseconds) at which the order may be applied; not 0.</param>
    /// <returns>The signed order.</returns>
    /// <exception cref="ArgumentException">A field breaks a rule of the format, or the transfer is not a plain single-phase one.</exception>
    public static PaymentOrder Sign(SigningKey key, UInt128 instanceId, in Transfer transfer, ulong validUntil)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (instanceId == UInt128.Zero)
        {
            throw new ArgumentException("The ledger instance id must not be 0.", nameof(instanceId));
        }

        if (transfer.Flags != TransferFlags.None || transfer.PendingId != UInt128.Zero || transfer.Timeout != 0 || transfer.Timestamp != 0)
        {
            throw new ArgumentException("A payment order is a single-phase transfer: no flags, pending id, timeout or timestamp.", nameof(transfer));
        }

        var fields = new Fields
        {
            Id = transfer.Id,
            DebitAccountId = transfer.DebitAccountId,
            CreditAccountId = transfer.CreditAccountId,
            Amount = transfer.Amount,
            LedgerId = transfer.LedgerId,
            Code = transfer.Code,
            UserData128 = transfer.UserData128,
            UserData64 = transfer.UserData64,
            UserData32 = transfer.UserData32,
            KeyId = KeyIds.Of(key.VerificationKey),
            ValidUntil = validUntil,
        };
        IdentityFormatError error = fields.Check();
        if (error != IdentityFormatError.None)
        {
            throw new ArgumentException($"The order breaks a rule of its format ({error}).", error == IdentityFormatError.ZeroValidUntil ? nameof(validUntil) : nameof(transfer));
        }

        Span<byte> body = stackalloc byte[SignedSize];
        fields.Write(body);
        Span<byte> signature = stackalloc byte[VerificationKey.SignatureSize];
        SignedMessage.Sign(key, DomainTags.PaymentOrder, instanceId, body, signature);
        return new PaymentOrder(fields, signature, null);
    }

    /// <summary>This order with a step-up co-signature attached (the signature itself is unchanged).</summary>
    /// <param name="coSignature">The co-signature, or null to remove one.</param>
    /// <returns>The order.</returns>
    public PaymentOrder WithCoSignature(CoSignature? coSignature) => new(ToFields(), _signature, coSignature);

    /// <summary>Checks the first signature with the key's verification key, for ledger instance <paramref name="instanceId"/>. Allocates nothing.</summary>
    /// <param name="key">The order key's verification key.</param>
    /// <param name="instanceId">The ledger instance.</param>
    /// <returns>Whether the signature is valid (false for a default value).</returns>
    public bool Verify(VerificationKey key, UInt128 instanceId)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Id == UInt128.Zero)
        {
            return false;
        }

        Span<byte> body = stackalloc byte[SignedSize];
        ToFields().Write(body);
        return SignedMessage.Verify(key, DomainTags.PaymentOrder, instanceId, body, _signature);
    }

    /// <summary>The challenge a passkey signs to co-sign this order: SHA-256 of the signed message.</summary>
    /// <param name="instanceId">The ledger instance.</param>
    /// <param name="destination">At least 32 bytes.</param>
    public void ComputeChallenge(UInt128 instanceId, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + SignedSize];
        SHA256.HashData(AssembleMessage(buffer, instanceId), destination);
    }

    /// <summary>The transfer the order creates.</summary>
    /// <returns>A single-phase transfer with timestamp 0.</returns>
    public Transfer ToTransfer() => new()
    {
        Id = Id,
        DebitAccountId = DebitAccountId,
        CreditAccountId = CreditAccountId,
        Amount = Amount,
        LedgerId = LedgerId,
        Code = Code,
        UserData128 = UserData128,
        UserData64 = UserData64,
        UserData32 = UserData32,
    };

    /// <summary>Copies the 64-byte signature.</summary>
    /// <param name="destination">At least 64 bytes.</param>
    public void CopySignatureTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_signature).CopyTo(destination);

    /// <summary>Writes the record: <see cref="EncodedSize"/> bytes.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination) => EncodeRecord(destination, EncodedSize);

    /// <summary>Reads a 256- or 1024-byte record, checking every rule of the table (not the signatures). Never throws.</summary>
    /// <param name="source">Exactly <see cref="Size"/> or <see cref="CoSignedSize"/> bytes.</param>
    /// <param name="order">The order, or default.</param>
    /// <param name="error">The first rule broken, or <see cref="IdentityFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed order.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out PaymentOrder order, out IdentityFormatError error)
    {
        order = default;
        if (source.Length is not (Size or CoSignedSize))
        {
            error = IdentityFormatError.WrongLength;
            return false;
        }

        if (source[0] != CurrentVersion)
        {
            error = IdentityFormatError.UnknownVersion;
            return false;
        }

        if (source[1] != 0 || source[124..128].ContainsAnyExcept((byte)0) || (source.Length == Size && source[CoSignatureOffset..].ContainsAnyExcept((byte)0)))
        {
            error = IdentityFormatError.ReservedNotZero;
            return false;
        }

        var fields = new Fields
        {
            Code = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
            LedgerId = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            ValidUntil = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            Id = BinaryPrimitives.ReadUInt128LittleEndian(source[16..]),
            DebitAccountId = BinaryPrimitives.ReadUInt128LittleEndian(source[32..]),
            CreditAccountId = BinaryPrimitives.ReadUInt128LittleEndian(source[48..]),
            Amount = BinaryPrimitives.ReadUInt128LittleEndian(source[64..]),
            KeyId = BinaryPrimitives.ReadUInt128LittleEndian(source[80..]),
            UserData128 = BinaryPrimitives.ReadUInt128LittleEndian(source[96..]),
            UserData64 = BinaryPrimitives.ReadUInt64LittleEndian(source[112..]),
            UserData32 = BinaryPrimitives.ReadUInt32LittleEndian(source[120..]),
        };
        error = fields.Check();
        if (error != IdentityFormatError.None)
        {
            return false;
        }

        CoSignature? coSignature = null;
        if (source.Length == CoSignedSize && !CoSignature.TryParse(source[CoSignatureOffset..], out coSignature, out error))
        {
            return false;
        }

        order = new PaymentOrder(fields, source.Slice(SignedSize, VerificationKey.SignatureSize), coSignature);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(PaymentOrder other)
    {
        if (EncodedSize != other.EncodedSize)
        {
            return false;
        }

        if (Id == UInt128.Zero || other.Id == UInt128.Zero)
        {
            return Id == other.Id && other.Id == UInt128.Zero;
        }

        Span<byte> a = stackalloc byte[CoSignedSize];
        Span<byte> b = stackalloc byte[CoSignedSize];
        Encode(a);
        other.Encode(b);
        return a.SequenceEqual(b);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PaymentOrder other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, KeyId, Amount);

    /// <inheritdoc />
    public override string ToString() =>
        $"PaymentOrder {{ Id = {Id}, Debit = {DebitAccountId}, Credit = {CreditAccountId}, Amount = {Amount}, Key = {KeyId:X32}{(CoSignature is null ? "" : ", co-signed")} }}";

    /// <summary>Tests equality (the records' bytes).</summary>
    public static bool operator ==(PaymentOrder left, PaymentOrder right) => left.Equals(right);

    /// <summary>Tests inequality.</summary>
    public static bool operator !=(PaymentOrder left, PaymentOrder right) => !left.Equals(right);

    /// <summary>Writes the record at <paramref name="recordSize"/> (256 without co-signature, 1024 with or without one).</summary>
    internal void EncodeRecord(Span<byte> destination, int recordSize)
    {
        if (Id == UInt128.Zero)
        {
            throw new InvalidOperationException("A default PaymentOrder has nothing to encode.");
        }

        if (destination.Length < recordSize || (recordSize == Size && CoSignature is not null))
        {
            throw new ArgumentException($"The order takes {EncodedSize} bytes.", nameof(destination));
        }

        Span<byte> d = destination[..recordSize];
        ToFields().Write(d);
        ((ReadOnlySpan<byte>)_signature).CopyTo(d[SignedSize..]);
        if (CoSignature is { } coSignature)
        {
            coSignature.Encode(d[CoSignatureOffset..]);
        }
        else
        {
            d[CoSignatureOffset..].Clear();
        }
    }

    /// <summary>Assembles the signed message (tag, instance, the 128 signed bytes) into <paramref name="buffer"/>.</summary>
    internal Span<byte> AssembleMessage(Span<byte> buffer, UInt128 instanceId)
    {
        Span<byte> body = stackalloc byte[SignedSize];
        ToFields().Write(body);
        return SignedMessage.Assemble(buffer, DomainTags.PaymentOrder, instanceId, body);
    }

    private Fields ToFields() => new()
    {
        Id = Id,
        DebitAccountId = DebitAccountId,
        CreditAccountId = CreditAccountId,
        Amount = Amount,
        LedgerId = LedgerId,
        Code = Code,
        UserData128 = UserData128,
        UserData64 = UserData64,
        UserData32 = UserData32,
        KeyId = KeyId,
        ValidUntil = ValidUntil,
    };

    // The signed fields, once: what Sign, TryParse and the record share.
    private struct Fields
    {
        public UInt128 Id;
        public UInt128 DebitAccountId;
        public UInt128 CreditAccountId;
        public UInt128 Amount;
        public UInt128 UserData128;
        public UInt128 KeyId;
        public ulong UserData64;
        public ulong ValidUntil;
        public uint UserData32;
        public uint LedgerId;
        public ushort Code;

        public readonly IdentityFormatError Check() =>
            Id == UInt128.Zero ? IdentityFormatError.ZeroId
            : Amount == UInt128.Zero ? IdentityFormatError.ZeroAmount
            : KeyId == UInt128.Zero ? IdentityFormatError.BadKeyId
            : ValidUntil == 0 ? IdentityFormatError.ZeroValidUntil
            : IdentityFormatError.None;

        // Bytes 0..127: the signed part.
        public readonly void Write(Span<byte> destination)
        {
            Span<byte> d = destination[..SignedSize];
            d[0] = CurrentVersion;
            d[1] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(d[2..], Code);
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], LedgerId);
            BinaryPrimitives.WriteUInt64LittleEndian(d[8..], ValidUntil);
            BinaryPrimitives.WriteUInt128LittleEndian(d[16..], Id);
            BinaryPrimitives.WriteUInt128LittleEndian(d[32..], DebitAccountId);
            BinaryPrimitives.WriteUInt128LittleEndian(d[48..], CreditAccountId);
            BinaryPrimitives.WriteUInt128LittleEndian(d[64..], Amount);
            BinaryPrimitives.WriteUInt128LittleEndian(d[80..], KeyId);
            BinaryPrimitives.WriteUInt128LittleEndian(d[96..], UserData128);
            BinaryPrimitives.WriteUInt64LittleEndian(d[112..], UserData64);
            BinaryPrimitives.WriteUInt32LittleEndian(d[120..], UserData32);
            BinaryPrimitives.WriteUInt32LittleEndian(d[124..], 0);
        }
    }
}
