using System.Buffers.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Micropay.Core.Identity;

/// <summary>
/// The checks of an assertion's clientDataJSON (WebAuthn Level 3 section 7.2, the steps on <c>C</c>), read with
/// <see cref="Utf8JsonReader"/> straight from the bytes. Never throws; allocates nothing for well-formed input.
/// </summary>
/// <remarks>
/// <para>
/// A browser writes <c>{"type":"webauthn.get","challenge":"…","origin":"https://…","crossOrigin":false}</c>, possibly
/// with more members (<c>topOrigin</c>, and the specification invites future ones: a test vector adds
/// <c>extraData</c>). The specification lets a relying party use any JSON parser, so this one is strict where a lax
/// reading could be exploited and lenient where browsers differ:
/// </para>
/// <list type="bullet">
/// <item>the bytes must be valid UTF-8 and one JSON object with nothing but whitespace after it; a leading UTF-8 byte
/// order mark is skipped, as the specification's UTF-8 decode strips it;</item>
/// <item>string values are compared after unescaping (<c>"webauthn\u002eget"</c> is <c>"webauthn.get"</c>), exactly,
/// byte for byte;</item>
/// <item>each of <c>type</c>, <c>challenge</c>, <c>origin</c>, <c>crossOrigin</c> and <c>topOrigin</c> at most once (member
/// names compared unescaped too): with two, different parsers would read different values;</item>
/// <item>other members are skipped, whatever their value.</item>
/// </list>
/// <para>
/// Malformed JSON makes <see cref="Utf8JsonReader"/> throw; the exception is caught here and reported as
/// <see cref="PasskeyResult.MalformedClientData"/>. That path allocates the exception, and costs less than the
/// signature check a well-formed assertion pays for.
/// </para>
/// </remarks>
internal static class WebAuthnClientData
{
    // The base64url of a challenge longer than this cannot fit in a clientDataJSON of at most 512 bytes.
    private const int MaxEncodableChallenge = PasskeyAssertion.MaxClientDataJsonLength / 4 * 3;
    private const int MaxEncodedChallenge = PasskeyAssertion.MaxClientDataJsonLength;

    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    /// <summary>Checks the client data against the expected challenge and origin, in the order of <see cref="PasskeyResult"/>.</summary>
    public static PasskeyResult Check(ReadOnlySpan<byte> clientDataJson, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> expectedOriginUtf8)
    {
        ReadOnlySpan<byte> json = clientDataJson.StartsWith(ByteOrderMark) ? clientDataJson[ByteOrderMark.Length..] : clientDataJson;
        if (!Utf8.IsValid(json))
        {
            return PasskeyResult.MalformedClientData;
        }

        // Any challenge length is accepted; one too long to appear in the client data simply cannot match.
        Span<byte> expectedChallenge = stackalloc byte[MaxEncodedChallenge];
        int expectedChallengeLength = challenge.Length <= MaxEncodableChallenge ? Base64Url.EncodeToUtf8(challenge, expectedChallenge) : -1;

        try
        {
            return Read(json, expectedChallengeLength < 0 ? default : expectedChallenge[..expectedChallengeLength], expectedChallengeLength >= 0, expectedOriginUtf8);
        }
        catch (JsonException)
        {
            // Not JSON, or not one complete value (the reader's own error).
            return PasskeyResult.MalformedClientData;
        }
        catch (InvalidOperationException)
        {
            // An escape that does not unescape to valid UTF-16 (a lone surrogate such as \ud800) in a compared string.
            return PasskeyResult.MalformedClientData;
        }
    }

    private static PasskeyResult Read(ReadOnlySpan<byte> json, ReadOnlySpan<byte> expectedChallenge, bool challengeEncodable, ReadOnlySpan<byte> expectedOriginUtf8)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return PasskeyResult.MalformedClientData;
        }

        Members seen = Members.None;
        bool typeMatches = false, challengeMatches = false, originMatches = false, crossOrigin = false;
        while (true)
        {
            if (!reader.Read())
            {
                return PasskeyResult.MalformedClientData;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            Members member = Identify(ref reader);
            if (!reader.Read())
            {
                return PasskeyResult.MalformedClientData;
            }

            if (member == Members.None)
            {
                // Not ours: skip the value, however deep.
                reader.Skip();
                continue;
            }

            if ((seen & member) != 0)
            {
                return PasskeyResult.MalformedClientData;
            }

            seen |= member;
            if (member == Members.CrossOrigin)
            {
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    return PasskeyResult.MalformedClientData;
                }

                crossOrigin = reader.TokenType == JsonTokenType.True;
                continue;
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                return PasskeyResult.MalformedClientData;
            }

            switch (member)
            {
                case Members.Type:
                    typeMatches = reader.ValueTextEquals("webauthn.get"u8);
                    break;
                case Members.Challenge:
                    challengeMatches = challengeEncodable && reader.ValueTextEquals(expectedChallenge);
                    break;
                case Members.Origin:
                    originMatches = reader.ValueTextEquals(expectedOriginUtf8);
                    break;
                default:
                    // topOrigin: its presence alone is the finding.
                    break;
            }
        }

        // One value only: anything but whitespace after the object makes the reader throw.
        if (reader.Read())
        {
            return PasskeyResult.MalformedClientData;
        }

        if ((seen & Members.Required) != Members.Required)
        {
            return PasskeyResult.MalformedClientData;
        }

        if (!typeMatches)
        {
            return PasskeyResult.WrongType;
        }

        if (!challengeMatches)
        {
            return PasskeyResult.ChallengeMismatch;
        }

        if (!originMatches)
        {
            return PasskeyResult.OriginMismatch;
        }

        return crossOrigin || (seen & Members.TopOrigin) != 0 ? PasskeyResult.CrossOrigin : PasskeyResult.Ok;
    }

    // The reader is on a property name.
    private static Members Identify(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("type"u8))
        {
            return Members.Type;
        }

        if (reader.ValueTextEquals("challenge"u8))
        {
            return Members.Challenge;
        }

        if (reader.ValueTextEquals("origin"u8))
        {
            return Members.Origin;
        }

        if (reader.ValueTextEquals("crossOrigin"u8))
        {
            return Members.CrossOrigin;
        }

        return reader.ValueTextEquals("topOrigin"u8) ? Members.TopOrigin : Members.None;
    }

    [Flags]
    private enum Members
    {
        None = 0,
        Type = 1,
        Challenge = 2,
        Origin = 4,
        CrossOrigin = 8,
        TopOrigin = 16,
        Required = Type | Challenge | Origin,
    }
}
