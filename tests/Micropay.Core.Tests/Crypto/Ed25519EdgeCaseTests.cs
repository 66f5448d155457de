using System.Numerics;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Crypto;

/// <summary>
/// The ed25519-speccheck vectors (Crypto/Vectors/ed25519-speccheck-cases.txt, checked in unchanged with their source)
/// through each of our paths: verification (<see cref="VerificationKey.Verify"/>, libsodium's verdict per case is
/// <see cref="Ed25519StrictnessTests.SpeccheckCases"/>), key import (<see cref="VerificationKey.TryCreate"/>, which takes
/// any 32 bytes), the public key check (<see cref="Ed25519PublicKeyCheck"/>) and key registration through the engine,
/// which refuses every key no signature can verify under (<see cref="KeyResult.WeakPublicKey"/>).
/// </summary>
public sealed class Ed25519EdgeCaseTests
{
    // The public keys A of the twelve cases, in order, and what the public key check (hence registration) decides:
    // c7176a...fa is an order-8 point, f7badec5... and cdb267ce... are mixed order, 442aad9f... has order L (cases 6 and 7
    // differ in S only), ecff...ff is y = p - 1 (order 2) with the sign bit set: x = 0 with a sign, non-canonical.
    public static readonly TheoryData<int, bool> StrictPublicKeyByCase = new()
    {
        { 0, false }, { 1, false }, { 2, true }, { 3, true }, { 4, true }, { 5, true },
        { 6, true }, { 7, true }, { 8, true }, { 9, true }, { 10, false }, { 11, false },
    };

