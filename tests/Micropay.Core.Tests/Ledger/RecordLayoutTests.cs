using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// Pins the 128-byte layouts documented in the byte tables of <see cref="Account"/> and <see cref="Transfer"/>:
/// the records are blittable and their bytes are a wire and storage contract, so a reordered field must fail here.
/// </summary>
public sealed class RecordLayoutTests
{
    [Fact]
    public void Account_Size_Is128BytesManagedAndUnmanaged()
    {
        Assert.Equal(128, Account.Size);
        Assert.Equal(Account.Size, Unsafe.SizeOf<Account>());
        Assert.Equal(Account.Size, Marshal.SizeOf<Account>());
    }

    [Fact]
    public void Transfer_Size_Is128BytesManagedAndUnmanaged()
    {
        Assert.Equal(128, Transfer.Size);
        Assert.Equal(Transfer.Size, Unsafe.SizeOf<Transfer>());
        Assert.Equal(Transfer.Size, Marshal.SizeOf<Transfer>());
    }

    [Fact]
    public void Account_EveryField_SitsAtItsDocumentedLittleEndianOffset()
    {
        // Each field gets a value whose bytes are all distinct from every other field's, so a field moved onto
        // another's bytes (or an endianness swap) cannot go unnoticed.
        var account = new Account
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

        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Account>(in account));

