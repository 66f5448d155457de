using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Crypto;
using Micropay.Core.Ledger;

namespace Micropay.Core.Identity;

/// <summary>
/// A change to the key registry, applied by the ledger as a journaled operation: register a key to an account with a
/// spending policy, replace a key's policy, or revoke a key. The operator's service submits these (the ledger trusts its
/// caller for them, as for creating accounts); a key's own signatures authorise payments, not registry changes.
/// </summary>
/// <remarks>
/// <para>Journal record (version 1, 1024 bytes, little-endian):</para>
/// <code>
/// offset size field
///      0    1 Version              1
///      1    1 Kind                 KeyOperationKind: 1 Register, 2 UpdatePolicy, 3 Revoke
///      2    1 KeyKind              Register: KeyKind (1 Ed25519, 2 Passkey); otherwise 0
///      3    1 CredentialIdLength   Register of a passkey: 1..255; otherwise 0
///      4    1 RelyingPartyIdLength Register of a passkey: 1..128; otherwise 0
///      5    1 OriginLength         Register of a passkey: 1..192; otherwise 0
///      6   10 Reserved             0
///     16   16 AccountId            Register: the account, not 0, not reserved; otherwise 0
///     32   16 KeyId                the key, not 0; for Register the id its public key derives (KeyIds)
///     48   64 PublicKey            Register: Ed25519 key then 32 zeros, or the passkey's x || y; otherwise 0
///    112  256 Policy               Register and UpdatePolicy: SpendingPolicy's encoding; Revoke: 0
///    368  255 CredentialId         passkey: the credential id, zero-padded; otherwise 0
///    623  128 RelyingPartyId       passkey: ASCII, zero-padded; otherwise 0
///    751  192 Origin               passkey: ASCII, zero-padded; otherwise 0
///    943   81 Reserved             0
/// </code>
/// </remarks>
public readonly struct KeyOperation : IEquatable<KeyOperation>
{
    /// <summary>The size of the journal record: 1024 bytes.</summary>
    public const int Size = 1024;

    /// <summary>The record version this library writes and reads: 1.</summary>
    public const byte CurrentVersion = 1;

    private const int PolicyOffset = 112;
    private const int CredentialOffset = 368;
    private const int RelyingPartyOffset = 623;
    private const int OriginOffset = 751;
    private const int TailOffset = 943;

    private KeyOperation(KeyOperationKind kind, UInt128 keyId, UInt128 accountId, VerificationKey? ed25519, PasskeyCredential? passkey, SpendingPolicy? policy)
    {
        Kind = kind;
        KeyId = keyId;
        AccountId = accountId;
        Ed25519Key = ed25519;
        Passkey = passkey;
        Policy = policy;
    }

    /// <summary>What the operation does (0 only for a default value).</summary>
    public KeyOperationKind Kind { get; }

    /// <summary>The key's id (<see cref="KeyIds"/>).</summary>
    public UInt128 KeyId { get; }

    /// <summary>Register: the account the key is bound to; otherwise 0.</summary>
    public UInt128 AccountId { get; }

    /// <summary>Register of an Ed25519 key: the key; otherwise null.</summary>
    public VerificationKey? Ed25519Key { get; }

    /// <summary>Register of a passkey: the credential; otherwise null.</summary>
    public PasskeyCredential? Passkey { get; }

    /// <summary>Register and UpdatePolicy: the policy; otherwise null.</summary>
    public SpendingPolicy? Policy { get; }

    /// <summary>Registers an Ed25519 key (a device's key) to an account.</summary>
    /// <param name="accountId">The account; not 0 and not reserved.</param>
    /// <param name="key">The key.</param>
    /// <param name="policy">What the key may spend.</param>
    /// <returns>The operation.</returns>
    /// <exception cref="ArgumentException">The account id is 0 or reserved, or the policy is not valid.</exception>
    public static KeyOperation RegisterEd25519(UInt128 accountId, VerificationKey key, SpendingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckRegistration(accountId, policy);
        return new KeyOperation(KeyOperationKind.Register, KeyIds.Of(key), accountId, key, null, policy);
    }

    /// <summary>Registers a passkey credential (a person's phone or security key) to an account; it can co-sign the account's payments.</summary>
    /// <param name="accountId">The account; not 0 and not reserved.</param>
    /// <param name="credential">The credential.</param>
    /// <param name="policy">The key's policy (its validity times apply to its co-signatures).</param>
    /// <returns>The operation.</returns>
    /// <exception cref="ArgumentException">The account id is 0 or reserved, or the policy is not valid.</exception>
    public static KeyOperation RegisterPasskey(UInt128 accountId, PasskeyCredential credential, SpendingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(credential);
        CheckRegistration(accountId, policy);
        return new KeyOperation(KeyOperationKind.Register, KeyIds.Of(credential), accountId, null, credential, policy);
    }

    /// <summary>Replaces a key's policy.</summary>
    /// <param name="keyId">The key; not 0.</param>
    /// <param name="policy">The new policy.</param>
    /// <returns>The operation.</returns>
    /// <exception cref="ArgumentException">The key id is 0 or the policy is not valid.</exception>
    public static KeyOperation UpdatePolicy(UInt128 keyId, SpendingPolicy policy)
    {
        CheckKeyId(keyId);
        CheckPolicy(policy);
        return new KeyOperation(KeyOperationKind.UpdatePolicy, keyId, UInt128.Zero, null, null, policy);
    }

    /// <summary>Revokes a key.</summary>
    /// <param name="keyId">The key; not 0.</param>
    /// <returns>The operation.</returns>
    /// <exception cref="ArgumentException">The key id is 0.</exception>
    public static KeyOperation Revoke(UInt128 keyId)
    {
        CheckKeyId(keyId);
        return new KeyOperation(KeyOperationKind.Revoke, keyId, UInt128.Zero, null, null, null);
    }

    /// <summary>Writes the 1024-byte record.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidOperationException">This is a default value.</exception>
    public void Encode(Span<byte> destination)
    {
        if (Kind == 0)
        {
            throw new InvalidOperationException("A default KeyOperation has nothing to encode.");
        }

        if (destination.Length < Size)
        {
            throw new ArgumentException($"A key operation takes {Size} bytes.", nameof(destination));
        }

        Span<byte> d = destination[..Size];
        d.Clear();
        d[0] = CurrentVersion;
        d[1] = (byte)Kind;
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], AccountId);
        BinaryPrimitives.WriteUInt128LittleEndian(d[32..], KeyId);
        Policy?.Encode(d[PolicyOffset..]);
        if (Ed25519Key is { } key)
        {
            d[2] = (byte)KeyKind.Ed25519;
            key.CopyTo(d[48..]);
        }
        else if (Passkey is { } passkey)
        {
            d[2] = (byte)KeyKind.Passkey;
            passkey.CopyPublicKeyTo(d[48..]);
            d[3] = (byte)passkey.CredentialId.Length;
            passkey.CredentialId.Span.CopyTo(d[CredentialOffset..]);
            d[4] = (byte)Encoding.ASCII.GetBytes(passkey.RelyingPartyId, d[RelyingPartyOffset..OriginOffset]);
            d[5] = (byte)Encoding.ASCII.GetBytes(passkey.Origin, d[OriginOffset..TailOffset]);
        }
    }

    /// <summary>Reads a record, checking every rule of the table (a passkey's point is checked to be on P-256). Never throws.</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="operation">The operation, or default.</param>
    /// <param name="error">The first rule broken, or <see cref="IdentityFormatError.None"/>.</param>
    /// <returns>Whether the bytes are a well-formed record.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out KeyOperation operation, out IdentityFormatError error)
    {
        operation = default;
        error = Parse(source, out operation);
        return error == IdentityFormatError.None;
    }

    /// <inheritdoc />
    public bool Equals(KeyOperation other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        if (Kind == 0)
        {
            return true;
        }

        Span<byte> a = stackalloc byte[Size];
        Span<byte> b = stackalloc byte[Size];
        Encode(a);
        other.Encode(b);
        return a.SequenceEqual(b);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is KeyOperation other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, KeyId, AccountId);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        KeyOperationKind.Register => $"KeyOperation(register {(Passkey is null ? "Ed25519" : "passkey")} key {KeyId:X32} to account {AccountId})",
        0 => "KeyOperation(default)",
        _ => $"KeyOperation({Kind} key {KeyId:X32})",
    };

    /// <summary>Tests equality (the records' bytes).</summary>
    public static bool operator ==(KeyOperation left, KeyOperation right) => left.Equals(right);

    /// <summary>Tests inequality.</summary>
    public static bool operator !=(KeyOperation left, KeyOperation right) => !left.Equals(right);

    private static IdentityFormatError Parse(ReadOnlySpan<byte> s, out KeyOperation operation)
    {
        operation = default;
        if (s.Length != Size)
        {
            return IdentityFormatError.WrongLength;
        }

        if (s[0] != CurrentVersion)
        {
            return IdentityFormatError.UnknownVersion;
        }

        var kind = (KeyOperationKind)s[1];
        if (kind is not (KeyOperationKind.Register or KeyOperationKind.UpdatePolicy or KeyOperationKind.Revoke))
        {
            return IdentityFormatError.UnknownKind;
        }

        var keyKind = (KeyKind)s[2];
        bool register = kind == KeyOperationKind.Register;
        if (register ? keyKind is not (KeyKind.Ed25519 or KeyKind.Passkey) : keyKind != 0)
        {
            return register ? IdentityFormatError.UnknownKind : IdentityFormatError.ReservedNotZero;
        }

        bool passkey = register && keyKind == KeyKind.Passkey;
        if (s[6..16].ContainsAnyExcept((byte)0) || s[TailOffset..].ContainsAnyExcept((byte)0) ||
            (!passkey && (s[3] != 0 || s[4] != 0 || s[5] != 0 || s[CredentialOffset..TailOffset].ContainsAnyExcept((byte)0))) ||
            (!register && (s[16..32].ContainsAnyExcept((byte)0) || s[48..PolicyOffset].ContainsAnyExcept((byte)0))) ||
            (kind == KeyOperationKind.Revoke && s[PolicyOffset..CredentialOffset].ContainsAnyExcept((byte)0)) ||
            (keyKind == KeyKind.Ed25519 && s[80..PolicyOffset].ContainsAnyExcept((byte)0)))
        {
            return IdentityFormatError.ReservedNotZero;
        }

        UInt128 accountId = BinaryPrimitives.ReadUInt128LittleEndian(s[16..]);
        UInt128 keyId = BinaryPrimitives.ReadUInt128LittleEndian(s[32..]);
        if (register && (accountId == UInt128.Zero || ReservedIds.IsReserved(accountId)))
        {
            return IdentityFormatError.BadAccountId;
        }

        if (keyId == UInt128.Zero)
        {
            return IdentityFormatError.BadKeyId;
        }

        SpendingPolicy? policy = null;
        if (kind != KeyOperationKind.Revoke && !SpendingPolicy.TryParse(s.Slice(PolicyOffset, SpendingPolicy.EncodedSize), out policy, out _))
        {
            return IdentityFormatError.BadPolicy;
        }

        switch (kind)
        {
            case KeyOperationKind.Revoke:
                operation = new KeyOperation(kind, keyId, UInt128.Zero, null, null, null);
                return IdentityFormatError.None;
            case KeyOperationKind.UpdatePolicy:
                operation = new KeyOperation(kind, keyId, UInt128.Zero, null, null, policy);
                return IdentityFormatError.None;
        }

        if (keyKind == KeyKind.Ed25519)
        {
            if (!VerificationKey.TryCreate(s.Slice(48, VerificationKey.Size), out VerificationKey? key))
            {
                return IdentityFormatError.BadPublicKey;
            }

            if (KeyIds.Of(key) != keyId)
            {
                return IdentityFormatError.BadKeyId;
            }

            operation = new KeyOperation(kind, keyId, accountId, key, null, policy);
            return IdentityFormatError.None;
        }

        int credentialLength = s[3];
        int relyingPartyLength = s[4];
        int originLength = s[5];
        if (credentialLength == 0 || relyingPartyLength is 0 or > PasskeyCredential.MaxRelyingPartyIdLength ||
            originLength is 0 or > PasskeyCredential.MaxOriginLength)
        {
            return IdentityFormatError.BadPasskeyField;
        }

        if (s[(CredentialOffset + credentialLength)..RelyingPartyOffset].ContainsAnyExcept((byte)0) ||
            s[(RelyingPartyOffset + relyingPartyLength)..OriginOffset].ContainsAnyExcept((byte)0) ||
            s[(OriginOffset + originLength)..TailOffset].ContainsAnyExcept((byte)0))
        {
            return IdentityFormatError.ReservedNotZero;
        }

        ReadOnlySpan<byte> relyingParty = s.Slice(RelyingPartyOffset, relyingPartyLength);
        ReadOnlySpan<byte> origin = s.Slice(OriginOffset, originLength);
        if (!IsPrintableAscii(relyingParty) || !IsPrintableAscii(origin))
        {
            return IdentityFormatError.BadPasskeyField;
        }

        if (!PasskeyCredential.TryCreate(
                s.Slice(CredentialOffset, credentialLength), s.Slice(48, PasskeyCredential.PublicKeySize),
                Encoding.ASCII.GetString(relyingParty), Encoding.ASCII.GetString(origin), out PasskeyCredential? credential, out PasskeyKeyError keyError))
        {
            return keyError is PasskeyKeyError.MalformedPublicKey or PasskeyKeyError.WrongCurve ? IdentityFormatError.BadPublicKey : IdentityFormatError.BadPasskeyField;
        }

        if (KeyIds.Of(credential) != keyId)
        {
            return IdentityFormatError.BadKeyId;
        }

        operation = new KeyOperation(kind, keyId, accountId, null, credential, policy);
        return IdentityFormatError.None;
    }

    private static bool IsPrintableAscii(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E);

    private static void CheckRegistration(UInt128 accountId, SpendingPolicy policy)
    {
        if (accountId == UInt128.Zero || ReservedIds.IsReserved(accountId))
        {
            throw new ArgumentException("The account id must not be 0 or in the range the ledger reserves (ReservedIds).", nameof(accountId));
        }

        CheckPolicy(policy);
    }

    private static void CheckPolicy(SpendingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Validate() is { } why)
        {
            throw new ArgumentException(why, nameof(policy));
        }
    }

    private static void CheckKeyId(UInt128 keyId)
    {
        if (keyId == UInt128.Zero)
        {
            throw new ArgumentException("The key id must not be 0.", nameof(keyId));
        }
    }
}