    /// <summary>
    /// Encodings the public key check must refuse, each with why: every small-order point with both sign bits, y &gt;= p
    /// (non-canonical encodings, of small-order and of other points), and a y with no point.
    /// </summary>
    public static readonly TheoryData<string, string> WeakPublicKeys = new()
    {
        { "identity (y = 1)", "0100000000000000000000000000000000000000000000000000000000000000" },
        { "identity, sign bit set (x = 0 with a sign)", "0100000000000000000000000000000000000000000000000000000000000080" },
        { "order 2 (y = p - 1)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
        { "order 2, sign bit set", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
        { "order 4 (y = 0)", "0000000000000000000000000000000000000000000000000000000000000000" },
        { "order 4, the other x", "0000000000000000000000000000000000000000000000000000000000000080" },
        { "order 8 (y = y8)", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a" },
        { "order 8 (y = y8), the other x", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa" },
        { "order 8 (y = p - y8)", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05" },
        { "order 8 (y = p - y8), the other x", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85" },
        { "y = p: the order-4 point, non-canonical", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
        { "y = p + 1: the identity, non-canonical", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
        { "y = p + 3: a point not of small order, non-canonical", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
        { "y = 2^255 - 1, the largest y", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
        { "y = 2: no point", "0200000000000000000000000000000000000000000000000000000000000000" },
        { "y = 7: no point", "0700000000000000000000000000000000000000000000000000000000000000" },
    };

    private static readonly Lazy<SpeccheckCase[]> Cases = new(ReadCases);

    [Fact]
    public void VectorsFile_HoldsTheTwelveCasesOfStrictnessTestsTable()
    {
        SpeccheckCase[] cases = Cases.Value;

        Assert.Equal(12, cases.Length);
        for (int i = 0; i < cases.Length; i++)
        {
            object[] row = [.. Ed25519StrictnessTests.SpeccheckCases.ElementAt(i)];
            Assert.Equal(i, (int)row[0]);
            Assert.Equal((string)row[1], Convert.ToHexStringLower(cases[i].Message));
            Assert.Equal((string)row[2], Convert.ToHexStringLower(cases[i].PublicKey));
            Assert.Equal((string)row[3], Convert.ToHexStringLower(cases[i].Signature));
        }
    }

    [Theory]
    [MemberData(nameof(StrictPublicKeyByCase))]
    public void SpeccheckCase_ImportAndVerify_ImportTakesAnyKeyAndVerificationGivesLibsodiumsVerdict(int number, bool strict)
    {
        _ = strict;
        SpeccheckCase c = Cases.Value[number];
        bool accepted = (bool)Ed25519StrictnessTests.SpeccheckCases.ElementAt(number)[4];

        Assert.True(VerificationKey.TryCreate(c.PublicKey, out VerificationKey? key));
        Assert.Equal(accepted, key.Verify(c.Message, c.Signature));
    }

    [Theory]
    [MemberData(nameof(StrictPublicKeyByCase))]
    public void SpeccheckCase_PublicKeyCheck_RefusesExactlyTheSmallOrderAndNonCanonicalKeys(int number, bool strict)
    {
        Assert.Equal(strict, Ed25519PublicKeyCheck.IsStrict(Cases.Value[number].PublicKey));
    }

    [Fact]
    public void SpeccheckCases_EveryKeyThePublicKeyCheckRefuses_LibsodiumRefusesItsSignatures()
    {
        // The check refuses no key libsodium would accept a signature under: the refused keys' cases are all refused.
        foreach ((int number, bool strict) in StrictPublicKeyByCase.Select(row => ((int)row[0], (bool)row[1])))
        {
            if (!strict)
            {
                SpeccheckCase c = Cases.Value[number];
                Assert.False(VerificationKey.Create(c.PublicKey).Verify(c.Message, c.Signature), $"case {number}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(WeakPublicKeys))]
    public void IsStrict_WeakEncoding_IsFalse(string what, string publicKey)
    {
        _ = what;
        Assert.False(Ed25519PublicKeyCheck.IsStrict(Convert.FromHexString(publicKey)));
    }

    [Theory]
    [InlineData("y = 3: a point, canonical (its non-canonical twin y = p + 3 is refused)", "0300000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("RFC 8032 TEST 1's public key", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")]
    [InlineData("the base point B (y = 4/5)", "5866666666666666666666666666666666666666666666666666666666666666")]
    public void IsStrict_CanonicalPointNotOfSmallOrder_IsTrue(string what, string publicKey)
    {
        _ = what;
        Assert.True(Ed25519PublicKeyCheck.IsStrict(Convert.FromHexString(publicKey)));
    }

    [Fact]
    public void IsStrict_KeysOfRandomSeeds_AreAllStrict()
    {
        var random = new Random(17);
        byte[] seed = new byte[32];
        for (int i = 0; i < 200; i++)
        {
            random.NextBytes(seed);
            using SigningKey key = SigningKey.Import(seed, SigningKeyFormat.RawSeed);
            Assert.True(Ed25519PublicKeyCheck.IsStrict(key.VerificationKey.AsSpan()), Convert.ToHexStringLower(seed));
        }
    }

    [Fact]
    public void SmallOrderYs_AreTheYsOfPointsWhoseOrderDividesEight()
    {
        // A reference computation, independent of the check: each blocklisted y (with x from the curve equation) times 8
        // is the identity, and the base point times 8 is not.
        foreach (string hex in new[]
                 {
                     "0100000000000000000000000000000000000000000000000000000000000000",
                     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                     "0000000000000000000000000000000000000000000000000000000000000000",
                     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                     "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                 })
        {
            Assert.True(ReferenceEdwards.TimesEightIsIdentity(Convert.FromHexString(hex)), hex);
        }

        Assert.False(ReferenceEdwards.TimesEightIsIdentity(Convert.FromHexString("5866666666666666666666666666666666666666666666666666666666666666")));
    }

    [Theory]
    [MemberData(nameof(WeakPublicKeys))]
    public void SignedMessageVerify_WeakKeyAndTheTrivialSignature_IsFalse(string what, string publicKey)
    {
        // Our signed-message path (domain tag, instance id, body) under each weak key, with R = identity and S = 0: the
        // signature a permissive verifier accepts for any message under the identity key.
        _ = what;
        Assert.True(VerificationKey.TryCreate(Convert.FromHexString(publicKey), out VerificationKey? key));
        byte[] trivial = Convert.FromHexString("01" + new string('0', 126));

        Assert.False(SignedMessage.Verify(key, DomainTags.PaymentOrder, 7, "any body"u8, trivial));
    }

    [Theory]
    [MemberData(nameof(StrictPublicKeyByCase))]
    public async Task RegisterKeyAsync_SpeccheckPublicKey_RefusesTheWeakOnesAndNeverJournalsThem(int number, bool strict)
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        ulong before = engine.ReleasedBatchNumber;
        VerificationKey key = VerificationKey.Create(Cases.Value[number].PublicKey);

        KeyResult result = await engine.RegisterKeyAsync(1, key, SpendingPolicy.Unlimited);

        Assert.Equal(strict ? KeyResult.Ok : KeyResult.WeakPublicKey, result);
        Assert.Equal(strict, engine.TryGetKey(KeyIds.Of(key), out _));
        Assert.Equal(strict ? before + 1 : before, engine.ReleasedBatchNumber);
    }

    [Fact]
    public async Task ManageKeysAsync_BatchWithWeakAndStrictKeys_RefusesTheWeakOnesAtTheEdgeAndAppliesTheRest()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, ClockPulses = false });
        Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        using SigningKey device = SigningKey.Import(new byte[32], SigningKeyFormat.RawSeed);
        KeyOperation[] operations =
        [
            KeyOperation.RegisterEd25519(1, VerificationKey.Create(Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000")), SpendingPolicy.Unlimited),
            KeyOperation.RegisterEd25519(1, device.VerificationKey, SpendingPolicy.Unlimited),
            KeyOperation.RegisterEd25519(1, VerificationKey.Create(Convert.FromHexString("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")), SpendingPolicy.Unlimited),
        ];
        var results = new KeyResult[3];

        int failed = await engine.ManageKeysAsync(operations, results);

        Assert.Equal(2, failed);
        Assert.Equal(new[] { KeyResult.WeakPublicKey, KeyResult.Ok, KeyResult.WeakPublicKey }, results);
        Assert.True(engine.TryGetKey(KeyIds.Of(device.VerificationKey), out _));
    }

    private static SpeccheckCase[] ReadCases()
    {
        string[] lines = [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Crypto", "Vectors", "ed25519-speccheck-cases.txt"))
            .Where(line => line.Length > 0 && line[0] != '#')];
        int count = int.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1 + (3 * count), lines.Length);
        var cases = new SpeccheckCase[count];
        for (int i = 0; i < count; i++)
        {
            cases[i] = new SpeccheckCase(Field(lines[1 + (3 * i)], "msg="), Field(lines[2 + (3 * i)], "pbk="), Field(lines[3 + (3 * i)], "sig="));
        }

        return cases;

        static byte[] Field(string line, string prefix)
        {
            Assert.StartsWith(prefix, line, StringComparison.Ordinal);
            return Convert.FromHexString(line[prefix.Length..]);
        }
    }

    private sealed record SpeccheckCase(byte[] Message, byte[] PublicKey, byte[] Signature);

    /// <summary>Textbook twisted Edwards arithmetic (RFC 8032 section 5.1.4, affine), for the reference check only.</summary>
    private static class ReferenceEdwards
    {
        private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
        private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

        public static bool TimesEightIsIdentity(byte[] encoding)
        {
            BigInteger y = new(encoding, isUnsigned: true, isBigEndian: false);
            BigInteger x2 = Mod(((y * y) - 1) * BigInteger.ModPow((D * y * y) + 1, P - 2, P));
            BigInteger x = Sqrt(x2);
            (BigInteger X, BigInteger Y) point = (x, y);
            for (int i = 0; i < 3; i++)
            {
                point = Add(point, point);
            }

            return point.X.IsZero && point.Y.IsOne;
        }

        private static (BigInteger X, BigInteger Y) Add((BigInteger X, BigInteger Y) a, (BigInteger X, BigInteger Y) b)
        {
            BigInteger t = Mod(D * a.X * b.X * a.Y * b.Y);
            BigInteger x = Mod(((a.X * b.Y) + (a.Y * b.X)) * BigInteger.ModPow(Mod(1 + t), P - 2, P));
            BigInteger y = Mod(((a.Y * b.Y) + (a.X * b.X)) * BigInteger.ModPow(Mod(1 - t), P - 2, P));
            return (x, y);
        }

        // RFC 8032 section 5.1.3, step 3: a root of x2 (any of the two; the order does not depend on the sign).
        private static BigInteger Sqrt(BigInteger x2)
        {
            BigInteger x = BigInteger.ModPow(x2, (P + 3) / 8, P);
            if (Mod(x * x) != x2)
            {
                x = Mod(x * BigInteger.ModPow(2, (P - 1) / 4, P));
            }

            Assert.Equal(x2, Mod(x * x));
            return x;
        }

        private static BigInteger Mod(BigInteger value)
        {
            BigInteger r = value % P;
            return r.Sign < 0 ? r + P : r;
        }
    }
}
