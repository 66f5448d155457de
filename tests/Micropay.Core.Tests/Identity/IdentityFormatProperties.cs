using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// The identity parsers over arbitrary bytes and over valid records with a few bytes changed: <c>TryParse</c> never
/// throws, reports an error exactly when it refuses, and whatever it accepts encodes back to the very same bytes.
/// </summary>
public sealed class IdentityFormatProperties
{
    private static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(b => (byte)b);

    [Property(MaxTest = 300)]
    public Property KeyOperationTryParse_AnyBytes_NeverThrowsAndWhatParsesEncodesBackToThem() =>
        Prop.ForAll(Inputs(KeyOperation.Size, IdentityFormatTests.Record("register"), IdentityFormatTests.Record("update"), IdentityFormatTests.Record("revoke"), IdentityFormatTests.Record("passkey")), bytes =>
        {
            bool parsed = KeyOperation.TryParse(bytes, out KeyOperation operation, out IdentityFormatError error);
            return parsed == (error == IdentityFormatError.None) && (!parsed || IdentityFormatTests.Encoded(operation).AsSpan().SequenceEqual(bytes));
        });

    [Property(MaxTest = 300)]
    public Property PaymentOrderTryParse_AnyBytes_NeverThrowsAndWhatParsesEncodesBackToThem() =>
        Prop.ForAll(Inputs(PaymentOrder.Size, Orders()), bytes => OrderRoundTrips(bytes));

    [Property(MaxTest = 300)]
    public Property CoSignedPaymentOrderTryParse_AnyBytes_NeverThrowsAndWhatParsesEncodesBackToThem() =>
        Prop.ForAll(Inputs(PaymentOrder.CoSignedSize, CoSignedOrders()), bytes => OrderRoundTrips(bytes));

    [Property(MaxTest = 300)]
    public Property CoSignatureTryParse_AnyBytes_NeverThrowsAndWhatParsesEncodesBackToThem() =>
        Prop.ForAll(Inputs(CoSignature.Size, [.. CoSignedOrders().Select(o => o[192..])]), bytes =>
        {
            bool parsed = CoSignature.TryParse(bytes, out CoSignature? coSignature, out IdentityFormatError error);
            if (!parsed || coSignature is null)
            {
                // Refused, or all zeros (no co-signature).
                return parsed == (error == IdentityFormatError.None) && (parsed ? !bytes.AsSpan().ContainsAnyExcept((byte)0) : coSignature is null);
            }

            byte[] again = new byte[CoSignature.Size];
            coSignature.Encode(again);
            return error == IdentityFormatError.None && again.AsSpan().SequenceEqual(bytes);
        });

    [Property(MaxTest = 300)]
    public Property SpendingPolicyTryParse_AnyBytes_NeverThrowsAndWhatParsesEncodesBackToThem() =>
        Prop.ForAll(Inputs(SpendingPolicy.EncodedSize, Policy(IdentityFormatTests.FullPolicy), Policy(SpendingPolicy.Unlimited), Policy(new SpendingPolicy { AllowedPayees = [3], WindowLimit = 9, WindowLength = 5 })), bytes =>
        {
            bool parsed = SpendingPolicy.TryParse(bytes, out SpendingPolicy? policy, out string? error);
            if (!parsed)
            {
                return policy is null && !string.IsNullOrEmpty(error);
            }

            byte[] again = new byte[SpendingPolicy.EncodedSize];
            policy!.Encode(again);
            return error is null && policy.Validate() is null && again.AsSpan().SequenceEqual(bytes);
        });

    private static bool OrderRoundTrips(byte[] bytes)
    {
        bool parsed = PaymentOrder.TryParse(bytes, out PaymentOrder order, out IdentityFormatError error);
        if (!parsed)
        {
            return error != IdentityFormatError.None && order.Id == UInt128.Zero;
        }

        // A 1024-byte record whose co-signature part is all zeros is an order without one, recorded at 1024 bytes.
        byte[] again = new byte[bytes.Length];
        order.EncodeRecord(again, bytes.Length);
        return error == IdentityFormatError.None && again.AsSpan().SequenceEqual(bytes);
    }

    /// <summary>Inputs for a format of <paramref name="size"/> bytes: any bytes (of that length or another), a valid record, or one with one to four bytes changed.</summary>
    private static Arbitrary<byte[]> Inputs(int size, params byte[][] valid)
    {
        Gen<(int At, byte Value)> edit = from at in Gen.Choose(0, size - 1) from value in Byte select (at, value);
        Gen<byte[]> changed =
            from record in Gen.Elements(valid)
            from edits in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(edit, n))
            select Changed(record, edits);
        Gen<byte[]> flipped =
            from record in Gen.Elements(valid)
            from bit in Gen.Choose(0, (size * 8) - 1)
            select Changed(record, [(bit / 8, (byte)(record[bit / 8] ^ (1 << (bit % 8))))]);
        return Arb.From(Gen.Frequency(
            (2, Gen.ArrayOf(Byte, size)),
            (1, Gen.Choose(0, size + 8).SelectMany(n => Gen.ArrayOf(Byte, n))),
            (1, Gen.Elements(valid)),
            (4, changed),
            (4, flipped)));
    }

    private static byte[] Changed(byte[] record, (int At, byte Value)[] edits)
    {
        byte[] copy = (byte[])record.Clone();
        foreach ((int at, byte value) in edits)
        {
            copy[at] = value;
        }

        return copy;
    }

    private static byte[][] Orders()
    {
        byte[] golden = new byte[PaymentOrder.Size];
        IdentityFormatTests.GoldenOrder().Encode(golden);
        byte[] tiny = new byte[PaymentOrder.Size];
        PaymentOrder.Sign(IdentityFormatTests.Device, IdentityTestKit.Instance, Records.Tr(1, 2, 3, 1), 1).Encode(tiny);
        return [golden, tiny];
    }

    private static byte[][] CoSignedOrders()
    {
        PaymentOrder order = IdentityFormatTests.GoldenOrder();
        byte[] ed25519 = new byte[PaymentOrder.CoSignedSize];
        order.WithCoSignature(CoSignature.SignEd25519(IdentityFormatTests.Phone, order, IdentityTestKit.Instance)).Encode(ed25519);
        byte[] passkey = new byte[PaymentOrder.CoSignedSize];
        order.WithCoSignature(IdentityFormatTests.PasskeyCoSignature()).Encode(passkey);
        byte[] none = new byte[PaymentOrder.CoSignedSize];
        order.EncodeRecord(none, PaymentOrder.CoSignedSize);
        return [ed25519, passkey, none];
    }

    private static byte[] Policy(SpendingPolicy policy)
    {
        byte[] bytes = new byte[SpendingPolicy.EncodedSize];
        policy.Encode(bytes);
        return bytes;
    }
}
