using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// The account index's 4-byte slots split row and fingerprint bits by table size. A small minimum row width makes
/// that boundary move on every growth here, which the ledger's own tests would need millions of accounts to reach.
/// </summary>
public sealed class IdIndexTests
{
    [Theory]
    [InlineData(4, false)]
    [InlineData(24, false)]
    [InlineData(4, true)]
    [InlineData(24, true)]
    public void ReserveAndInsert_GrowingAcrossLayoutChanges_FindsEveryIdWithItsRow(int minValueBits, bool withFlagBit)
    {
        var ids = new UInt128[40_000];
        var random = new Random(7);
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64());
        }

        // With a flag bit, every third id is stored flagged (as the transfer index stores burnt ids): the flag must
        // survive every growth, moving with the value/fingerprint boundary.
        var index = new IdIndex(capacity: 0, minValueBits, withFlagBit);
        var source = new ArraySource(ids, index);
        bool Flagged(int i) => withFlagBit && i % 3 == 0;
        uint Expected(int i) => Flagged(i) ? index.FlagBit | (uint)i : (uint)i;
        for (int i = 0; i < ids.Length; i++)
        {
            index.Reserve(1, source, "test");
            ulong hash = IdHash.Hash(ids[i]);
            Assert.Equal(IdIndex.NotFound, index.Find(hash, ids[i], source));
            index.Insert(hash, Expected(i));
            if ((i & (i + 1)) == 0)
            {
                // After each power of two (around every growth), every id so far must still be found.
                for (int j = 0; j <= i; j++)
                {
                    Assert.Equal(Expected(j), index.Find(IdHash.Hash(ids[j]), ids[j], source));
                }
            }
        }

        for (int j = 0; j < ids.Length; j++)
        {
            Assert.Equal(Expected(j), index.Find(IdHash.Hash(ids[j]), ids[j], source));
        }

        Assert.Equal(IdIndex.NotFound, index.Find(IdHash.Hash(12345), 12345, source));
    }

    [Fact]
    public void Remove_NewestEntriesInReverse_LeavesTheRestFindableAndTheRemovedAbsent()
    {
        var ids = new UInt128[5_000];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = new UInt128(0, (ulong)i + 1); // sequential ids: long clusters after hashing are still possible
        }

        var index = new IdIndex(capacity: ids.Length, minValueBits: 4, withFlagBit: false);
        var source = new ArraySource(ids, index);
        index.Reserve(ids.Length, source, "test");
        for (int i = 0; i < ids.Length; i++)
        {
            index.Insert(IdHash.Hash(ids[i]), (uint)i);
        }

        for (int i = ids.Length - 1; i >= 4_000; i--)
        {
            index.Remove(IdHash.Hash(ids[i]), (uint)i, source);
        }

        Assert.Equal(4_000, index.Count);
        for (int j = 0; j < ids.Length; j++)
        {
            uint expected = j < 4_000 ? (uint)j : IdIndex.NotFound;
            Assert.Equal(expected, index.Find(IdHash.Hash(ids[j]), ids[j], source));
        }
    }

    // Decodes a value as the transfer table does: the flag bit, if any, is stripped to find the id's position.
    private readonly struct ArraySource(UInt128[] ids, IdIndex index) : IIdSource
    {
        public UInt128 IdAt(uint value) => ids[value & ~index.FlagBit];
    }
}
