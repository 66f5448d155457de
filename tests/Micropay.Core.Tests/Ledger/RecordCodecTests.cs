using System.Runtime.InteropServices;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// The record codecs of <see cref="Account"/> and <see cref="Transfer"/>: a known byte vector with every field
/// distinct and pinned at its documented offset, round trips, short buffers, and the bulk loops the ledger's snapshots
/// (and the engine) use.
/// </summary>
public sealed class RecordCodecTests
{
    // Each field of the record below, little-endian, at the offset its byte table gives; every byte of the 128 is
    // distinct, so a field written at the wrong offset, with the wrong width or in the wrong byte order cannot pass.
    private static readonly byte[] KnownRecord = Convert.FromHexString(
        "100F0E0D0C0B0A090807060504030201" + //   0 Id
        "201F1E1D1C1B1A191817161514131211" + //  16 DebitsPending / DebitAccountId
        "302F2E2D2C2B2A292827262524232221" + //  32 DebitsPosted / CreditAccountId
        "403F3E3D3C3B3A393837363534333231" + //  48 CreditsPending / Amount
        "504F4E4D4C4B4A494847464544434241" + //  64 CreditsPosted / PendingId
        "605F5E5D5C5B5A595857565554535251" + //  80 UserData128
        "6867666564636261" + //                  96 UserData64
        "6C6B6A69" + //                         104 UserData32
        "706F6E6D" + //                         108 Reserved / Timeout
        "74737271" + //                         112 LedgerId
        "7675" + //                             116 Code
        "7877" + //                             118 Flags
        "807F7E7D7C7B7A79"); //                 120 Timestamp

    private static Account KnownAccount => new()
    {
        Id = new UInt128(0x0102030405060708, 0x090A0B0C0D0E0F10),
        DebitsPending = new UInt128(0x1112131415161718, 0x191A1B1C1D1E1F20),
        DebitsPosted = new UInt128(0x2122232425262728, 0x292A2B2C2D2E2F30),
        CreditsPending = new UInt128(0x3132333435363738, 0x393A3B3C3D3E3F40),
        CreditsPosted = new UInt128(0x4142434445464748, 0x494A4B4C4D4E4F50),
        UserData128 = new UInt128(0x5152535455565758, 0x595A5B5C5D5E5F60),
        UserData64 = 0x6162636465666768,
        UserData32 = 0x696A6B6C,
        Reserved = 0x6D6E6F70,
        LedgerId = 0x71727374,
        Code = 0x7576,
        Flags = (AccountFlags)0x7778,
        Timestamp = 0x797A7B7C7D7E7F80,
    };

    private static Transfer KnownTransfer => new()
    {
        Id = new UInt128(0x0102030405060708, 0x090A0B0C0D0E0F10),
        DebitAccountId = new UInt128(0x1112131415161718, 0x191A1B1C1D1E1F20),
        CreditAccountId = new UInt128(0x2122232425262728, 0x292A2B2C2D2E2F30),
        Amount = new UInt128(0x3132333435363738, 0x393A3B3C3D3E3F40),
        PendingId = new UInt128(0x4142434445464748, 0x494A4B4C4D4E4F50),
        UserData128 = new UInt128(0x5152535455565758, 0x595A5B5C5D5E5F60),
        UserData64 = 0x6162636465666768,
        UserData32 = 0x696A6B6C,
        Timeout = 0x6D6E6F70,
        LedgerId = 0x71727374,
        Code = 0x7576,
        Flags = (TransferFlags)0x7778,
        Timestamp = 0x797A7B7C7D7E7F80,
    };

    [Fact]
    public void KnownRecord_EveryByte_IsDistinct()
    {
        Assert.Equal(128, KnownRecord.Length);
        Assert.Equal(128, KnownRecord.Distinct().Count());
    }

    [Fact]
    public void AccountEncode_KnownAccount_WritesTheKnownBytes()
    {
        byte[] bytes = new byte[Account.Size];

        KnownAccount.Encode(bytes);

        Assert.Equal(KnownRecord, bytes);
    }

