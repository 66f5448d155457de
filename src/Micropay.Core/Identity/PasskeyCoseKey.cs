namespace Micropay.Core.Identity;

/// <summary>
/// Reads the COSE_Key (RFC 9052 section 7, RFC 9053 section 7.1.1) of an ES256 passkey, as WebAuthn's attested
/// credential data carries it, into the 64-byte x || y form. Never throws; allocates nothing.
/// </summary>
/// <remarks>
/// <para>The only key accepted is a CBOR map of exactly these five entries, in any order, each once:</para>
/// <code>
/// label  name  value
///     1  kty   2            EC2 (otherwise UnsupportedKeyType)
///     3  alg   -7           ES256 (otherwise UnsupportedAlgorithm)
///    -1  crv   1            P-256 (otherwise WrongCurve)
///    -2  x     bstr, 32     big-endian x coordinate
///    -3  y     bstr, 32     big-endian y coordinate (the compressed form, a boolean, is refused)
/// </code>
/// <para>
/// Authenticators write it as <c>a5 01 02 03 26 20 01 21 58 20 [x] 22 58 20 [y]</c> (CTAP2 canonical order). The whole
/// input must be that one map: trailing bytes, indefinite lengths and anything <see cref="CborReader"/> refuses are
/// <see cref="PasskeyKeyError.MalformedCoseKey"/>. The type, algorithm and curve are judged before the other labels, so
/// an Ed25519 key (kty 1, alg -8) or an RSA key (kty 3) reports what it is rather than being "malformed". Whether x, y
/// is a point on the curve is the caller's check (<see cref="PasskeyKeyError.MalformedPublicKey"/>).
/// </para>
/// </remarks>
internal static class PasskeyCoseKey
{
    private const int KeyTypeLabel = 1;
    private const int AlgorithmLabel = 3;
    private const int CurveLabel = -1;
    private const int XLabel = -2;
    private const int YLabel = -3;

    private const int Ec2KeyType = 2;
    private const int Es256Algorithm = -7;
    private const int P256Curve = 1;
    private const int CoordinateSize = 32;

    /// <summary>Reads <paramref name="coseKey"/> into <paramref name="publicKey64"/> (x then y, 64 bytes).</summary>
    /// <returns><see cref="PasskeyKeyError.None"/>, or the first rule broken in the order of the remarks.</returns>
    public static PasskeyKeyError TryRead(ReadOnlySpan<byte> coseKey, Span<byte> publicKey64)
    {
        // The structure first, all of it: afterwards the entries can be read without structural surprises.
        if (!CborReader.IsSingleMap(coseKey))
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        var reader = new CborReader(coseKey);
        if (!reader.TryReadMapHeader(out ulong pairs))
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        // Indexed as FieldIndex gives: kty, alg, crv, x, y.
        Span<Field> fields = stackalloc Field[5];
        bool repeated = false, unknown = false;
        for (ulong i = 0; i < pairs; i++)
        {
            if (!reader.TryPeekMajorType(out byte labelType))
            {
                return PasskeyKeyError.MalformedCoseKey;
            }

            int index;
            if (labelType is CborReader.UnsignedInteger or CborReader.NegativeInteger)
            {
                if (!reader.TryReadInteger(out Int128 label))
                {
                    return PasskeyKeyError.MalformedCoseKey;
                }

                index = FieldIndex(label);
            }
            else if (labelType == CborReader.TextString)
            {
                // RFC 9052 allows text labels; none belongs in an ES256 key.
                if (!reader.TryReadTextString(out _))
                {
                    return PasskeyKeyError.MalformedCoseKey;
                }

                index = -1;
            }
            else
            {
                // A label is an integer or a text string (RFC 9052 section 7).
                return PasskeyKeyError.MalformedCoseKey;
            }

            if (index < 0)
            {
                unknown = true;
                if (!reader.TrySkipItem(CborReader.MaxDepth))
                {
                    return PasskeyKeyError.MalformedCoseKey;
                }

                continue;
            }

            repeated |= fields[index].Present;
            if (!fields[index].TryRead(ref reader))
            {
                return PasskeyKeyError.MalformedCoseKey;
            }
        }

        ref readonly Field keyType = ref fields[0];
        ref readonly Field algorithm = ref fields[1];
        ref readonly Field curve = ref fields[2];
        ref readonly Field x = ref fields[3];
        ref readonly Field y = ref fields[4];
        if (!reader.IsAtEnd || repeated)
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        if (!keyType.IsInteger)
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        if (keyType.Integer != Ec2KeyType)
        {
            return PasskeyKeyError.UnsupportedKeyType;
        }

        if (!algorithm.IsInteger)
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        if (algorithm.Integer != Es256Algorithm)
        {
            return PasskeyKeyError.UnsupportedAlgorithm;
        }

        if (!curve.IsInteger)
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        if (curve.Integer != P256Curve)
        {
            return PasskeyKeyError.WrongCurve;
        }

        if (!x.IsByteString || x.Length != CoordinateSize || !y.IsByteString || y.Length != CoordinateSize || unknown)
        {
            return PasskeyKeyError.MalformedCoseKey;
        }

        coseKey.Slice(x.Offset, CoordinateSize).CopyTo(publicKey64);
        coseKey.Slice(y.Offset, CoordinateSize).CopyTo(publicKey64[CoordinateSize..]);
        return PasskeyKeyError.None;
    }

    private static int FieldIndex(Int128 label)
    {
        if (label == KeyTypeLabel)
        {
            return 0;
        }

        if (label == AlgorithmLabel)
        {
            return 1;
        }

        if (label == CurveLabel)
        {
            return 2;
        }

        if (label == XLabel)
        {
            return 3;
        }

        return label == YLabel ? 4 : -1;
    }

    /// <summary>One entry's value: an integer, a byte string (as an offset into the key), or something else (skipped).</summary>
    private struct Field
    {
        public bool Present;
        public bool IsInteger;
        public bool IsByteString;
        public Int128 Integer;
        public int Offset;
        public int Length;

        public bool TryRead(ref CborReader reader)
        {
            this = default;
            Present = true;
            if (!reader.TryPeekMajorType(out byte majorType))
            {
                return false;
            }

            if (majorType is CborReader.UnsignedInteger or CborReader.NegativeInteger)
            {
                IsInteger = true;
                return reader.TryReadInteger(out Integer);
            }

            if (majorType == CborReader.ByteString)
            {
                if (!reader.TryReadByteString(out ReadOnlySpan<byte> bytes))
                {
                    return false;
                }

                IsByteString = true;
                Length = bytes.Length;
                Offset = reader.Position - bytes.Length;
                return true;
            }

            // A value of another type: judged later as the wrong type for its label.
            return reader.TrySkipItem(CborReader.MaxDepth);
        }
    }
}
