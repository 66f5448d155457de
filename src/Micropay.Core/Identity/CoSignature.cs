using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;

namespace Micropay.Core.Identity;

/// <summary>
/// A step-up co-signature: a second registered key of the same account approves exactly one payment order or channel
/// open, over the same signed message as the first key's signature. Either another Ed25519 key's signature of that
/// message, or a passkey's WebAuthn assertion whose challenge is the message's SHA-256 hash (the phone's biometric check
/// unlocks the passkey; the ledger sees only the assertion, with its user-verified flag).
/// </summary>
/// <remarks>
/// <para>Encoding (832 bytes, little-endian; the tail of a co-signed order's or open's journal record):</para>
/// <code>
/// offset size field
///      0    1 Kind        KeyKind of the co-signer: 1 Ed25519, 2 Passkey (0 with all bytes 0: no co-signature)
///      1   15 Reserved    0
///     16   16 KeyId       the co-signer's key id (KeyIds), not 0
///     32  800 Payload     Ed25519: the 64-byte signature, then zeros
///                         Passkey: PasskeyAssertion's encoding (at most 749 bytes), then zeros
/// </code>
/// <para>
/// The message co-signed is the one the first key signed: for an order, <c>"micropay/payment-order/v1" || instance id ||
/// the order's 128 signed bytes</c>; for a channel open, the open's. So a co-signature approves one payment on one
/// ledger instance and nothing else. The ledger verifies it at the edge; on its apply thread it checks that the
/// co-signer is another active key of the payer's account and, for a passkey, that the signature counter moved on.
/// </para>
/// </remarks>
public sealed class CoSignature : IEquatable<CoSignature>
{
    /// <summary>The size of the encoding: 832 bytes.</summary>
    public const int Size = 832;

    private const int PayloadOffset = 32;

    private readonly byte[] _signature;
    private readonly PasskeyAssertion _assertion;

    private CoSignature(KeyKind kind, UInt128 keyId, byte[] signature, PasskeyAssertion assertion)
    {
        Kind = kind;
        KeyId = keyId;
        _signature = signature;
        _assertion = assertion;
        if (kind == KeyKind.Passkey)
        {
            ReadOnlySpan<byte> data = assertion.AuthenticatorData.Span;
            SignCount = data.Length >= 37 ? BinaryPrimitives.ReadUInt32BigEndian(data[33..]) : 0;
        }
    }

    /// <summary>The co-signer's kind.</summary>
    public KeyKind Kind { get; }

    /// <summary>The co-signer's key id.</summary>
    public UInt128 KeyId { get; }

    /// <summary>A passkey's signature counter (authenticatorData bytes 33..36, big-endian); 0 for Ed25519.</summary>
    public uint SignCount { get; }

    /// <summary>A passkey co-signature's assertion (default for Ed25519).</summary>
    public PasskeyAssertion Assertion => _assertion;

