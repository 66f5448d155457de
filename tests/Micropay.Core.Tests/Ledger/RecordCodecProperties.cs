using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// Properties of the record codecs over random 128-byte records: every byte pattern decodes and encodes back to
/// itself, and the wire layout is the structs' documented in-memory layout (compared on this little-endian machine).
/// </summary>
public sealed class RecordCodecProperties
{
    private static Arbitrary<byte[]> Records() =>
        Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), Account.Size));

    [Property(MaxTest = 500)]
    public Property AccountTryParseThenEncode_AnyBytes_GivesTheSameBytes() =>
        Prop.ForAll(Records(), bytes =>
        {
            byte[] written = new byte[Account.Size];
            return Account.TryParse(bytes, out Account account) && account.TryEncode(written, out int n) && n == Account.Size &&
                written.AsSpan().SequenceEqual(bytes);
        });

    [Property(MaxTest = 500)]
    public Property TransferTryParseThenEncode_AnyBytes_GivesTheSameBytes() =>
        Prop.ForAll(Records(), bytes =>
        {
            byte[] written = new byte[Transfer.Size];
            return Transfer.TryParse(bytes, out Transfer transfer) && transfer.TryEncode(written, out int n) && n == Transfer.Size &&
                written.AsSpan().SequenceEqual(bytes);
        });

    [Property(MaxTest = 500)]
    public Property AccountEncodeThenTryParse_AnyAccount_GivesAnEqualAccount() =>
        Prop.ForAll(Records(), bytes =>
        {
            // Any bit pattern is an account; reinterpreting random bytes reaches values no constructor would.
            Account account = MemoryMarshal.Read<Account>(bytes);
            byte[] written = new byte[Account.Size];
            account.Encode(written);
            return Account.TryParse(written, out Account read) && read == account && read.Reserved == account.Reserved;
        });

    [Property(MaxTest = 500)]
    public Property TransferEncodeThenTryParse_AnyTransfer_GivesAnEqualTransfer() =>
        Prop.ForAll(Records(), bytes =>
        {
            Transfer transfer = MemoryMarshal.Read<Transfer>(bytes);
            byte[] written = new byte[Transfer.Size];
            transfer.Encode(written);
            return Transfer.TryParse(written, out Transfer read) && read == transfer;
        });

    [Property(MaxTest = 300)]
    public Property AccountTryParse_AnyBytes_AgreesWithTheInMemoryLayout() =>
        Prop.ForAll(Records(), bytes =>
            !BitConverter.IsLittleEndian ||
            (Account.TryParse(bytes, out Account account) && account == MemoryMarshal.Read<Account>(bytes) &&
             account.Reserved == MemoryMarshal.Read<Account>(bytes).Reserved));

    [Property(MaxTest = 300)]
    public Property TransferTryParse_AnyBytes_AgreesWithTheInMemoryLayout() =>
        Prop.ForAll(Records(), bytes =>
            !BitConverter.IsLittleEndian || (Transfer.TryParse(bytes, out Transfer transfer) && transfer == MemoryMarshal.Read<Transfer>(bytes)));

    [Property(MaxTest = 100)]
    public Property TransferEncodeAllThenDecodeAll_AnyRecords_RoundTrip() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Records().Generator, n))), records =>
        {
            Transfer[] transfers = [.. records.Select(r => MemoryMarshal.Read<Transfer>(r))];
            byte[] bulk = new byte[transfers.Length * Transfer.Size];
            Transfer.EncodeAll(transfers, bulk);
            var decoded = new Transfer[transfers.Length];
            Transfer.DecodeAll(bulk, decoded);
            return decoded.SequenceEqual(transfers) && (!BitConverter.IsLittleEndian || bulk.SequenceEqual(records.SelectMany(r => r)));
        });
}
