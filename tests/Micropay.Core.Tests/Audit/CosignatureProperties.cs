using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Audit;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// Cosignature checks and key parsers over arbitrary input and over the golden note with a few bytes changed: they never
/// throw, and no change lets a cosignature verify at another time; any seed, checkpoint and timestamp round-trips.
/// </summary>
public sealed class CosignatureProperties
{
    private static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(b => (byte)b);

    [Property(MaxTest = 300)]
    public Property TryVerify_ArbitraryBytes_NeverThrowsAndNeverVerifies() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            Assert.True(CosignerKey.TryParse(CosignatureTests.WitnessKey, out CosignerKey? witness, out _));
            return Cosignature.TryVerify(bytes ?? [], witness, out ulong timestamp) != CosignatureResult.Ok && timestamp == 0;
        });

    [Property(MaxTest = 300)]
    public Property TryVerify_TheGoldenNoteWithBytesChanged_NeverThrowsAndVerifiesOnlyAtItsTime() =>
        Prop.ForAll(Edited(CosignatureTests.Note(CosignatureTests.Body, CosignatureTests.GoldenLine)).ToArbitrary(), bytes =>
        {
            Assert.True(CosignerKey.TryParse(CosignatureTests.WitnessKey, out CosignerKey? witness, out _));
            CosignatureResult result = Cosignature.TryVerify(bytes, witness, out ulong timestamp);

            // A change can leave the cosignature intact only where the bytes do not matter (the unused bits of the
            // base64's last character); it can never move the cosigned time.
            return result == CosignatureResult.Ok ? timestamp == CosignatureTests.Timestamp : timestamp == 0;
        });

    [Property(MaxTest = 300)]
    public Property KeyParsers_ArbitraryText_NeverThrowAndWhatParsesWritesBack() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), text =>
        {
            bool cosigner = CosignerKey.TryParse(text, out CosignerKey? key, out string? error);
            bool cosignerHolds = cosigner
                ? error is null && CosignerKey.TryParse(key!.ToString(), out CosignerKey? again, out _) && again.KeyId == key.KeyId && again.Key == key.Key
                : key is null && error is not null;

            bool signer = NoteSignerKey.TryParse(text, out NoteSignerKey? signerKey, out string? signerError);
            signerKey?.Dispose();
            bool signerHolds = signer ? signerError is null : signerKey is null && signerError is not null;
            return cosignerHolds && signerHolds;
        });

    [Property(MaxTest = 100)]
    public Property SignatureLineThenTryVerify_AnySeedCheckpointAndTime_RoundTrips() =>
        Prop.ForAll(Cases().ToArbitrary(), c =>
        {
            using SigningKey key = SigningKey.Import(c.Seed, SigningKeyFormat.RawSeed);
            var witness = CosignerKey.Create("witness.example/p", key.VerificationKey);
            string body = Checkpoint.Create("log.example/p", c.Size, c.Root).ToText();

            string line = Cosignature.SignatureLine(body, witness, key, c.Time);
            CosignatureResult result = Cosignature.TryVerify(Encoding.UTF8.GetBytes(body + "\n" + line), witness, out ulong timestamp);
            return result == CosignatureResult.Ok && timestamp == c.Time;
        });

    private static Gen<(byte[] Seed, long Size, byte[] Root, ulong Time)> Cases() =>
        from seed in Gen.ArrayOf(Byte, SigningKey.SeedSize)
        from size in ArbMap.Default.GeneratorFor<long>().Select(s => s & long.MaxValue)
        from root in Gen.ArrayOf(Byte, MerkleHashes.Size)
        from time in ArbMap.Default.GeneratorFor<ulong>().Select(t => t & Cosignature.MaxTimestamp)
        select (seed, size, root, time);

    /// <summary>The note with one to four bytes replaced.</summary>
    private static Gen<byte[]> Edited(byte[] note)
    {
        Gen<(int At, byte Value)> edit = from at in Gen.Choose(0, note.Length - 1) from value in Byte select (at, value);
        return Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(edit, n)).Select(edits =>
        {
            byte[] copy = [.. note];
            foreach ((int at, byte value) in edits)
            {
                copy[at] = value;
            }

            return copy;
        });
    }
}