    /// <summary>Co-signs an order with a second Ed25519 key of the payer's account.</summary>
    /// <param name="coSigner">The second key.</param>
    /// <param name="order">The order, already signed by its key.</param>
    /// <param name="instanceId">The ledger instance the order is for.</param>
    /// <returns>The co-signature (attach it with <see cref="PaymentOrder.WithCoSignature"/>).</returns>
    public static CoSignature SignEd25519(SigningKey coSigner, in PaymentOrder order, UInt128 instanceId)
    {
        ArgumentNullException.ThrowIfNull(coSigner);
        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + SignedMessage.MaxBodyLength];
        return SignEd25519(coSigner, order.AssembleMessage(buffer, instanceId));
    }

    /// <summary>Co-signs a channel open with a second Ed25519 key of the payer's account.</summary>
    /// <param name="coSigner">The second key.</param>
    /// <param name="request">The open, signed by the channel's payer key.</param>
    /// <returns>The co-signature (attach it with <see cref="ChannelOpenRequest.WithCoSignature"/>).</returns>
    public static CoSignature SignEd25519(SigningKey coSigner, ChannelOpenRequest request)
    {
        ArgumentNullException.ThrowIfNull(coSigner);
        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + SignedMessage.MaxBodyLength];
        return SignEd25519(coSigner, request.AssembleMessage(buffer));
    }

    /// <summary>Wraps a passkey's assertion over the challenge of an order (<see cref="PaymentOrder.ComputeChallenge"/>) or an open (<see cref="ChannelOpenRequest.ComputeChallenge"/>).</summary>
    /// <param name="keyId">The passkey's key id (<see cref="KeyIds.Of(PasskeyCredential)"/>).</param>
    /// <param name="assertion">The assertion the browser returned.</param>
    /// <returns>The co-signature.</returns>
    /// <exception cref="ArgumentException">The key id is 0 or the assertion is a default value.</exception>
    public static CoSignature FromPasskey(UInt128 keyId, PasskeyAssertion assertion)
    {
        if (keyId == UInt128.Zero)
        {
            throw new ArgumentException("The key id must not be 0.", nameof(keyId));
        }

        if (assertion.AuthenticatorData.IsEmpty)
        {
            throw new ArgumentException("The assertion is a default value.", nameof(assertion));
        }

        return new CoSignature(KeyKind.Passkey, keyId, [], assertion);
    }

    /// <summary>Writes the 832-byte encoding.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A co-signature takes {Size} bytes.", nameof(destination));
        }

        Span<byte> d = destination[..Size];
        d.Clear();
        d[0] = (byte)Kind;
        BinaryPrimitives.WriteUInt128LittleEndian(d[16..], KeyId);
        if (Kind == KeyKind.Ed25519)
        {
            _signature.CopyTo(d[PayloadOffset..]);
        }
        else
        {
            _assertion.Encode(d[PayloadOffset..]);
        }
    }

    /// <summary>Reads an encoding; never throws. All-zero bytes are "no co-signature": true with a null result.</summary>
    /// <param name="source">Exactly <see cref="Size"/> bytes.</param>
    /// <param name="coSignature">The co-signature, or null.</param>
    /// <param name="error">The first rule broken, or <see cref="IdentityFormatError.None"/>.</param>
    /// <returns>Whether the bytes are well formed.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out CoSignature? coSignature, out IdentityFormatError error)
    {
        coSignature = null;
        error = IdentityFormatError.None;
        if (source.Length != Size)
        {
            error = IdentityFormatError.WrongLength;
            return false;
        }

        if (!source.ContainsAnyExcept((byte)0))
        {
            return true;
        }

        var kind = (KeyKind)source[0];
        if (kind is not (KeyKind.Ed25519 or KeyKind.Passkey))
        {
            error = IdentityFormatError.UnknownKind;
            return false;
        }

        if (source[1..16].ContainsAnyExcept((byte)0))
        {
            error = IdentityFormatError.ReservedNotZero;
            return false;
        }

        UInt128 keyId = BinaryPrimitives.ReadUInt128LittleEndian(source[16..]);
        if (keyId == UInt128.Zero)
        {
            error = IdentityFormatError.BadKeyId;
            return false;
        }

        ReadOnlySpan<byte> payload = source[PayloadOffset..];
        if (kind == KeyKind.Ed25519)
        {
            if (payload[VerificationKey.SignatureSize..].ContainsAnyExcept((byte)0))
            {
                error = IdentityFormatError.ReservedNotZero;
                return false;
            }

            coSignature = new CoSignature(kind, keyId, payload[..VerificationKey.SignatureSize].ToArray(), default);
            return true;
        }

        if (!PasskeyAssertion.TryParse(payload, out PasskeyAssertion assertion, out int consumed, out _))
        {
            error = IdentityFormatError.BadAssertion;
            return false;
        }

        if (payload[consumed..].ContainsAnyExcept((byte)0))
        {
            error = IdentityFormatError.ReservedNotZero;
            return false;
        }

        coSignature = new CoSignature(kind, keyId, [], assertion);
        return true;
    }

    /// <inheritdoc />
    public bool Equals(CoSignature? other)
    {
        if (other is null)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[Size];
        Span<byte> b = stackalloc byte[Size];
        Encode(a);
        other.Encode(b);
        return a.SequenceEqual(b);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CoSignature);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, KeyId, SignCount);

    /// <inheritdoc />
    public override string ToString() => $"CoSignature({Kind} key {KeyId:X32})";

    /// <summary>
    /// Checks the co-signature over <paramref name="message"/> (the assembled signed message) with the co-signer's
    /// registered key: an Ed25519 signature of the message, or a passkey assertion over its SHA-256. Never throws; allocates nothing.
    /// </summary>
    internal bool Verify(VerificationKey? ed25519, PasskeyCredential? passkey, ReadOnlySpan<byte> message)
    {
        if (Kind == KeyKind.Ed25519)
        {
            return ed25519 is not null && ed25519.Verify(message, _signature);
        }

        if (passkey is null)
        {
            return false;
        }

        Span<byte> challenge = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(message, challenge);
        return passkey.Verify(_assertion, challenge, out _) == PasskeyResult.Ok;
    }

    private static CoSignature SignEd25519(SigningKey coSigner, ReadOnlySpan<byte> message)
    {
        byte[] signature = new byte[VerificationKey.SignatureSize];
        coSigner.Sign(message, signature);
        return new CoSignature(KeyKind.Ed25519, KeyIds.Of(coSigner.VerificationKey), signature, default);
    }
}
