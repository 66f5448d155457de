using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// C2SP tlog-cosignature (Ed25519, cosignature/v1) lines and cosigner keys: a golden line computed independently of
/// this library, a real checkpoint cosigned by four public witnesses, and every way a line can fail.
/// </summary>
public sealed class CosignatureTests
{
    // RFC 8032's first test key, as the witness's seed.
    internal const string WitnessSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    internal const string WitnessName = "witness.example.com/w1";
    internal const string WitnessKey = "witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";

    // The checkpoint of the C2SP tlog-checkpoint and tlog-cosignature examples, at the tlog-cosignature example's time.
    internal const string Body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    internal const ulong Timestamp = 1679315147;

    // Computed with Python's cryptography package (OpenSSL's Ed25519), not with this library: the key id
    // SHA-256(name || 0x0A || 0x04 || key)[:4], the big-endian timestamp, and the signature of
    // "cosignature/v1\ntime 1679315147\n" followed by the body.
    internal const string GoldenLine = "\u2014 witness.example.com/w1 fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n";
    private const string GoldenExtendedLine = "\u2014 witness.example.com/w1 fm9KqgAAAABkGFDLPVAuyuhVfCXEgiomDLODw+FIDWjtvqPYw/2NJv0grP9NnIeHjs8JECGFOJUaKtC7aHh126WedhlvJn9YQJTYBA==\n";

    // A real checkpoint of the arche2025h1 static-ct staging log, with its two log signatures (an RFC 6962 tree head
    // signature, type 0x05, and an Ed25519 note signature) and four witnesses' cosignatures, as florolf/tlog-scales
    // (tests/test_signing.py) checks it, reproduced byte for byte.
    private const string ArcheBody = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n";
    private const string ArcheNote = ArcheBody + "\n" +
        "\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n" +
        "\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n" +
        "\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n" +
        "\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n" +
        "\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n" +
        "\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n";

    private const ulong ArcheTimestamp = 1779573024;
    private const string ArcheLogKey = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";

    // The witnesses' published cosigner keys (witness-network lists; stagemole's derived from its published hex key).
    public static readonly TheoryData<string> ArcheWitnesses =
    [
        "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM",
        "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO",
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
        "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv",
    ];

    [Fact]
    public void KeyId_IsTheFirstFourBytesOfSha256OfNameNewlineType04AndKey()
    {
        using SigningKey key = Witness();
        CosignerKey witness = CosignerKey.Create(WitnessName, key.VerificationKey);

        byte[] hash = SHA256.HashData([.. Encoding.UTF8.GetBytes(WitnessName), 0x0A, 0x04, .. key.VerificationKey.AsSpan()]);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(hash), witness.KeyId);
        Assert.Equal(0x7e6f4aaau, witness.KeyId);
        Assert.Equal(WitnessKey, witness.ToString());

