using System.Buffers.Binary;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// The identity records' byte formats (<see cref="KeyOperation"/>, <see cref="PaymentOrder"/> at 256 and 1024 bytes,
/// <see cref="CoSignature"/>, <see cref="SpendingPolicy"/>): round trips, the documented offsets, every
/// <see cref="IdentityFormatError"/> each parser reports (the first rule broken, never an exception), the policy's
/// messages, and golden vectors for a fixed order and key id.
/// </summary>
public sealed class IdentityFormatTests
{
    // RFC 8032 section 7.1, tests 1 and 2's secret keys.
    internal static readonly SigningKey Device = SigningKey.Import(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), SigningKeyFormat.RawSeed);
    internal static readonly SigningKey Phone = SigningKey.Import(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"), SigningKeyFormat.RawSeed);

    // The P-256 base point (SEC 2, section 2.4.2): a valid passkey public key, x || y.
    private static readonly byte[] P256BasePoint = Convert.FromHexString(
        "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296" + "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5");

    private static readonly PasskeyCredential Passkey = PasskeyCredential.Create([1, 2, 3], P256BasePoint, "pay.example.com", "https://pay.example.com");

    private static readonly UInt128 Instance = IdentityTestKit.Instance;

    /// <summary>A policy that sets every field away from its default, with full lists.</summary>
    internal static SpendingPolicy FullPolicy => new()
    {
        MaxPerPayment = 1_000,
        WindowLimit = 5_000,
        WindowLength = 3_600_000_000_000,
        StepUpThreshold = 500,
        MaxChannelDeposit = 2_000,
        ValidFrom = 10,
        ValidUntil = 20,
        AllowedPayees = [.. Enumerable.Range(1, 8).Select(i => (UInt128)(i * 1_000))],
        AllowedLedgers = [.. Enumerable.Range(1, 8).Select(i => (uint)(i * 10))],
    };

    // ---- SpendingPolicy ----

    [Fact]
    public void SpendingPolicyEncode_EveryField_IsAtItsDocumentedOffsetAndParsesBack()
    {
        SpendingPolicy policy = FullPolicy;
        byte[] bytes = new byte[SpendingPolicy.EncodedSize];
        policy.Encode(bytes);

        Assert.Equal((UInt128)1_000, BinaryPrimitives.ReadUInt128LittleEndian(bytes));
        Assert.Equal((UInt128)5_000, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(16)));
        Assert.Equal((UInt128)500, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(32)));
        Assert.Equal((UInt128)2_000, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(48)));
        Assert.Equal(3_600_000_000_000UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(64)));
        Assert.Equal((10UL, 20UL), (BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(72)), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(80))));
        Assert.Equal(new byte[] { 8, 8 }, bytes[88..90]);
        Assert.Equal((UInt128)8_000, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(96 + (7 * 16))));
        Assert.Equal(80u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(224 + (7 * 4))));

        Assert.True(SpendingPolicy.TryParse(bytes, out SpendingPolicy? read, out string? error));
        Assert.Null(error);
        Assert.Equal(policy, read);
        Assert.Equal(policy.AllowedPayees, read.AllowedPayees);
        Assert.Equal(policy.AllowedLedgers, read.AllowedLedgers);
        byte[] again = new byte[SpendingPolicy.EncodedSize];
        read.Encode(again);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void SpendingPolicyEncode_Unlimited_IsMaxValuesAndZeros()
    {
        byte[] bytes = new byte[SpendingPolicy.EncodedSize];
        SpendingPolicy.Unlimited.Encode(bytes);

        Assert.Equal(UInt128.MaxValue, BinaryPrimitives.ReadUInt128LittleEndian(bytes));
        Assert.Equal(ulong.MaxValue, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(80)));
        Assert.Equal(-1, bytes.AsSpan(64, 16).IndexOfAnyExcept((byte)0));
        Assert.Equal(-1, bytes.AsSpan(88).IndexOfAnyExcept((byte)0));
        Assert.True(SpendingPolicy.TryParse(bytes, out SpendingPolicy? read, out _));
        Assert.Equal(SpendingPolicy.Unlimited, read);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    [InlineData(257)]
    public void SpendingPolicyTryParse_WrongLength_SaysSo(int length)
    {
        Assert.False(SpendingPolicy.TryParse(new byte[length], out SpendingPolicy? policy, out string? error));
        Assert.Null(policy);
        Assert.Equal($"a spending policy is 256 bytes, not {length}", error);
    }

    [Theory]
    [InlineData(88, 9, "the policy's list counts are over 8")]
    [InlineData(89, 9, "the policy's list counts are over 8")]
    [InlineData(89, 255, "the policy's list counts are over 8")]
    [InlineData(90, 1, "the policy's reserved or unused bytes are not zero")]
    [InlineData(95, 1, "the policy's reserved or unused bytes are not zero")]
    [InlineData(96 + 16, 1, "the policy's reserved or unused bytes are not zero")]
    [InlineData(223, 1, "the policy's reserved or unused bytes are not zero")]
    [InlineData(224 + 4, 1, "the policy's reserved or unused bytes are not zero")]
    [InlineData(255, 1, "the policy's reserved or unused bytes are not zero")]
    public void SpendingPolicyTryParse_CountOverEightOrReservedOrUnusedByteNotZero_SaysWhich(int offset, byte value, string expected)
    {
        // One payee (3) and one ledger (1): the second slots are unused.
        byte[] bytes = new byte[SpendingPolicy.EncodedSize];
        new SpendingPolicy { AllowedPayees = [3], AllowedLedgers = [1] }.Encode(bytes);
        bytes[offset] = value;

        Assert.False(SpendingPolicy.TryParse(bytes, out SpendingPolicy? policy, out string? error));
        Assert.Null(policy);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void SpendingPolicyTryParse_FieldsBreakingARule_GiveValidatesMessage()
    {
        byte[] bytes = new byte[SpendingPolicy.EncodedSize];
        SpendingPolicy.Unlimited.Encode(bytes);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(16), 100);

        Assert.False(SpendingPolicy.TryParse(bytes, out _, out string? error));
        Assert.Equal("WindowLimit is set but WindowLength is 0: a window limit needs a window length.", error);

        SpendingPolicy.Unlimited.Encode(bytes);
        bytes[88] = 2;
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(96), 7);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(112), 7);
        Assert.False(SpendingPolicy.TryParse(bytes, out _, out error));
        Assert.Equal("The allowed payees or ledgers list a value twice.", error);
    }

    [Fact]
    public void SpendingPolicyValidate_EachBrokenRule_NamesIt()
    {
        Assert.Null(FullPolicy.Validate());
        Assert.Null(SpendingPolicy.Unlimited.Validate());
        Assert.Null(new SpendingPolicy { ValidFrom = 5, ValidUntil = 5, WindowLength = 1, WindowLimit = 0 }.Validate());

        Assert.Equal("WindowLimit is set but WindowLength is 0: a window limit needs a window length.", new SpendingPolicy { WindowLimit = 100 }.Validate());
        Assert.Equal("ValidUntil (5) is before ValidFrom (6).", new SpendingPolicy { ValidFrom = 6, ValidUntil = 5 }.Validate());
        Assert.Equal("A policy lists at most 8 allowed payees and 8 allowed ledgers.", new SpendingPolicy { AllowedPayees = [.. Enumerable.Range(1, 9).Select(i => (UInt128)i)] }.Validate());
        Assert.Equal("A policy lists at most 8 allowed payees and 8 allowed ledgers.", new SpendingPolicy { AllowedLedgers = [.. Enumerable.Range(1, 9).Select(i => (uint)i)] }.Validate());
        Assert.Equal("An allowed payee or ledger is 0.", new SpendingPolicy { AllowedPayees = [3, 0] }.Validate());
        Assert.Equal("An allowed payee or ledger is 0.", new SpendingPolicy { AllowedLedgers = [0] }.Validate());
        Assert.Equal("The allowed payees or ledgers list a value twice.", new SpendingPolicy { AllowedPayees = [3, 4, 3] }.Validate());
        Assert.Equal("The allowed payees or ledgers list a value twice.", new SpendingPolicy { AllowedLedgers = [1, 1] }.Validate());
    }

    [Fact]
    public void SpendingPolicyEncodeAndKeyOperationFactories_PolicyBreakingARule_ThrowArgumentException()
    {
        var broken = new SpendingPolicy { WindowLimit = 100 };

        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => broken.Encode(new byte[SpendingPolicy.EncodedSize])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => SpendingPolicy.Unlimited.Encode(new byte[SpendingPolicy.EncodedSize - 1])).ParamName);
        Assert.Equal("policy", Assert.Throws<ArgumentException>(() => KeyOperation.RegisterEd25519(2, Device.VerificationKey, broken)).ParamName);
        Assert.Equal("policy", Assert.Throws<ArgumentException>(() => KeyOperation.UpdatePolicy(1, broken)).ParamName);
        Assert.Equal("accountId", Assert.Throws<ArgumentException>(() => KeyOperation.RegisterEd25519(0, Device.VerificationKey, SpendingPolicy.Unlimited)).ParamName);
        Assert.Equal("accountId", Assert.Throws<ArgumentException>(() => KeyOperation.RegisterEd25519(ReservedId, Device.VerificationKey, SpendingPolicy.Unlimited)).ParamName);
        Assert.Equal("keyId", Assert.Throws<ArgumentException>(() => KeyOperation.Revoke(0)).ParamName);
    }

    // ---- KeyOperation ----

    [Fact]
    public void KeyOperationEncode_Ed25519Registration_PutsEachFieldAtItsOffsetAndParsesBack()
    {
        KeyOperation operation = KeyOperation.RegisterEd25519(2, Device.VerificationKey, FullPolicy);
        byte[] bytes = Encoded(operation);

        Assert.Equal(new byte[] { 1, 1, 1 }, bytes[..3]);
        Assert.Equal((UInt128)2, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(KeyIds.Of(Device.VerificationKey), BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(32)));
        byte[] publicKey = new byte[VerificationKey.Size];
        Device.VerificationKey.CopyTo(publicKey);
        Assert.Equal(publicKey, bytes[48..80]);
        byte[] policy = new byte[SpendingPolicy.EncodedSize];
        FullPolicy.Encode(policy);
        Assert.Equal(policy, bytes[112..368]);
        Assert.Equal(-1, bytes.AsSpan(368).IndexOfAnyExcept((byte)0));

        AssertRoundTrip(operation, bytes);
    }

    [Fact]
    public void KeyOperationEncode_PasskeyRegistration_PutsEachFieldAtItsOffsetAndParsesBack()
    {
        KeyOperation operation = KeyOperation.RegisterPasskey(2, Passkey, SpendingPolicy.Unlimited);
        byte[] bytes = Encoded(operation);

        Assert.Equal(new byte[] { 1, 1, 2, 3, 15, 23 }, bytes[..6]);
        Assert.Equal(KeyIds.Of(Passkey), BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(P256BasePoint, bytes[48..112]);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes[368..371]);
        Assert.Equal("pay.example.com"u8.ToArray(), bytes[623..638]);
        Assert.Equal("https://pay.example.com"u8.ToArray(), bytes[751..774]);
        Assert.Equal(-1, bytes.AsSpan(774).IndexOfAnyExcept((byte)0));

        KeyOperation read = AssertRoundTrip(operation, bytes);
        Assert.Equal(("pay.example.com", "https://pay.example.com"), (read.Passkey!.RelyingPartyId, read.Passkey.Origin));
    }

    [Fact]
    public void KeyOperationEncode_UpdateAndRevoke_LeaveEverythingElseZeroAndParseBack()
    {
        UInt128 keyId = KeyIds.Of(Device.VerificationKey);
        byte[] update = Encoded(KeyOperation.UpdatePolicy(keyId, FullPolicy));
        byte[] revoke = Encoded(KeyOperation.Revoke(keyId));

        Assert.Equal(new byte[] { 1, 2, 0 }, update[..3]);
        Assert.Equal(new byte[] { 1, 3, 0 }, revoke[..3]);
        Assert.Equal(keyId, BinaryPrimitives.ReadUInt128LittleEndian(update.AsSpan(32)));
        Assert.Equal(-1, update.AsSpan(2, 30).IndexOfAnyExcept((byte)0));
        Assert.Equal(-1, revoke.AsSpan(48).IndexOfAnyExcept((byte)0));
        Assert.Equal(-1, update.AsSpan(368).IndexOfAnyExcept((byte)0));

        Assert.Null(AssertRoundTrip(KeyOperation.UpdatePolicy(keyId, FullPolicy), update).Ed25519Key);
        Assert.Null(AssertRoundTrip(KeyOperation.Revoke(keyId), revoke).Policy);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1023)]
    [InlineData(1025)]
    public void KeyOperationTryParse_WrongLength_IsWrongLength(int length) =>
        Assert.Equal(IdentityFormatError.WrongLength, KeyError(new byte[length]));

    [Fact]
    public void KeyOperationTryParse_VersionNotOne_IsUnknownVersionBeforeAnythingElse()
    {
        Assert.Equal(IdentityFormatError.UnknownVersion, KeyError(Set(Registration, 0, 0)));
        Assert.Equal(IdentityFormatError.UnknownVersion, KeyError(Set(Registration, 0, 2)));
        Assert.Equal(IdentityFormatError.UnknownVersion, KeyError(Set(Set(Registration, 0, 2), 1, 9)));
    }

    [Fact]
    public void KeyOperationTryParse_UnknownOperationOrKeyKind_IsUnknownKind()
    {
        Assert.Equal(IdentityFormatError.UnknownKind, KeyError(Set(Registration, 1, 0)));
        Assert.Equal(IdentityFormatError.UnknownKind, KeyError(Set(Registration, 1, 4)));
        Assert.Equal(IdentityFormatError.UnknownKind, KeyError(Set(Registration, 2, 0)));
        Assert.Equal(IdentityFormatError.UnknownKind, KeyError(Set(Registration, 2, 3)));
    }

    [Theory]
    [InlineData("register", 6)]
    [InlineData("register", 15)]
    [InlineData("register", 943)]
    [InlineData("register", 1023)]
    [InlineData("register", 3)]
    [InlineData("register", 4)]
    [InlineData("register", 5)]
    [InlineData("register", 80)]
    [InlineData("register", 111)]
    [InlineData("register", 368)]
    [InlineData("register", 942)]
    [InlineData("update", 2)]
    [InlineData("update", 16)]
    [InlineData("update", 31)]
    [InlineData("update", 48)]
    [InlineData("update", 111)]
    [InlineData("update", 368)]
    [InlineData("revoke", 2)]
    [InlineData("revoke", 16)]
    [InlineData("revoke", 48)]
    [InlineData("revoke", 112)]
    [InlineData("revoke", 367)]
    [InlineData("passkey", 6)]
    [InlineData("passkey", 371)]
    [InlineData("passkey", 622)]
    [InlineData("passkey", 638)]
    [InlineData("passkey", 750)]
    [InlineData("passkey", 774)]
    [InlineData("passkey", 942)]
    [InlineData("passkey", 943)]
    public void KeyOperationTryParse_ReservedOrUnusedByteNotZero_IsReservedNotZero(string record, int offset) =>
        Assert.Equal(IdentityFormatError.ReservedNotZero, KeyError(Set(Record(record), offset, 0x40)));

    [Fact]
    public void KeyOperationTryParse_RegistrationToAccountZeroOrReserved_IsBadAccountId()
    {
        byte[] zero = (byte[])Registration.Clone();
        zero.AsSpan(16, 16).Clear();
        byte[] reserved = (byte[])Registration.Clone();
        BinaryPrimitives.WriteUInt128LittleEndian(reserved.AsSpan(16), ReservedId);

        Assert.Equal(IdentityFormatError.BadAccountId, KeyError(zero));
        Assert.Equal(IdentityFormatError.BadAccountId, KeyError(reserved));
    }

    [Theory]
    [InlineData("register")]
    [InlineData("update")]
    [InlineData("revoke")]
    [InlineData("passkey")]
    public void KeyOperationTryParse_KeyIdZero_IsBadKeyId(string record)
    {
        byte[] bytes = Record(record);
        bytes.AsSpan(32, 16).Clear();
        Assert.Equal(IdentityFormatError.BadKeyId, KeyError(bytes));
    }

    [Theory]
    [InlineData("register", 32)]
    [InlineData("register", 47)]
    [InlineData("passkey", 40)]
    public void KeyOperationTryParse_RegistrationWhoseKeyIdIsNotItsKeys_IsBadKeyId(string record, int offset) =>
        Assert.Equal(IdentityFormatError.BadKeyId, KeyError(Set(Record(record), offset, (byte)(Record(record)[offset] ^ 1))));

    [Fact]
    public void KeyOperationTryParse_Ed25519KeyOtherThanTheIds_IsBadKeyIdAsNSecImportsAny32Bytes()
    {
        // NSec imports any 32 bytes as an Ed25519 public key, so a changed key is refused by its id, not as a bad key.
        Assert.Equal(IdentityFormatError.BadKeyId, KeyError(Set(Registration, 48, (byte)(Registration[48] ^ 1))));
        Assert.Equal(IdentityFormatError.BadKeyId, KeyError(Set(Registration, 79, 0xFF)));
    }

    [Fact]
    public void KeyOperationTryParse_PasskeyPointNotOnTheCurve_IsBadPublicKey()
    {
        Assert.Equal(IdentityFormatError.BadPublicKey, KeyError(Set(Record("passkey"), 111, (byte)(P256BasePoint[63] ^ 1))));
        byte[] zeroPoint = Record("passkey");
        zeroPoint.AsSpan(48, 64).Clear();
        Assert.Equal(IdentityFormatError.BadPublicKey, KeyError(zeroPoint));
    }

    [Theory]
    [InlineData("register", 112 + 88, 9)]
    [InlineData("update", 112 + 88, 9)]
    [InlineData("register", 112 + 90, 1)]
    [InlineData("update", 112 + 255, 1)]
    [InlineData("passkey", 112 + 16, 5)]
    public void KeyOperationTryParse_PolicyBreakingARule_IsBadPolicy(string record, int offset, byte value) =>
        Assert.Equal(IdentityFormatError.BadPolicy, KeyError(Set(Record(record), offset, value)));

    [Theory]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(4, 129)]
    [InlineData(5, 0)]
    [InlineData(5, 193)]
    [InlineData(626, 0x20)]
    [InlineData(623, 0x7F)]
    [InlineData(760, 0x19)]
    [InlineData(751, 0x80)]
    public void KeyOperationTryParse_PasskeyFieldEmptyTooLongOrNotPrintable_IsBadPasskeyField(int offset, byte value) =>
        Assert.Equal(IdentityFormatError.BadPasskeyField, KeyError(Set(Record("passkey"), offset, value)));

    [Fact]
    public void KeyOperationEncode_DefaultValue_ThrowsAndItsTooShortBufferThrowsArgumentException()
    {
        Assert.Throws<InvalidOperationException>(() => default(KeyOperation).Encode(new byte[KeyOperation.Size]));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => KeyOperation.Revoke(1).Encode(new byte[KeyOperation.Size - 1])).ParamName);
    }

    // ---- PaymentOrder ----

    [Fact]
    public void PaymentOrderEncode_EachFieldAtItsDocumentedOffset_AndParsesBack()
    {
        PaymentOrder order = GoldenOrder();
        byte[] bytes = new byte[PaymentOrder.Size];
        order.Encode(bytes);

        Assert.Equal(new byte[] { 1, 0 }, bytes[..2]);
        Assert.Equal((ushort)7, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2)));
        Assert.Equal(840u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(GoldenValidUntil, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(GoldenId, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(16)));
        Assert.Equal((UInt128)2, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(32)));
        Assert.Equal((UInt128)3, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(48)));
        Assert.Equal((UInt128)1_000_000, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(64)));
        Assert.Equal(KeyIds.Of(Device.VerificationKey), BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(80)));
        Assert.Equal(GoldenUserData128, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(96)));
        Assert.Equal(0x1122_3344_5566_7788UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(112)));
        Assert.Equal(0x99AA_BBCCu, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(120)));
        Assert.Equal(-1, bytes.AsSpan(124, 4).IndexOfAnyExcept((byte)0));
        byte[] signature = new byte[64];
        order.CopySignatureTo(signature);
        Assert.Equal(signature, bytes[128..192]);
        Assert.Equal(-1, bytes.AsSpan(192).IndexOfAnyExcept((byte)0));

        Assert.True(PaymentOrder.TryParse(bytes, out PaymentOrder read, out IdentityFormatError error));
        Assert.Equal(IdentityFormatError.None, error);
        Assert.Equal(order, read);
        Assert.Equal(order.ToTransfer(), read.ToTransfer());
        Assert.Equal((order.KeyId, order.ValidUntil, (CoSignature?)null), (read.KeyId, read.ValidUntil, read.CoSignature));
        Assert.True(read.Verify(Device.VerificationKey, Instance));
    }

    [Fact]
    public void PaymentOrderEncode_CoSignedByEd25519OrPasskey_Is1024BytesAndParsesBack()
    {
        PaymentOrder order = GoldenOrder();
        foreach (CoSignature coSignature in new[] { CoSignature.SignEd25519(Phone, order, Instance), PasskeyCoSignature() })
        {
            PaymentOrder coSigned = order.WithCoSignature(coSignature);
            Assert.Equal(PaymentOrder.CoSignedSize, coSigned.EncodedSize);
            byte[] bytes = new byte[PaymentOrder.CoSignedSize];
            coSigned.Encode(bytes);
            byte[] plain = new byte[PaymentOrder.Size];
            order.Encode(plain);
            Assert.Equal(plain[..192], bytes[..192]);
            byte[] tail = new byte[CoSignature.Size];
            coSignature.Encode(tail);
            Assert.Equal(tail, bytes[192..]);

            Assert.True(PaymentOrder.TryParse(bytes, out PaymentOrder read, out IdentityFormatError error));
            Assert.Equal(IdentityFormatError.None, error);
            Assert.Equal(coSigned, read);
            Assert.Equal(coSignature, read.CoSignature);
            Assert.NotEqual(order, read);
        }
    }

    [Fact]
    public void PaymentOrderTryParse_1024BytesWithAnAllZeroCoSignature_IsTheOrderWithoutOne()
    {
        PaymentOrder order = GoldenOrder();
        byte[] bytes = new byte[PaymentOrder.CoSignedSize];
        order.EncodeRecord(bytes, PaymentOrder.CoSignedSize);

        Assert.True(PaymentOrder.TryParse(bytes, out PaymentOrder read, out _));
        Assert.Null(read.CoSignature);
        Assert.Equal(order, read);
        byte[] again = new byte[PaymentOrder.CoSignedSize];
        read.EncodeRecord(again, PaymentOrder.CoSignedSize);
        Assert.Equal(bytes, again);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(255)]
    [InlineData(257)]
    [InlineData(1023)]
    [InlineData(1025)]
    public void PaymentOrderTryParse_WrongLength_IsWrongLength(int length)
    {
        Assert.False(PaymentOrder.TryParse(new byte[length], out PaymentOrder order, out IdentityFormatError error));
        Assert.Equal(IdentityFormatError.WrongLength, error);
        Assert.Equal(default, order);
    }

    [Theory]
    [InlineData(0, 0, IdentityFormatError.UnknownVersion)]
    [InlineData(0, 2, IdentityFormatError.UnknownVersion)]
    [InlineData(1, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(124, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(127, 0x80, IdentityFormatError.ReservedNotZero)]
    [InlineData(192, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(255, 1, IdentityFormatError.ReservedNotZero)]
    public void PaymentOrderTryParse_VersionOrReservedByte_IsTheFirstRuleBroken(int offset, byte value, IdentityFormatError expected) =>
        Assert.Equal(expected, OrderError(Set(PlainOrder, offset, value)));

    [Theory]
    [InlineData(16, 16, IdentityFormatError.ZeroId)]
    [InlineData(64, 16, IdentityFormatError.ZeroAmount)]
    [InlineData(80, 16, IdentityFormatError.BadKeyId)]
    [InlineData(8, 8, IdentityFormatError.ZeroValidUntil)]
    public void PaymentOrderTryParse_FieldThatMustNotBeZeroIsZero_SaysWhich(int offset, int length, IdentityFormatError expected)
    {
        byte[] plain = PlainOrder;
        plain.AsSpan(offset, length).Clear();
        byte[] coSigned = CoSignedOrder;
        coSigned.AsSpan(offset, length).Clear();

        Assert.Equal(expected, OrderError(plain));
        Assert.Equal(expected, OrderError(coSigned));
    }

    [Fact]
    public void PaymentOrderTryParse_SeveralRulesBroken_ReportsTheFirstInByteTableOrder()
    {
        byte[] bytes = PlainOrder;
        bytes.AsSpan(8, 24).Clear();
        Assert.Equal(IdentityFormatError.ZeroId, OrderError(bytes));
        bytes[125] = 1;
        Assert.Equal(IdentityFormatError.ReservedNotZero, OrderError(bytes));
        bytes[0] = 9;
        Assert.Equal(IdentityFormatError.UnknownVersion, OrderError(bytes));
    }

    [Theory]
    [InlineData(192, 3, IdentityFormatError.UnknownKind)]
    [InlineData(192, 0, IdentityFormatError.UnknownKind)]
    [InlineData(193, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(207, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(192 + 32 + 64, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(1023, 1, IdentityFormatError.ReservedNotZero)]
    public void PaymentOrderTryParse_CoSignaturePartBroken_IsItsError(int offset, byte value, IdentityFormatError expected) =>
        Assert.Equal(expected, OrderError(Set(CoSignedOrder, offset, value)));

    [Fact]
    public void PaymentOrderTryParse_CoSignatureWithKeyIdZero_IsBadKeyId()
    {
        byte[] bytes = CoSignedOrder;
        bytes.AsSpan(192 + 16, 16).Clear();
        Assert.Equal(IdentityFormatError.BadKeyId, OrderError(bytes));
    }

    [Fact]
    public void PaymentOrderTryParse_PasskeyCoSignatureWithBadLengthsOrTrailingBytes_IsBadAssertionOrReservedNotZero()
    {
        byte[] bytes = new byte[PaymentOrder.CoSignedSize];
        GoldenOrder().WithCoSignature(PasskeyCoSignature()).Encode(bytes);
        Assert.Equal(IdentityFormatError.None, OrderError(bytes));

        Assert.Equal(IdentityFormatError.BadAssertion, OrderError(Set(Set(bytes, 224, 0), 225, 0)));
        Assert.Equal(IdentityFormatError.BadAssertion, OrderError(Set(bytes, 228, 73)));
        Assert.Equal(IdentityFormatError.ReservedNotZero, OrderError(Set(bytes, 1023, 1)));
    }

    [Fact]
    public void PaymentOrderEncode_DefaultOrTooShort_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => default(PaymentOrder).Encode(new byte[PaymentOrder.CoSignedSize]));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => GoldenOrder().Encode(new byte[PaymentOrder.Size - 1])).ParamName);
        PaymentOrder coSigned = GoldenOrder().WithCoSignature(CoSignature.SignEd25519(Phone, GoldenOrder(), Instance));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => coSigned.Encode(new byte[PaymentOrder.CoSignedSize - 1])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => coSigned.EncodeRecord(new byte[PaymentOrder.CoSignedSize], PaymentOrder.Size)).ParamName);
    }

    [Fact]
    public void PaymentOrderSign_NotASinglePhaseTransferOrAZeroField_ThrowsArgumentException()
    {
        Assert.Equal("transfer", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, Instance, Tr(1, 2, 3, 4, TransferFlags.Pending), 1)).ParamName);
        Assert.Equal("transfer", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, Instance, Tr(1, 2, 3, 4) with { Timestamp = 5 }, 1)).ParamName);
        Assert.Equal("transfer", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, Instance, Tr(0, 2, 3, 4), 1)).ParamName);
        Assert.Equal("transfer", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, Instance, Tr(1, 2, 3, 0), 1)).ParamName);
        Assert.Equal("validUntil", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, Instance, Tr(1, 2, 3, 4), 0)).ParamName);
        Assert.Equal("instanceId", Assert.Throws<ArgumentException>(() => PaymentOrder.Sign(Device, 0, Tr(1, 2, 3, 4), 1)).ParamName);
    }

    // ---- CoSignature ----

    [Fact]
    public void CoSignatureEncode_Ed25519_IsKindKeyIdAndSignatureThenZerosAndParsesBack()
    {
        PaymentOrder order = GoldenOrder();
        CoSignature coSignature = CoSignature.SignEd25519(Phone, order, Instance);
        byte[] bytes = new byte[CoSignature.Size];
        coSignature.Encode(bytes);

        Assert.Equal((byte)KeyKind.Ed25519, bytes[0]);
        Assert.Equal(-1, bytes.AsSpan(1, 15).IndexOfAnyExcept((byte)0));
        Assert.Equal(KeyIds.Of(Phone.VerificationKey), BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(-1, bytes.AsSpan(96).IndexOfAnyExcept((byte)0));
        Assert.True(Phone.VerificationKey.Verify(OrderMessage(order), bytes.AsSpan(32, 64)));

        Assert.True(CoSignature.TryParse(bytes, out CoSignature? read, out IdentityFormatError error));
        Assert.Equal(IdentityFormatError.None, error);
        Assert.Equal(coSignature, read);
        Assert.Equal((KeyKind.Ed25519, 0u), (read!.Kind, read.SignCount));
    }

    [Fact]
    public void CoSignatureEncode_Passkey_IsTheAssertionsEncodingAndParsesBack()
    {
        CoSignature coSignature = PasskeyCoSignature();
        byte[] bytes = new byte[CoSignature.Size];
        coSignature.Encode(bytes);

        Assert.Equal((byte)KeyKind.Passkey, bytes[0]);
        Assert.Equal(KeyIds.Of(Passkey), BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(((ushort)37, (ushort)2, (byte)8), (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(32)), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(34)), bytes[36]));

        Assert.True(CoSignature.TryParse(bytes, out CoSignature? read, out _));
        Assert.Equal(coSignature, read);
        Assert.Equal((KeyKind.Passkey, 0x0102_0304u), (read!.Kind, read.SignCount));
    }

    [Fact]
    public void CoSignatureTryParse_AllZero_IsNoCoSignature()
    {
        Assert.True(CoSignature.TryParse(new byte[CoSignature.Size], out CoSignature? coSignature, out IdentityFormatError error));
        Assert.Null(coSignature);
        Assert.Equal(IdentityFormatError.None, error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(831)]
    [InlineData(833)]
    public void CoSignatureTryParse_WrongLength_IsWrongLength(int length)
    {
        Assert.False(CoSignature.TryParse(new byte[length], out CoSignature? coSignature, out IdentityFormatError error));
        Assert.Null(coSignature);
        Assert.Equal(IdentityFormatError.WrongLength, error);
    }

    [Theory]
    [InlineData(0, 0, IdentityFormatError.UnknownKind)]
    [InlineData(0, 3, IdentityFormatError.UnknownKind)]
    [InlineData(0, 0xFF, IdentityFormatError.UnknownKind)]
    [InlineData(1, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(15, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(96, 1, IdentityFormatError.ReservedNotZero)]
    [InlineData(831, 1, IdentityFormatError.ReservedNotZero)]
    public void CoSignatureTryParse_Ed25519WithAByteBroken_IsTheFirstRuleBroken(int offset, byte value, IdentityFormatError expected)
    {
        byte[] bytes = new byte[CoSignature.Size];
        CoSignature.SignEd25519(Phone, GoldenOrder(), Instance).Encode(bytes);
        Assert.False(CoSignature.TryParse(Set(bytes, offset, value), out CoSignature? coSignature, out IdentityFormatError error));
        Assert.Null(coSignature);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void CoSignatureTryParse_KeyIdZeroOrAnAssertionThatDoesNotParse_IsBadKeyIdOrBadAssertion()
    {
        byte[] bytes = new byte[CoSignature.Size];
        PasskeyCoSignature().Encode(bytes);
        byte[] noKey = (byte[])bytes.Clone();
        noKey.AsSpan(16, 16).Clear();

        Assert.Equal(IdentityFormatError.BadKeyId, CoSignatureError(noKey));
        Assert.Equal(IdentityFormatError.BadAssertion, CoSignatureError(Set(bytes, 36, 0)));
        Assert.Equal(IdentityFormatError.BadAssertion, CoSignatureError(Set(bytes, 33, 0x02)));
        Assert.Equal(IdentityFormatError.ReservedNotZero, CoSignatureError(Set(bytes, 32 + 5 + 37 + 2 + 8, 1)));
        Assert.Equal(IdentityFormatError.None, CoSignatureError(Set(bytes, 32 + 5 + 37 + 2 + 7, 0x7F)));
    }

    // ---- Golden vectors ----

    [Fact]
    public void KeyIdsOf_Rfc8032Test1Key_IsTheCheckedInValue()
    {
        Assert.Equal(UInt128.Parse(GoldenKeyIdHex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), KeyIds.Of(Device.VerificationKey));

        // Its definition: the first 16 bytes, little-endian, of SHA-256("micropay/key-id/v1", zero-padded to 32 bytes || kind 1 || the key).
        byte[] input = new byte[32 + 1 + 32];
        "micropay/key-id/v1"u8.CopyTo(input);
        input[32] = 1;
        Device.VerificationKey.CopyTo(input.AsSpan(33));
        Assert.Equal(BinaryPrimitives.ReadUInt128LittleEndian(System.Security.Cryptography.SHA256.HashData(input)), KeyIds.Of(Device.VerificationKey));
    }

    [Fact]
    public void PaymentOrderSign_FixedKeyInstanceAndFields_GivesTheCheckedInBytesAndSignature()
    {
        PaymentOrder order = GoldenOrder();
        byte[] bytes = new byte[PaymentOrder.Size];
        order.Encode(bytes);
        byte[] signature = new byte[64];
        order.CopySignatureTo(signature);

        Assert.Equal(GoldenOrderHex, Convert.ToHexString(bytes));
        Assert.Equal(GoldenSignatureHex, Convert.ToHexString(signature));

        // The signed message, assembled here from the format's documentation: the padded tag, the instance id, bytes 0..127.
        Assert.True(Device.VerificationKey.Verify(OrderMessage(order), signature));
        Assert.False(Device.VerificationKey.Verify(OrderMessage(order, Instance + 1), signature));
    }

    private const string GoldenKeyIdHex = "BB17D37E9FE36C5239F03F13F8BA777A";

    // 32 bytes a line: the signed fields (4 lines), the signature (2 lines), the reserved zeros (2 lines).
    private const string GoldenOrderHex =
        "010007004803000000002A36FE9C97171032547698BADCFEEFCDAB8967452301"
        + "0200000000000000000000000000000003000000000000000000000000000000"
        + "40420F000000000000000000000000007A77BAF8133FF039526CE39F7ED317BB"
        + "11110000FFFFEEEEDDDDCCCCBBBBAAAA8877665544332211CCBBAA9900000000"
        + "94E29312787E460944ACFF55CE22B214F7A79C7DFFB30B5556094148949898E6"
        + "FB54E18CC86D0B1AAB399561A085FB8D30D8B7527DA0FB2D7562FB9A75813203"
        + "0000000000000000000000000000000000000000000000000000000000000000"
        + "0000000000000000000000000000000000000000000000000000000000000000";
    private const string GoldenSignatureHex =
        "94E29312787E460944ACFF55CE22B214F7A79C7DFFB30B5556094148949898E6"
        + "FB54E18CC86D0B1AAB399561A085FB8D30D8B7527DA0FB2D7562FB9A75813203";

    private static readonly UInt128 GoldenId = new(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210);
    private static readonly UInt128 GoldenUserData128 = new(0xAAAA_BBBB_CCCC_DDDD, 0xEEEE_FFFF_0000_1111);
    private const ulong GoldenValidUntil = 1_700_000_000_000_000_000;

    private static readonly UInt128 ReservedId = new(0xFFFF_FFFF_0000_0000, 1);

    private static byte[] Registration => Encoded(KeyOperation.RegisterEd25519(2, Device.VerificationKey, new SpendingPolicy { AllowedPayees = [3], AllowedLedgers = [1] }));

    private static byte[] PlainOrder
    {
        get
        {
            byte[] bytes = new byte[PaymentOrder.Size];
            GoldenOrder().Encode(bytes);
            return bytes;
        }
    }

    private static byte[] CoSignedOrder
    {
        get
        {
            byte[] bytes = new byte[PaymentOrder.CoSignedSize];
            GoldenOrder().WithCoSignature(CoSignature.SignEd25519(Phone, GoldenOrder(), Instance)).Encode(bytes);
            return bytes;
        }
    }

    internal static PaymentOrder GoldenOrder() => PaymentOrder.Sign(
        Device,
        Instance,
        Tr(GoldenId, 2, 3, 1_000_000) with { LedgerId = 840, Code = 7, UserData128 = GoldenUserData128, UserData64 = 0x1122_3344_5566_7788, UserData32 = 0x99AA_BBCC },
        GoldenValidUntil);

    /// <summary>A passkey co-signature as the format carries it (its content is the passkey branch's to verify): signCount 0x01020304.</summary>
    internal static CoSignature PasskeyCoSignature()
    {
        byte[] authenticatorData = new byte[37];
        authenticatorData[32] = 0x05;
        BinaryPrimitives.WriteUInt32BigEndian(authenticatorData.AsSpan(33), 0x0102_0304);
        return CoSignature.FromPasskey(KeyIds.Of(Passkey), new PasskeyAssertion(authenticatorData, "{}"u8, [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]));
    }

    /// <summary>The records the key operation tests break: an Ed25519 registration, an update, a revocation, a passkey registration.</summary>
    internal static byte[] Record(string name) => name switch
    {
        "register" => Registration,
        "update" => Encoded(KeyOperation.UpdatePolicy(KeyIds.Of(Device.VerificationKey), new SpendingPolicy { AllowedPayees = [3], AllowedLedgers = [1] })),
        "revoke" => Encoded(KeyOperation.Revoke(KeyIds.Of(Device.VerificationKey))),
        _ => Encoded(KeyOperation.RegisterPasskey(2, Passkey, SpendingPolicy.Unlimited)),
    };

    internal static byte[] Encoded(KeyOperation operation)
    {
        byte[] bytes = new byte[KeyOperation.Size];
        operation.Encode(bytes);
        return bytes;
    }

    private static byte[] OrderMessage(PaymentOrder order, UInt128? instance = null)
    {
        byte[] record = new byte[PaymentOrder.Size];
        order.Encode(record);
        byte[] message = new byte[32 + 16 + 128];
        "micropay/payment-order/v1"u8.CopyTo(message);
        BinaryPrimitives.WriteUInt128LittleEndian(message.AsSpan(32), instance ?? Instance);
        record.AsSpan(0, 128).CopyTo(message.AsSpan(48));
        return message;
    }

    private static KeyOperation AssertRoundTrip(KeyOperation operation, byte[] bytes)
    {
        Assert.True(KeyOperation.TryParse(bytes, out KeyOperation read, out IdentityFormatError error));
        Assert.Equal(IdentityFormatError.None, error);
        Assert.Equal(operation, read);
        Assert.Equal((operation.Kind, operation.KeyId, operation.AccountId), (read.Kind, read.KeyId, read.AccountId));
        Assert.Equal(bytes, Encoded(read));
        return read;
    }

    private static byte[] Set(byte[] source, int offset, byte value)
    {
        byte[] copy = (byte[])source.Clone();
        copy[offset] = value;
        return copy;
    }

    private static IdentityFormatError KeyError(byte[] bytes)
    {
        bool parsed = KeyOperation.TryParse(bytes, out KeyOperation operation, out IdentityFormatError error);
        Assert.Equal(error == IdentityFormatError.None, parsed);
        Assert.True(parsed || operation.Kind == 0, "a refused record gives a default operation");
        return error;
    }

    private static IdentityFormatError OrderError(byte[] bytes)
    {
        bool parsed = PaymentOrder.TryParse(bytes, out PaymentOrder order, out IdentityFormatError error);
        Assert.Equal(error == IdentityFormatError.None, parsed);
        Assert.True(parsed || order.Id == UInt128.Zero, "a refused record gives a default order");
        return error;
    }

    private static IdentityFormatError CoSignatureError(byte[] bytes)
    {
        bool parsed = CoSignature.TryParse(bytes, out CoSignature? coSignature, out IdentityFormatError error);
        Assert.Equal(error == IdentityFormatError.None, parsed);
        Assert.True(parsed || coSignature is null, "a refused record gives no co-signature");
        return error;
    }
}