    [Fact]
    public void AccountTryParse_KnownBytes_ReadsEveryField()
    {
        Assert.True(Account.TryParse(KnownRecord, out Account account));

        Assert.Equal(KnownAccount, account);
        Assert.Equal(0x6D6E6F70u, account.Reserved);
    }

    [Fact]
    public void TransferEncode_KnownTransfer_WritesTheKnownBytes()
    {
        byte[] bytes = new byte[Transfer.Size];

        KnownTransfer.Encode(bytes);

        Assert.Equal(KnownRecord, bytes);
    }

    [Fact]
    public void TransferTryParse_KnownBytes_ReadsEveryField()
    {
        Assert.True(Transfer.TryParse(KnownRecord, out Transfer transfer));

        Assert.Equal(KnownTransfer, transfer);
        Assert.Equal(0x6D6E6F70u, transfer.Timeout);
    }

    [Fact]
    public void AccountEncode_OnThisPlatform_EqualsTheInMemoryLayout()
    {
        // The wire layout is the struct's documented layout: on a little-endian machine they are the same bytes.
        if (!BitConverter.IsLittleEndian)
        {
            return; // The in-memory layout is the wire layout only on little-endian machines.
        }

        Account account = KnownAccount;
        byte[] bytes = new byte[Account.Size];

        account.Encode(bytes);

        Assert.Equal(MemoryMarshal.AsBytes(new ReadOnlySpan<Account>(in account)).ToArray(), bytes);
    }

    [Fact]
    public void TransferEncode_OnThisPlatform_EqualsTheInMemoryLayout()
    {
        if (!BitConverter.IsLittleEndian)
        {
            return; // The in-memory layout is the wire layout only on little-endian machines.
        }

        Transfer transfer = KnownTransfer;
        byte[] bytes = new byte[Transfer.Size];

        transfer.Encode(bytes);

        Assert.Equal(MemoryMarshal.AsBytes(new ReadOnlySpan<Transfer>(in transfer)).ToArray(), bytes);
    }

