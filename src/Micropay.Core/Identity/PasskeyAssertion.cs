using System.Buffers.Binary;

namespace Micropay.Core.Identity;

/// <summary>
/// What <c>navigator.credentials.get()</c> returns for a passkey, as the ledger keeps it: the authenticator data, the
/// clientDataJSON and the DER signature, copied into one private array. Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// <para>Wire format (little-endian lengths), written and read field by field:</para>
/// <code>
/// offset     size field
///      0        2 AuthenticatorDataLength A   u16, 1..160
///      2        2 ClientDataJsonLength    C   u16, 1..512
///      4        1 SignatureLength         S   u8, 1..72
///      5        A AuthenticatorData           the authenticator's bytes, as returned
///    5+A        C ClientDataJson              the browser's bytes, as returned (never re-serialised: it is hashed)
///  5+A+C        S Signature                   ES256, DER (ECDSA-Sig-Value), as returned
/// </code>
/// <para>
/// The encoding is 6 to <see cref="MaxEncodedSize"/> (749) bytes. <see cref="TryParse"/> reads one encoding from the
/// start of its input and reports how many bytes it used: the assertion is embedded in larger records, whose own rules
/// say what may follow it.
/// </para>
/// <para>
/// The limits fit what authenticators and browsers produce: authenticator data is 37 bytes plus the extension outputs
/// (never attested credential data in an assertion, see <see cref="PasskeyResult.UnexpectedAttestedData"/>), a
/// browser's clientDataJSON for a 32-byte challenge and an origin of up to 192 bytes stays well under 512, and a P-256 DER
/// signature is at most 72 bytes. The format checks lengths only; <see cref="PasskeyCredential.Verify"/> checks content.
/// </para>
/// <para>
/// <c>default(PasskeyAssertion)</c> holds nothing: its parts are empty, it never verifies
/// (<see cref="PasskeyResult.MalformedAuthenticatorData"/>), and its encoding (five zero bytes) is refused by
/// <see cref="TryParse"/>.
/// </para>
/// </remarks>
public readonly struct PasskeyAssertion
{
    /// <summary>The largest authenticator data accepted, in bytes: 160.</summary>
    public const int MaxAuthenticatorDataLength = 160;

    /// <summary>The largest clientDataJSON accepted, in bytes: 512.</summary>
    public const int MaxClientDataJsonLength = 512;

    /// <summary>The largest signature accepted, in bytes: 72 (the longest DER encoding of a P-256 ECDSA signature).</summary>
    public const int MaxSignatureLength = 72;

    /// <summary>The size of the longest encoding, in bytes: the 5-byte header plus the three maximum lengths, 749.</summary>
    public const int MaxEncodedSize = HeaderSize + MaxAuthenticatorDataLength + MaxClientDataJsonLength + MaxSignatureLength;

    /// <summary>The size of the header: two u16 lengths and one u8 length.</summary>
    internal const int HeaderSize = 5;

    // The whole encoding (header included), so Encode is one copy and the parts are slices; null only in default.
    private readonly byte[]? _encoded;
    private readonly ushort _authenticatorDataLength;
    private readonly ushort _clientDataJsonLength;
    private readonly byte _signatureLength;

    /// <summary>Copies the three parts of an assertion into a new value.</summary>
    /// <param name="authenticatorData">The response's <c>authenticatorData</c>: 1 to <see cref="MaxAuthenticatorDataLength"/> bytes.</param>
    /// <param name="clientDataJson">The response's <c>clientDataJSON</c>: 1 to <see cref="MaxClientDataJsonLength"/> bytes.</param>
    /// <param name="signature">The response's <c>signature</c>: 1 to <see cref="MaxSignatureLength"/> bytes.</param>
    /// <exception cref="ArgumentException">A part is empty or longer than its limit; the exception names it.</exception>
    public PasskeyAssertion(ReadOnlySpan<byte> authenticatorData, ReadOnlySpan<byte> clientDataJson, ReadOnlySpan<byte> signature)
    {
        if (authenticatorData.IsEmpty || authenticatorData.Length > MaxAuthenticatorDataLength)
        {
            PasskeyThrowHelper.ThrowArgumentException_Length(nameof(authenticatorData), "The authenticator data", MaxAuthenticatorDataLength, authenticatorData.Length);
        }

        if (clientDataJson.IsEmpty || clientDataJson.Length > MaxClientDataJsonLength)
        {
            PasskeyThrowHelper.ThrowArgumentException_Length(nameof(clientDataJson), "The clientDataJSON", MaxClientDataJsonLength, clientDataJson.Length);
        }

        if (signature.IsEmpty || signature.Length > MaxSignatureLength)
        {
            PasskeyThrowHelper.ThrowArgumentException_Length(nameof(signature), "The signature", MaxSignatureLength, signature.Length);
        }

        _authenticatorDataLength = (ushort)authenticatorData.Length;
        _clientDataJsonLength = (ushort)clientDataJson.Length;
        _signatureLength = (byte)signature.Length;
        _encoded = new byte[HeaderSize + authenticatorData.Length + clientDataJson.Length + signature.Length];
        Span<byte> d = _encoded;
        WriteHeader(d, _authenticatorDataLength, _clientDataJsonLength, _signatureLength);
        authenticatorData.CopyTo(d[HeaderSize..]);
        clientDataJson.CopyTo(d[(HeaderSize + authenticatorData.Length)..]);
        signature.CopyTo(d[(HeaderSize + authenticatorData.Length + clientDataJson.Length)..]);
    }

    // Takes ownership of an encoding TryParse has checked.
    private PasskeyAssertion(byte[] encoded, ushort authenticatorDataLength, ushort clientDataJsonLength, byte signatureLength)
    {
        _encoded = encoded;
        _authenticatorDataLength = authenticatorDataLength;
        _clientDataJsonLength = clientDataJsonLength;
        _signatureLength = signatureLength;
    }

    /// <summary>The authenticator data: rpIdHash, flags, signCount, and any extension outputs. Empty for <c>default</c>.</summary>
    public ReadOnlyMemory<byte> AuthenticatorData =>
        _encoded is null ? default : new ReadOnlyMemory<byte>(_encoded, HeaderSize, _authenticatorDataLength);

    /// <summary>The clientDataJSON, exactly as the browser serialised it. Empty for <c>default</c>.</summary>
    public ReadOnlyMemory<byte> ClientDataJson =>
        _encoded is null ? default : new ReadOnlyMemory<byte>(_encoded, HeaderSize + _authenticatorDataLength, _clientDataJsonLength);

    /// <summary>The DER-encoded ES256 signature. Empty for <c>default</c>.</summary>
    public ReadOnlyMemory<byte> Signature =>
        _encoded is null ? default : new ReadOnlyMemory<byte>(_encoded, HeaderSize + _authenticatorDataLength + _clientDataJsonLength, _signatureLength);

    /// <summary>The size of the encoding in bytes: 5 plus the three parts' lengths (5 for <c>default</c>).</summary>
    public int EncodedSize => _encoded?.Length ?? HeaderSize;

    /// <summary>Whether this is <c>default(PasskeyAssertion)</c>, which holds no parts.</summary>
    internal bool IsDefault => _encoded is null;

    /// <summary>The authenticator data as a span (the verifier's view, without a memory wrapper).</summary>
    internal ReadOnlySpan<byte> AuthenticatorDataSpan =>
        _encoded is null ? default : new ReadOnlySpan<byte>(_encoded, HeaderSize, _authenticatorDataLength);

    /// <summary>The clientDataJSON as a span.</summary>
    internal ReadOnlySpan<byte> ClientDataJsonSpan =>
        _encoded is null ? default : new ReadOnlySpan<byte>(_encoded, HeaderSize + _authenticatorDataLength, _clientDataJsonLength);

    /// <summary>The signature as a span.</summary>
    internal ReadOnlySpan<byte> SignatureSpan =>
        _encoded is null ? default : new ReadOnlySpan<byte>(_encoded, HeaderSize + _authenticatorDataLength + _clientDataJsonLength, _signatureLength);

    /// <summary>Writes the wire format (the byte table in the remarks). Allocates nothing.</summary>
    /// <param name="destination">At least <see cref="EncodedSize"/> bytes; the encoding goes to the first <see cref="EncodedSize"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedSize"/>.</exception>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < EncodedSize)
        {
            PasskeyThrowHelper.ThrowArgumentException_BufferTooShort(nameof(destination), EncodedSize);
        }

        Write(destination);
    }

    /// <summary>Writes the wire format, if it fits. Allocates nothing.</summary>
    /// <param name="destination">Receives the encoding in its first <see cref="EncodedSize"/> bytes.</param>
    /// <param name="written"><see cref="EncodedSize"/> on success; 0 otherwise.</param>
    /// <returns>Whether <paramref name="destination"/> was long enough; nothing is written when it was not.</returns>
    public bool TryEncode(Span<byte> destination, out int written)
    {
        if (destination.Length < EncodedSize)
        {
            written = 0;
            return false;
        }

        Write(destination);
        written = EncodedSize;
        return true;
    }

    /// <summary>
    /// Reads one assertion from the start of <paramref name="source"/>, checking the header's lengths and that the parts
    /// are all there (not their content: see <see cref="PasskeyCredential.Verify"/>). Never throws; allocates the
    /// assertion's one array on success only.
    /// </summary>
    /// <param name="source">Bytes that begin with an encoding; bytes after it are left to the caller.</param>
    /// <param name="assertion">The assertion, when the result is true; otherwise default.</param>
    /// <param name="consumed">The encoding's size, when the result is true; otherwise 0.</param>
    /// <param name="error">
    /// The first rule the bytes break, in this order: a 5-byte header, the authenticator data length, the clientDataJSON
    /// length, the signature length, then the announced parts all present (<see cref="PasskeyFormatError.Truncated"/>);
    /// or <see cref="PasskeyFormatError.None"/>.
    /// </param>
    /// <returns>Whether <paramref name="source"/> begins with a well-formed encoding.</returns>
    public static bool TryParse(ReadOnlySpan<byte> source, out PasskeyAssertion assertion, out int consumed, out PasskeyFormatError error)
    {
        assertion = default;
        consumed = 0;
        if (source.Length < HeaderSize)
        {
            error = PasskeyFormatError.Truncated;
            return false;
        }

        ushort authenticatorDataLength = BinaryPrimitives.ReadUInt16LittleEndian(source);
        ushort clientDataJsonLength = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        byte signatureLength = source[4];
        if (authenticatorDataLength == 0 || authenticatorDataLength > MaxAuthenticatorDataLength)
        {
            error = PasskeyFormatError.AuthenticatorDataLength;
            return false;
        }

        if (clientDataJsonLength == 0 || clientDataJsonLength > MaxClientDataJsonLength)
        {
            error = PasskeyFormatError.ClientDataJsonLength;
            return false;
        }

        if (signatureLength == 0 || signatureLength > MaxSignatureLength)
        {
            error = PasskeyFormatError.SignatureLength;
            return false;
        }

        // At most 749 once the lengths are within their limits: no overflow.
        int size = HeaderSize + authenticatorDataLength + clientDataJsonLength + signatureLength;
        if (source.Length < size)
        {
            error = PasskeyFormatError.Truncated;
            return false;
        }

        assertion = new PasskeyAssertion(source[..size].ToArray(), authenticatorDataLength, clientDataJsonLength, signatureLength);
        consumed = size;
        error = PasskeyFormatError.None;
        return true;
    }

    /// <summary>The three parts' lengths (not their bytes: the client data may hold what a log should not).</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() =>
        $"PasskeyAssertion {{ AuthenticatorData = {_authenticatorDataLength} B, ClientDataJson = {_clientDataJsonLength} B, Signature = {_signatureLength} B }}";

    // The caller guarantees EncodedSize bytes.
    private void Write(Span<byte> destination)
    {
        if (_encoded is null)
        {
            WriteHeader(destination, 0, 0, 0);
            return;
        }

        _encoded.CopyTo(destination);
    }

    private static void WriteHeader(Span<byte> destination, ushort authenticatorDataLength, ushort clientDataJsonLength, byte signatureLength)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, authenticatorDataLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], clientDataJsonLength);
        destination[4] = signatureLength;
    }
}
