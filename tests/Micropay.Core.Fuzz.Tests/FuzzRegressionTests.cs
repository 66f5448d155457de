using Micropay.Core.Audit;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;

namespace Micropay.Core.Fuzz.Tests;

/// <summary>
/// Every input that broke a target's check, as its bytes, run through that check (and, where it says more, asserted
/// directly). Each names who found it and whether the fault was the library's or the check's.
/// </summary>
public sealed class FuzzRegressionTests
{
    // Found by MutationProperties.Order_SurvivesMutation (a check bug): 832 zero bytes at the end of the input are
    // CoSignature's documented "none" (true with null), which the check took for "parsed but no co-signature".
    [Fact]
    public void Order_AllZeroCoSignatureTail_IsNoCoSignature()
    {
        byte[] input = new byte[CoSignature.Size];
        FuzzTargets.Order(input);
        Assert.True(CoSignature.TryParse(input, out CoSignature? coSignature, out IdentityFormatError error));
        Assert.Null(coSignature);
        Assert.Equal(IdentityFormatError.None, error);
    }

    // Found with the fix above (a check bug): a 1024-byte order record whose co-signature is all zeros is an order
    // without one (the journal's ExecuteCoSignedOrders records are all 1024 bytes); its own encoding is 256 bytes, so
    // the round trip is to a record of the input's size.
    [Fact]
    public void Order_1024ByteRecordWithoutCoSignature_RoundTripsAtItsRecordSize()
    {
        using var key = SigningKey.Import(new byte[32], SigningKeyFormat.RawSeed);
        var transfer = new Transfer { Id = 1, DebitAccountId = 2, CreditAccountId = 3, Amount = 4, LedgerId = 1, Code = 1 };
        PaymentOrder order = PaymentOrder.Sign(key, 1, transfer, 10);
        byte[] record = new byte[PaymentOrder.CoSignedSize];
        order.EncodeRecord(record, PaymentOrder.CoSignedSize);

        FuzzTargets.Order(record);
        Assert.True(PaymentOrder.TryParse(record, out PaymentOrder parsed, out _));
        Assert.Null(parsed.CoSignature);
        Assert.Equal(PaymentOrder.Size, parsed.EncodedSize);
    }

    // Found by AFL++ (note target, 4 crashes in 10 minutes; a check bug): the check wanted each signature line to
    // rebuild to its own text, but the base64 is read as Go's note package reads it, ignoring the unused low bits of the
    // last character ("RMMwUCD=" and "RMMwUCA=" are the same 5 bytes). Signature lines are not signed, so this lets no
    // one change what a note says; the check now compares lines by the fields they decode to.
    [Fact]
    public void Note_SignatureLineWithUnusedBase64BitsSet_DecodesAsItsCanonicalForm()
    {
        byte[] input = Convert.FromBase64String("ZnV6ei5leGFtdEdlL2xsNzFIWE4yZDdJPQoK4oCUIGZ1enouZXhhbXBsZS9sb2cgUk1Nd1VDRD0K");
        FuzzTargets.Note(input);
        Assert.True(SignedNote.TryParseLine("\u2014 fuzz.example/log RMMwUCD=", out _, out uint keyId, out byte[] signature));
        Assert.True(SignedNote.TryParseLine("\u2014 fuzz.example/log RMMwUCA=", out _, out uint canonicalKeyId, out byte[] canonical));
        Assert.Equal(canonicalKeyId, keyId);
        Assert.Equal(canonical, signature);
    }
}
