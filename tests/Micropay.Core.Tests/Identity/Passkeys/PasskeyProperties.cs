using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// Properties over hostile bytes: parsing an assertion, verifying one and importing a key never throw, whatever the
/// input; what parses re-encodes to exactly the bytes it consumed.
/// </summary>
public sealed class PasskeyProperties
{
    private static readonly byte[] Challenge = [0xC0, 0xFF, 0xEE];
    private static readonly SoftwareAuthenticator Authenticator = new(counter: 100);
    private static readonly PasskeyCredential Credential = Authenticator.Credential();
    private static readonly PasskeyAssertion Valid = Authenticator.GetAssertion(Challenge);
    private static readonly byte[] ValidEncoding = Encode(Valid);

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    private static Gen<byte[]> Bytes(int min, int max) => Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(AnyByte, n));

    /// <summary>
    /// A byte string built from <paramref name="valid"/>: unchanged, with 1 to 4 bytes overwritten, cut short, extended,
    /// or replaced by random bytes of a length in [min, max].
    /// </summary>
    private static Gen<byte[]> Hostile(byte[] valid, int min, int max) => Gen.OneOf(
        Bytes(min, max),
        Gen.Constant(valid),
        Gen.Choose(1, 4).SelectMany(n =>
            Gen.ArrayOf(Gen.Choose(0, valid.Length - 1), n).SelectMany(positions =>
                Gen.ArrayOf(AnyByte, n).Select(values =>
                {
                    byte[] mutated = (byte[])valid.Clone();
                    for (int i = 0; i < n; i++)
                    {
                        mutated[positions[i]] = values[i];
                    }

                    return mutated;
                }))),
        Gen.Choose(0, valid.Length).Select(cut => valid[..cut]),
        Bytes(1, 8).Select(extra => (byte[])[.. valid, .. extra]));

    private static byte[] Encode(PasskeyAssertion assertion)
    {
        byte[] bytes = new byte[assertion.EncodedSize];
        assertion.Encode(bytes);
        return bytes;
    }

    private static byte[] Clamp(byte[] bytes, int max) => bytes.Length == 0 ? [0] : bytes.Length > max ? bytes[..max] : bytes;

    [Property(MaxTest = 2_000)]
    public Property TryParse_AnyBytes_NeverThrowsAndReencodesToWhatItConsumed() =>
        Prop.ForAll(Arb.From(Hostile(ValidEncoding, 0, 800)), bytes =>
        {
            bool ok = PasskeyAssertion.TryParse(bytes, out PasskeyAssertion assertion, out int consumed, out PasskeyFormatError error);
            if (!ok)
            {
                return error != PasskeyFormatError.None && consumed == 0 && assertion.EncodedSize == 5;
            }

            return error == PasskeyFormatError.None && consumed <= bytes.Length && consumed == assertion.EncodedSize &&
                Encode(assertion).AsSpan().SequenceEqual(bytes.AsSpan(0, consumed));
        });

    [Property(MaxTest = 1_000)]
    public Property Verify_AnyParts_NeverThrowsAndOnlyTheGenuineAssertionIsOk() =>
        Prop.ForAll(
            Arb.From(
                from authenticatorData in Hostile(Valid.AuthenticatorData.ToArray(), 1, 160)
                from clientDataJson in Hostile(Valid.ClientDataJson.ToArray(), 1, 512)
                from signature in Hostile(Valid.Signature.ToArray(), 1, 72)
                select (authenticatorData, clientDataJson, signature)),
            parts =>
            {
                var assertion = new PasskeyAssertion(Clamp(parts.authenticatorData, 160), Clamp(parts.clientDataJson, 512), Clamp(parts.signature, 72));
                PasskeyResult result = Credential.Verify(assertion, Challenge, out uint signCount);
                bool genuine = assertion.AuthenticatorData.Span.SequenceEqual(Valid.AuthenticatorData.Span) &&
                    assertion.ClientDataJson.Span.SequenceEqual(Valid.ClientDataJson.Span) &&
                    assertion.Signature.Span.SequenceEqual(Valid.Signature.Span);
                return Enum.IsDefined(result) && (result == PasskeyResult.Ok) == genuine && (!genuine || signCount == 101);
            });

    [Property(MaxTest = 500)]
    public Property Verify_AnyChallenge_NeverThrowsAndOnlyTheIssuedOneIsOk() =>
        Prop.ForAll(Arb.From(Hostile(Challenge, 0, 600)), challenge =>
        {
            PasskeyResult result = Credential.Verify(Valid, challenge, out _);
            return result == (challenge.AsSpan().SequenceEqual(Challenge) ? PasskeyResult.Ok : PasskeyResult.ChallengeMismatch);
        });

    [Property(MaxTest = 2_000)]
    public Property TryFromCoseKey_AnyBytes_NeverThrowsAndAcceptsOnlyTheKey() =>
        Prop.ForAll(Arb.From(Hostile(Authenticator.ExportCoseKey(), 0, 120)), coseKey =>
        {
            bool ok = PasskeyCredential.TryFromCoseKey([1], coseKey, SoftwareAuthenticator.DefaultRpId, SoftwareAuthenticator.DefaultOrigin, out PasskeyCredential? credential, out PasskeyKeyError error);
            if (!ok)
            {
                return credential is null && error != PasskeyKeyError.None;
            }

            // Anything accepted carries the authenticator's key (a changed coordinate is off the curve; a changed
            // head can only re-spell the same values).
            byte[] key = new byte[64];
            credential!.CopyPublicKeyTo(key);
            return error == PasskeyKeyError.None && key.AsSpan().SequenceEqual(Authenticator.PublicKey64());
        });

    [Property(MaxTest = 1_000)]
    public Property TryFromSubjectPublicKeyInfo_AnyBytes_NeverThrows() =>
        Prop.ForAll(Arb.From(Hostile(Authenticator.ExportSpki(), 0, 200)), spki =>
        {
            bool ok = PasskeyCredential.TryFromSubjectPublicKeyInfo([1], spki, SoftwareAuthenticator.DefaultRpId, SoftwareAuthenticator.DefaultOrigin, out PasskeyCredential? credential, out PasskeyKeyError error);
            return ok ? credential is not null && error == PasskeyKeyError.None : credential is null && error != PasskeyKeyError.None;
        });
}
