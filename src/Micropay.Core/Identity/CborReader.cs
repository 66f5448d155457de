using System.Buffers.Binary;
using System.Text.Unicode;

namespace Micropay.Core.Identity;

/// <summary>
/// A small, strict reader of CBOR (RFC 8949) for the two places passkeys use it: the COSE_Key of a credential and the
/// extension outputs in authenticator data. Reads from a span, allocates nothing, never throws.
/// </summary>
/// <remarks>
/// <para>Every data item begins with a head (RFC 8949 section 3):</para>
/// <code>
/// byte 0      bits 7..5 major type, bits 4..0 additional information (ai)
/// ai 0..23    the argument is ai itself; nothing follows
/// ai 24       the argument is the next byte
/// ai 25       the argument is the next 2 bytes, big-endian
/// ai 26       the argument is the next 4 bytes, big-endian
/// ai 27       the argument is the next 8 bytes, big-endian
/// ai 28..30   reserved: not well-formed
/// ai 31       indefinite length (or "break"): refused here
/// </code>
/// <para>
/// Major types: 0 unsigned integer (the argument), 1 negative integer (-1 - argument), 2 byte string and 3 text string
/// (argument = length in bytes, then the bytes), 4 array (argument = item count), 5 map (argument = pair count), 6 tag,
/// 7 simple values and floats (ai 20..23 false, true, null, undefined; ai 24 a one-byte simple value; ai 25, 26, 27 a
/// half, single or double float, skipped by length without being interpreted).
/// </para>
/// <para>What this reader refuses, beyond what is not well-formed CBOR (truncation, reserved ai, a lone "break"):</para>
/// <list type="bullet">
/// <item>indefinite lengths (ai 31) of any major type: CTAP2's canonical encoding, which authenticators use, has none;</item>
/// <item>tags (major type 6): CTAP2's canonical encoding has none, and neither a COSE_Key nor any defined extension output uses one;</item>
/// <item>text strings that are not valid UTF-8 (RFC 8949 calls such items well-formed but not valid);</item>
/// <item>containers nested deeper than <see cref="MaxDepth"/> (16) levels, so a hostile input cannot exhaust the stack;</item>
/// <item>a container announcing more items than bytes remain (each item takes at least one byte), so a hostile count cannot make a long loop.</item>
/// </list>
/// <para>
/// It accepts non-minimal heads (an argument encoded in more bytes than it needs, such as 0x18 0x05 for 5), maps whose
/// keys are not in canonical order, and duplicate map keys: all are well-formed CBOR, and the COSE_Key parser checks
/// what it needs (each label once) itself. The simple value ai 24 with a value below 32 is refused, as RFC 8949
/// section 3.3 makes it not well-formed.
/// </para>
/// </remarks>
internal ref struct CborReader
{
    /// <summary>How many containers (arrays and maps) may nest, the outermost counted: 16.</summary>
    public const int MaxDepth = 16;

    public const byte UnsignedInteger = 0;
    public const byte NegativeInteger = 1;
    public const byte ByteString = 2;
    public const byte TextString = 3;
    public const byte Array = 4;
    public const byte Map = 5;
    public const byte Tag = 6;
    public const byte SimpleOrFloat = 7;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public CborReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>How many bytes have been read.</summary>
    public readonly int Position => _position;

    /// <summary>Whether every byte has been read.</summary>
    public readonly bool IsAtEnd => _position == _data.Length;

    private readonly int Remaining => _data.Length - _position;

    /// <summary>Whether <paramref name="data"/> is exactly one well-formed map (as this reader understands it) and nothing after it.</summary>
    public static bool IsSingleMap(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] >> 5 != Map)
        {
            return false;
        }

        var reader = new CborReader(data);
        return reader.TrySkipItem(MaxDepth) && reader.IsAtEnd;
    }

    /// <summary>The major type of the next item, without reading it; false at the end of the data.</summary>
    public readonly bool TryPeekMajorType(out byte majorType)
    {
        if (_position >= _data.Length)
        {
            majorType = 0;
            return false;
        }

        majorType = (byte)(_data[_position] >> 5);
        return true;
    }

    /// <summary>
    /// Reads a head: the major type and the argument. False, with the position unspecified, when the head is truncated,
    /// uses a reserved or indefinite ai, or is a one-byte simple value below 32.
    /// </summary>
    public bool TryReadHead(out byte majorType, out ulong argument)
    {
        majorType = 0;
        argument = 0;
        if (_position >= _data.Length)
        {
            return false;
        }

        byte initial = _data[_position++];
        majorType = (byte)(initial >> 5);
        int ai = initial & 0x1F;
        if (ai < 24)
        {
            argument = (ulong)ai;
            return true;
        }

        int size = ai switch
        {
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => 0, // 28..30 reserved, 31 indefinite or break
        };
        if (size == 0 || Remaining < size)
        {
            return false;
        }

        ReadOnlySpan<byte> bytes = _data.Slice(_position, size);
        argument = size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16BigEndian(bytes),
            4 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            _ => BinaryPrimitives.ReadUInt64BigEndian(bytes),
        };
        _position += size;

        // RFC 8949 section 3.3: simple values 0..31 must use the one-byte head; 0xF8 with a value below 32 is not well-formed.
        return majorType != SimpleOrFloat || size != 1 || argument >= 32;
    }

    /// <summary>Reads an integer (major type 0 or 1) into an <see cref="Int128"/>, which holds every CBOR integer (-2^64 to 2^64 - 1).</summary>
    public bool TryReadInteger(out Int128 value)
    {
        value = 0;
        if (!TryReadHead(out byte majorType, out ulong argument))
        {
            return false;
        }

        if (majorType == UnsignedInteger)
        {
            value = argument;
            return true;
        }

        if (majorType == NegativeInteger)
        {
            value = -Int128.One - argument;
            return true;
        }

        return false;
    }

    /// <summary>Reads a byte string (major type 2) and returns a view of its bytes.</summary>
    public bool TryReadByteString(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        return TryReadHead(out byte majorType, out ulong length) && majorType == ByteString && TryReadContent(length, out bytes);
    }

    /// <summary>Reads a text string (major type 3), which must be valid UTF-8, and returns a view of its bytes.</summary>
    public bool TryReadTextString(out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        return TryReadHead(out byte majorType, out ulong length) && majorType == TextString && TryReadContent(length, out utf8) && Utf8.IsValid(utf8);
    }

    /// <summary>Reads a map head (major type 5) and returns its pair count.</summary>
    public bool TryReadMapHeader(out ulong pairs)
    {
        pairs = 0;
        return TryReadHead(out byte majorType, out pairs) && majorType == Map && pairs <= (ulong)(Remaining / 2);
    }

    /// <summary>
    /// Skips one whole item, checking it is well-formed as the remarks define. <paramref name="depthLeft"/> is how many
    /// more containers may nest here (<see cref="MaxDepth"/> for a top-level item).
    /// </summary>
    public bool TrySkipItem(int depthLeft)
    {
        if (!TryReadHead(out byte majorType, out ulong argument))
        {
            return false;
        }

        switch (majorType)
        {
            case UnsignedInteger:
            case NegativeInteger:
            case SimpleOrFloat:
                // The head is the whole item (a float's bits are its argument).
                return true;

            case ByteString:
                return TryReadContent(argument, out _);

            case TextString:
                return TryReadContent(argument, out ReadOnlySpan<byte> text) && Utf8.IsValid(text);

            case Array:
            case Map:
                if (depthLeft <= 0)
                {
                    return false;
                }

                // Each item takes at least one byte: a count beyond the bytes left cannot be honest, and must not drive a loop.
                ulong items = argument;
                if (majorType == Map)
                {
                    if (items > (ulong)(Remaining / 2))
                    {
                        return false;
                    }

                    items *= 2;
                }
                else if (items > (ulong)Remaining)
                {
                    return false;
                }

                for (ulong i = 0; i < items; i++)
                {
                    if (!TrySkipItem(depthLeft - 1))
                    {
                        return false;
                    }
                }

                return true;

            default:
                // Tags (major type 6) are refused: see the remarks.
                return false;
        }
    }

    private bool TryReadContent(ulong length, out ReadOnlySpan<byte> content)
    {
        if (length > (ulong)Remaining)
        {
            content = default;
            return false;
        }

        content = _data.Slice(_position, (int)length);
        _position += (int)length;
        return true;
    }
}