    [Fact]
    public void AccountTryEncode_LongEnoughDestination_WritesTheFirst128BytesOnly()
    {
        byte[] bytes = Enumerable.Repeat((byte)0xEE, Account.Size + 8).ToArray();

        Assert.True(KnownAccount.TryEncode(bytes, out int written));

        Assert.Equal(Account.Size, written);
        Assert.Equal(KnownRecord, bytes[..Account.Size]);
        Assert.All(bytes[Account.Size..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void TransferTryEncode_LongEnoughDestination_WritesTheFirst128BytesOnly()
    {
        byte[] bytes = Enumerable.Repeat((byte)0xEE, Transfer.Size + 8).ToArray();

        Assert.True(KnownTransfer.TryEncode(bytes, out int written));

        Assert.Equal(Transfer.Size, written);
        Assert.Equal(KnownRecord, bytes[..Transfer.Size]);
        Assert.All(bytes[Transfer.Size..], b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    public void AccountEncode_DestinationShorterThan128_ThrowsArgumentExceptionNamingIt(int length)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => KnownAccount.Encode(new byte[length]));

        Assert.Equal("destination", e.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    public void TransferEncode_DestinationShorterThan128_ThrowsArgumentExceptionNamingIt(int length)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => KnownTransfer.Encode(new byte[length]));

        Assert.Equal("destination", e.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    public void AccountTryEncode_DestinationShorterThan128_ReturnsFalseAndWritesNothing(int length)
    {
        byte[] bytes = Enumerable.Repeat((byte)0xEE, length).ToArray();

        Assert.False(KnownAccount.TryEncode(bytes, out int written));

        Assert.Equal(0, written);
        Assert.All(bytes, b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    public void TransferTryEncode_DestinationShorterThan128_ReturnsFalseAndWritesNothing(int length)
    {
        byte[] bytes = Enumerable.Repeat((byte)0xEE, length).ToArray();

        Assert.False(KnownTransfer.TryEncode(bytes, out int written));

        Assert.Equal(0, written);
        Assert.All(bytes, b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    public void AccountTryParse_SourceShorterThan128_ReturnsFalseAndDefault(int length)
    {
        Assert.False(Account.TryParse(KnownRecord.AsSpan(0, length), out Account account));

        Assert.Equal(default, account);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    public void TransferTryParse_SourceShorterThan128_ReturnsFalseAndDefault(int length)
    {
        Assert.False(Transfer.TryParse(KnownRecord.AsSpan(0, length), out Transfer transfer));

        Assert.Equal(default, transfer);
    }

    [Fact]
    public void AccountTryParse_LongerSource_ReadsTheFirst128Bytes()
    {
        byte[] source = [.. KnownRecord, 0xAA, 0xBB];

        Assert.True(Account.TryParse(source, out Account account));

        Assert.Equal(KnownAccount, account);
    }

    [Fact]
    public void TransferTryParse_LongerSource_ReadsTheFirst128Bytes()
    {
        byte[] source = [.. KnownRecord, 0xAA, 0xBB];

        Assert.True(Transfer.TryParse(source, out Transfer transfer));

        Assert.Equal(KnownTransfer, transfer);
    }

    [Fact]
    public void AccountTryParse_AllOnes_DecodesWithoutValidating()
    {
        // Any 128 bytes are some account, even one the ledger would refuse (reserved id, unknown flags, nonzero Reserved).
        byte[] ones = Enumerable.Repeat((byte)0xFF, Account.Size).ToArray();

        Assert.True(Account.TryParse(ones, out Account account));

        Assert.Equal(UInt128.MaxValue, account.Id);
        Assert.Equal(uint.MaxValue, account.Reserved);
        Assert.Equal((AccountFlags)0xFFFF, account.Flags);
    }

    [Fact]
    public void TransferEncodeAllAndDecodeAll_SeveralRecords_RoundTripAndMatchEncodeOneByOne()
    {
        Transfer[] transfers = [.. Enumerable.Range(1, 5).Select(i => KnownTransfer with { Id = (UInt128)i, Amount = (UInt128)(i * 1000), Timestamp = (ulong)i })];
        byte[] bulk = new byte[transfers.Length * Transfer.Size];

        Transfer.EncodeAll(transfers, bulk);

        for (int i = 0; i < transfers.Length; i++)
        {
            byte[] single = new byte[Transfer.Size];
            transfers[i].Encode(single);
            Assert.Equal(single, bulk[(i * Transfer.Size)..((i + 1) * Transfer.Size)]);
        }

        var decoded = new Transfer[transfers.Length];
        Transfer.DecodeAll(bulk, decoded);
        Assert.Equal(transfers, decoded);
    }

    [Fact]
    public void AccountEncodeAllAndDecodeAll_SeveralRecords_RoundTripAndMatchEncodeOneByOne()
    {
        Account[] accounts = [.. Enumerable.Range(1, 5).Select(i => KnownAccount with { Id = (UInt128)i, CreditsPosted = (UInt128)(i * 1000), Timestamp = (ulong)i })];
        byte[] bulk = new byte[accounts.Length * Account.Size];

        Account.EncodeAll(accounts, bulk);

        for (int i = 0; i < accounts.Length; i++)
        {
            byte[] single = new byte[Account.Size];
            accounts[i].Encode(single);
            Assert.Equal(single, bulk[(i * Account.Size)..((i + 1) * Account.Size)]);
        }

        var decoded = new Account[accounts.Length];
        Account.DecodeAll(bulk, decoded);
        Assert.Equal(accounts, decoded);
    }

    [Fact]
    public void TransferEncodeAll_DestinationTooShort_ThrowsArgumentException()
    {
        Transfer[] transfers = [KnownTransfer, KnownTransfer];

        Assert.Throws<ArgumentException>(() => Transfer.EncodeAll(transfers, new byte[(2 * Transfer.Size) - 1]));
    }

    [Fact]
    public void AccountDecodeAll_SourceTooShort_ThrowsArgumentException()
    {
        var accounts = new Account[2];

        Assert.Throws<ArgumentException>(() => Account.DecodeAll(new byte[(2 * Account.Size) - 1], accounts));
    }
}