        // The same name and key as a note signer (type 0x01) have another id, so neither line passes for the other.
        Assert.Equal(0x92898dc2u, NoteVerifierKey.Create(WitnessName, key.VerificationKey).KeyId);
    }

    [Theory]
    [MemberData(nameof(ArcheWitnesses))]
    [InlineData(WitnessKey)]
    public void CosignerKeyTryParse_PublishedKeys_RoundTrip(string text)
    {
        Assert.True(CosignerKey.TryParse(text, out CosignerKey? key, out string? error), error);
        Assert.Null(error);
        Assert.Equal(text, key.ToString());
        Assert.Equal(text, CosignerKey.Create(key.Name, key.Key).ToString());
        Assert.Equal(Convert.ToUInt32(text.Split('+')[1], 16), key.KeyId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("witness.example.com/w1")]
    [InlineData("witness.example.com/w1+7e6f4aab+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    [InlineData("witness.example.com/w1+7E6F4AAA+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    [InlineData("witness.example.com/w2+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    [InlineData("witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1")]
    [InlineData("witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea==")]
    [InlineData("witness.example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4 XLz2qYjJa8CGmj3B1Ea")]
    [InlineData("witness example.com/w1+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    [InlineData("+7e6f4aaa+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    // The same key as a note verifier key (type 0x01, id 92898dc2): refused, not converted.
    [InlineData("witness.example.com/w1+92898dc2+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea")]
    // Go's reference verifier key, also type 0x01.
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")]
    public void CosignerKeyTryParse_AMangledOrOtherTypeKey_IsRefusedWithAReason(string? text)
    {
        Assert.False(CosignerKey.TryParse(text, out CosignerKey? key, out string? error));
        Assert.Null(key);
        Assert.NotNull(error);
    }

    [Fact]
    public void CosignerKeyCreate_AnInvalidName_Throws()
    {
        using SigningKey key = Witness();
        Assert.Throws<ArgumentException>("name", () => CosignerKey.Create("two words", key.VerificationKey));
        Assert.Throws<ArgumentException>("name", () => CosignerKey.Create("a+b", key.VerificationKey));
        Assert.Throws<ArgumentException>("name", () => CosignerKey.Create(string.Empty, key.VerificationKey));
    }

    [Fact]
    public void SignatureLine_TheGoldenInputs_WriteTheGoldenLineByteForByte()
    {
        using SigningKey key = Witness();
        CosignerKey witness = CosignerKey.Create(WitnessName, key.VerificationKey);

        Assert.Equal(Encoding.UTF8.GetBytes(GoldenLine), Encoding.UTF8.GetBytes(Cosignature.SignatureLine(Body, witness, key, Timestamp)));

        // Extension lines are signed too.
        Assert.Equal(GoldenExtendedLine, Cosignature.SignatureLine(Body + "extension line\n", witness, key, Timestamp));
    }

    [Fact]
    public void TryVerify_TheGoldenLine_IsOkAtItsTimestamp()
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));

        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(Note(Body, GoldenLine), witness, out ulong timestamp));
        Assert.Equal(Timestamp, timestamp);
        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(Note(Body + "extension line\n", GoldenExtendedLine), witness, out timestamp));
        Assert.Equal(Timestamp, timestamp);
    }

    [Theory]
    [MemberData(nameof(ArcheWitnesses))]
    public void TryVerify_ARealCheckpointCosignedByPublicWitnesses_IsOkForEach(string witnessKey)
    {
        Assert.True(CosignerKey.TryParse(witnessKey, out CosignerKey? witness, out _));

        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(Encoding.UTF8.GetBytes(ArcheNote), witness, out ulong timestamp));
        Assert.Equal(ArcheTimestamp, timestamp);

        byte[] otherSize = Encoding.UTF8.GetBytes(ArcheNote.Replace("\n1432088532\n", "\n1432088533\n", StringComparison.Ordinal));
        Assert.Equal(CosignatureResult.BadSignature, Cosignature.TryVerify(otherSize, witness, out timestamp));
        Assert.Equal(0ul, timestamp);
    }

    [Fact]
    public void SignedNoteTryOpen_TheLogsKeyAlone_IsOkOnANoteThatAlsoCarriesCosignatures()
    {
        // The real note: a type 0x05 line by the log's name and four witnesses' lines, all under ids the log key lacks.
        Assert.True(NoteVerifierKey.TryParse(ArcheLogKey, out NoteVerifierKey? log, out string? error), error);
        Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(Encoding.UTF8.GetBytes(ArcheNote), [log], out string? text, out int verifiedBy));
        Assert.Equal(ArcheBody, text);
        Assert.Equal(1, verifiedBy);

        // A note this library signs, then cosigned by two witnesses.
        using SigningKey logKey = SigningKey.Import(SHA256.HashData("log"u8), SigningKeyFormat.RawSeed);
        using SigningKey witnessKey = Witness();
        using SigningKey otherKey = SigningKey.Import(SHA256.HashData("other witness"u8), SigningKeyFormat.RawSeed);
        CosignerKey witness = CosignerKey.Create(WitnessName, witnessKey.VerificationKey);
        CosignerKey other = CosignerKey.Create("other.example/w", otherKey.VerificationKey);
        string note = SignedNote.Sign(Body, "example.com/behind-the-sofa", logKey) +
            Cosignature.SignatureLine(Body, witness, witnessKey, Timestamp) +
            Cosignature.SignatureLine(Body, other, otherKey, Timestamp + 5);
        byte[] bytes = Encoding.UTF8.GetBytes(note);

        Assert.Equal(NoteResult.Ok, SignedNote.TryOpen(bytes, [NoteVerifierKey.Create("example.com/behind-the-sofa", logKey.VerificationKey)], out _, out verifiedBy));
        Assert.Equal(1, verifiedBy);
        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(bytes, witness, out ulong timestamp));
        Assert.Equal(Timestamp, timestamp);
        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(bytes, other, out timestamp));
        Assert.Equal(Timestamp + 5, timestamp);

        // A cosigner key is not a note verifier key: the witness's own key as a note signer finds no line of its.
        Assert.Equal(NoteResult.NoKnownSignature, SignedNote.TryOpen(bytes, [NoteVerifierKey.Create(WitnessName, witnessKey.VerificationKey)], out _, out _));
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(1ul)]
    [InlineData(Timestamp)]
    [InlineData(Cosignature.MaxTimestamp)]
    public void SignatureLineThenTryVerify_AnyTimestamp_RoundTrips(ulong time)
    {
        using var signer = NoteSignerKey.Generate("witness.example/round-trip");
        CosignerKey witness = CosignerKey.Create(signer.Name, signer.SigningKey.VerificationKey);
        string body = Body + "extension\n";

        string line = Cosignature.SignatureLine(body, witness, signer.SigningKey, time);

        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(Note(body, line), witness, out ulong timestamp));
        Assert.Equal(time, timestamp);
    }

    [Fact]
    public void TryVerify_AnotherTimestampInTheLine_IsBadSignature()
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));
        byte[] blob = Blob(GoldenLine);
        BinaryPrimitives.WriteUInt64BigEndian(blob.AsSpan(4), Timestamp + 1);

        Assert.Equal(CosignatureResult.BadSignature, Cosignature.TryVerify(Note(Body, Line(WitnessName, blob)), witness, out ulong timestamp));
        Assert.Equal(0ul, timestamp);
    }

    [Theory]
    [InlineData("example.com/behind-the-sofa\n20852164\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofb\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n20852163\nDsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")]
    [InlineData("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nan added extension\n")]
    public void TryVerify_ATamperedBody_IsBadSignature(string body)
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));
        Assert.Equal(CosignatureResult.BadSignature, Cosignature.TryVerify(Note(body, GoldenLine), witness, out _));
    }

    [Fact]
    public void TryVerify_ALineByAnotherKeyUnderTheWitnessesNameAndId_IsBadSignature()
    {
        // An attacker who forges the name and the 32-bit id (cheap to collide) still cannot sign for the witness's key.
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));
        using SigningKey forger = SigningKey.Import(SHA256.HashData("forger"u8), SigningKeyFormat.RawSeed);
        string forged = Cosignature.SignatureLine(Body, CosignerKey.Create(WitnessName, forger.VerificationKey), forger, Timestamp);
        byte[] blob = Blob(forged);
        BinaryPrimitives.WriteUInt32BigEndian(blob, witness.KeyId);

        Assert.Equal(CosignatureResult.BadSignature, Cosignature.TryVerify(Note(Body, Line(WitnessName, blob)), witness, out _));
    }

    [Fact]
    public void TryVerify_AnotherKeyIdOrName_IsNotCosigned()
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));
        byte[] blob = Blob(GoldenLine);
        BinaryPrimitives.WriteUInt32BigEndian(blob, witness.KeyId ^ 1);

        // Lines under another id or name are some other key's, and ignored, as the signed-note specification requires.
        Assert.Equal(CosignatureResult.NotCosigned, Cosignature.TryVerify(Note(Body, Line(WitnessName, blob)), witness, out _));
        Assert.Equal(CosignatureResult.NotCosigned, Cosignature.TryVerify(Note(Body, Line("witness.example.com/w2", Blob(GoldenLine))), witness, out _));

        // The same key under another name has another id: the witness's line is not its.
        var renamed = CosignerKey.Create("witness.example.com/w2", witness.Key);
        Assert.Equal(CosignatureResult.NotCosigned, Cosignature.TryVerify(Note(Body, GoldenLine), renamed, out _));

        // No witness line at all.
        Assert.Equal(CosignatureResult.NotCosigned, Cosignature.TryVerify(Encoding.UTF8.GetBytes(ArcheNote), witness, out _));
    }

    [Fact]
    public void TryVerify_ATruncatedLine_IsMalformed()
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));
        string base64 = GoldenLine[(GoldenLine.IndexOf(' ', 2) + 1)..^1];

        // Not base64 any more: the whole note is malformed.
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, base64[..^1])), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, base64[..^2])), witness, out _));

        // Still base64, of 73 or 12 bytes: the witness's line is not a cosignature/v1 one.
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, base64[..^4])), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, Blob(GoldenLine)[..12])), witness, out _));

        // 4 + 64 bytes: a plain Ed25519 note signature under the cosigner's id.
        byte[] blob = Blob(GoldenLine);
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, [.. blob[..4], .. blob[12..]])), witness, out _));
    }

    [Fact]
    public void TryVerify_TwoLinesByTheWitness_IsDuplicateCosignature()
    {
        using SigningKey key = Witness();
        CosignerKey witness = CosignerKey.Create(WitnessName, key.VerificationKey);

        Assert.Equal(CosignatureResult.DuplicateCosignature, Cosignature.TryVerify(Note(Body, GoldenLine + GoldenLine), witness, out ulong timestamp));
        Assert.Equal(0ul, timestamp);
        string later = Cosignature.SignatureLine(Body, witness, key, Timestamp + 60);
        Assert.Equal(CosignatureResult.DuplicateCosignature, Cosignature.TryVerify(Note(Body, GoldenLine + later), witness, out _));
    }

    [Fact]
    public void TryVerify_ATimestampOver2To63Minus1_IsMalformedEvenWhenSigned()
    {
        using SigningKey key = Witness();
        CosignerKey witness = CosignerKey.Create(WitnessName, key.VerificationKey);
        const ulong tooLate = Cosignature.MaxTimestamp + 1;
        byte[] blob = new byte[76];
        BinaryPrimitives.WriteUInt32BigEndian(blob, witness.KeyId);
        BinaryPrimitives.WriteUInt64BigEndian(blob.AsSpan(4), tooLate);
        key.Sign(Encoding.UTF8.GetBytes($"cosignature/v1\ntime {tooLate}\n{Body}"), blob.AsSpan(12));

        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, Line(WitnessName, blob)), witness, out _));
    }

    [Fact]
    public void TryVerify_ABrokenNoteOrANonCheckpointBody_IsMalformedOrTooLarge()
    {
        Assert.True(CosignerKey.TryParse(WitnessKey, out CosignerKey? witness, out _));

        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note("not a checkpoint\n", GoldenLine), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Encoding.UTF8.GetBytes(Body + GoldenLine), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Encoding.UTF8.GetBytes(Body + "\n"), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Encoding.UTF8.GetBytes(Body + "\n" + GoldenLine[..^1]), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify(Note(Body, GoldenLine + "\u2014 other !!!\n"), witness, out _));
        Assert.Equal(CosignatureResult.Malformed, Cosignature.TryVerify([], witness, out _));

        string others = string.Concat(Enumerable.Repeat("\u2014 other.example AAAAAAAAAAAA\n", SignedNote.MaxSignatures));
        Assert.Equal(CosignatureResult.TooLarge, Cosignature.TryVerify(Note(Body, GoldenLine + others), witness, out _));
        Assert.Equal(CosignatureResult.Ok, Cosignature.TryVerify(Note(Body, GoldenLine + others[..^("\u2014 other.example AAAAAAAAAAAA\n".Length)]), witness, out _));
        Assert.Equal(CosignatureResult.TooLarge, Cosignature.TryVerify(new byte[SignedNote.MaxNoteBytes + 1], witness, out _));
    }

    [Fact]
    public void SignatureLine_CallerMistakes_Throw()
    {
        using SigningKey key = Witness();
        using SigningKey other = SigningKey.Import(SHA256.HashData("other"u8), SigningKeyFormat.RawSeed);
        CosignerKey witness = CosignerKey.Create(WitnessName, key.VerificationKey);

        Assert.Throws<ArgumentException>("key", () => Cosignature.SignatureLine(Body, witness, other, Timestamp));
        Assert.Throws<ArgumentException>("checkpointText", () => Cosignature.SignatureLine("not a checkpoint\n", witness, key, Timestamp));
        Assert.Throws<ArgumentException>("checkpointText", () => Cosignature.SignatureLine(Body[..^1], witness, key, Timestamp));
        Assert.Throws<ArgumentException>("checkpointText", () => Cosignature.SignatureLine(Body + "\n", witness, key, Timestamp));
        Assert.Throws<ArgumentOutOfRangeException>("timestamp", () => Cosignature.SignatureLine(Body, witness, key, Cosignature.MaxTimestamp + 1));
        Assert.Throws<ArgumentNullException>("witness", () => Cosignature.TryVerify([], null!, out _));
    }

    internal static SigningKey Witness() => SigningKey.Import(Convert.FromHexString(WitnessSeed), SigningKeyFormat.RawSeed);

    internal static byte[] Note(string body, string lines) => Encoding.UTF8.GetBytes(body + "\n" + lines);

    private static byte[] Blob(string line) => Convert.FromBase64String(line[(line.IndexOf(' ', 2) + 1)..^1]);

    private static string Line(string name, byte[] blob) => Line(name, Convert.ToBase64String(blob));

    private static string Line(string name, string base64) => "\u2014 " + name + " " + base64 + "\n";
}