        Assert.Equal(128, bytes.Length);
        Assert.Equal(account.Id, BinaryPrimitives.ReadUInt128LittleEndian(bytes[0..16]));
        Assert.Equal(account.DebitsPending, BinaryPrimitives.ReadUInt128LittleEndian(bytes[16..32]));
        Assert.Equal(account.DebitsPosted, BinaryPrimitives.ReadUInt128LittleEndian(bytes[32..48]));
        Assert.Equal(account.CreditsPending, BinaryPrimitives.ReadUInt128LittleEndian(bytes[48..64]));
        Assert.Equal(account.CreditsPosted, BinaryPrimitives.ReadUInt128LittleEndian(bytes[64..80]));
        Assert.Equal(account.UserData128, BinaryPrimitives.ReadUInt128LittleEndian(bytes[80..96]));
        Assert.Equal(account.UserData64, BinaryPrimitives.ReadUInt64LittleEndian(bytes[96..104]));
        Assert.Equal(account.UserData32, BinaryPrimitives.ReadUInt32LittleEndian(bytes[104..108]));
        Assert.Equal(account.Reserved, BinaryPrimitives.ReadUInt32LittleEndian(bytes[108..112]));
        Assert.Equal(account.LedgerId, BinaryPrimitives.ReadUInt32LittleEndian(bytes[112..116]));
        Assert.Equal(account.Code, BinaryPrimitives.ReadUInt16LittleEndian(bytes[116..118]));
        Assert.Equal((ushort)account.Flags, BinaryPrimitives.ReadUInt16LittleEndian(bytes[118..120]));
        Assert.Equal(account.Timestamp, BinaryPrimitives.ReadUInt64LittleEndian(bytes[120..128]));
    }

    [Fact]
    public void Transfer_EveryField_SitsAtItsDocumentedLittleEndianOffset()
    {
        var transfer = new Transfer
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

        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<Transfer>(in transfer));

        Assert.Equal(128, bytes.Length);
        Assert.Equal(transfer.Id, BinaryPrimitives.ReadUInt128LittleEndian(bytes[0..16]));
        Assert.Equal(transfer.DebitAccountId, BinaryPrimitives.ReadUInt128LittleEndian(bytes[16..32]));
        Assert.Equal(transfer.CreditAccountId, BinaryPrimitives.ReadUInt128LittleEndian(bytes[32..48]));
        Assert.Equal(transfer.Amount, BinaryPrimitives.ReadUInt128LittleEndian(bytes[48..64]));
        Assert.Equal(transfer.PendingId, BinaryPrimitives.ReadUInt128LittleEndian(bytes[64..80]));
        Assert.Equal(transfer.UserData128, BinaryPrimitives.ReadUInt128LittleEndian(bytes[80..96]));
        Assert.Equal(transfer.UserData64, BinaryPrimitives.ReadUInt64LittleEndian(bytes[96..104]));
        Assert.Equal(transfer.UserData32, BinaryPrimitives.ReadUInt32LittleEndian(bytes[104..108]));
        Assert.Equal(transfer.Timeout, BinaryPrimitives.ReadUInt32LittleEndian(bytes[108..112]));
        Assert.Equal(transfer.LedgerId, BinaryPrimitives.ReadUInt32LittleEndian(bytes[112..116]));
        Assert.Equal(transfer.Code, BinaryPrimitives.ReadUInt16LittleEndian(bytes[116..118]));
        Assert.Equal((ushort)transfer.Flags, BinaryPrimitives.ReadUInt16LittleEndian(bytes[118..120]));
        Assert.Equal(transfer.Timestamp, BinaryPrimitives.ReadUInt64LittleEndian(bytes[120..128]));
    }

    [Fact]
    public void Account_BytesWrittenAtDocumentedOffsets_ReadBackIntoTheRightProperties()
    {
        // The reverse direction: a record received as bytes (little-endian, per the table) must surface each field
        // in the property the table names.
        Span<byte> bytes = stackalloc byte[Account.Size];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[0..16], 1);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[16..32], 2);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[32..48], 3);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[48..64], 4);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[64..80], 5);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[80..96], 6);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[96..104], 7);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[104..108], 8);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[108..112], 9);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[112..116], 10);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[116..118], 11);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[118..120], 12);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[120..128], 13);

        Account account = MemoryMarshal.Read<Account>(bytes);

        Assert.Equal((UInt128)1, account.Id);
        Assert.Equal((UInt128)2, account.DebitsPending);
        Assert.Equal((UInt128)3, account.DebitsPosted);
        Assert.Equal((UInt128)4, account.CreditsPending);
        Assert.Equal((UInt128)5, account.CreditsPosted);
        Assert.Equal((UInt128)6, account.UserData128);
        Assert.Equal(7UL, account.UserData64);
        Assert.Equal(8U, account.UserData32);
        Assert.Equal(9U, account.Reserved);
        Assert.Equal(10U, account.LedgerId);
        Assert.Equal((ushort)11, account.Code);
        Assert.Equal((AccountFlags)12, account.Flags);
        Assert.Equal(13UL, account.Timestamp);
    }

    [Fact]
    public void Transfer_BytesWrittenAtDocumentedOffsets_ReadBackIntoTheRightProperties()
    {
        Span<byte> bytes = stackalloc byte[Transfer.Size];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[0..16], 1);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[16..32], 2);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[32..48], 3);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[48..64], 4);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[64..80], 5);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes[80..96], 6);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[96..104], 7);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[104..108], 8);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[108..112], 9);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[112..116], 10);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[116..118], 11);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[118..120], 12);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[120..128], 13);

        Transfer transfer = MemoryMarshal.Read<Transfer>(bytes);

        Assert.Equal((UInt128)1, transfer.Id);
        Assert.Equal((UInt128)2, transfer.DebitAccountId);
        Assert.Equal((UInt128)3, transfer.CreditAccountId);
        Assert.Equal((UInt128)4, transfer.Amount);
        Assert.Equal((UInt128)5, transfer.PendingId);
        Assert.Equal((UInt128)6, transfer.UserData128);
        Assert.Equal(7UL, transfer.UserData64);
        Assert.Equal(8U, transfer.UserData32);
        Assert.Equal(9U, transfer.Timeout);
        Assert.Equal(10U, transfer.LedgerId);
        Assert.Equal((ushort)11, transfer.Code);
        Assert.Equal((TransferFlags)12, transfer.Flags);
        Assert.Equal(13UL, transfer.Timestamp);
    }

    [Fact]
    public void AccountAndTransfer_Layouts_HaveNoManagedReferences()
    {
        // Blittable records are what lets the ledger keep rows in pinned byte arrays and copy them with memcpy.
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<Account>());
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<Transfer>());
    }
}
