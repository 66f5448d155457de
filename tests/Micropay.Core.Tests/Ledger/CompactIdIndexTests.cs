using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

/// <summary>
/// The account index's 4-byte slots split row and fingerprint bits by table size. A small minimum row width makes
/// that boundary move on every growth here, which the ledger's own tests would need millions of accounts to reach.
/// </summary>
public sealed class CompactIdIndexTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(24)]
    public void ReserveAndInsert_GrowingAcrossLayoutChanges_FindsEveryIdWithItsRow(int minValueBits)
    {
        var ids = new UInt128[40_000];
        var random = new Random(7);
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64());
        }

        var index = new CompactIdIndex(capacity: 0, minValueBits);
        var source = new ArraySource(ids);
        for (int i = 0; i < ids.Length; i++)
        {
            index.Reserve(1, source, "test");
            ulong hash = IdHash.Hash(ids[i]);
            Assert.Equal(CompactIdIndex.NotFound, index.Find(hash, ids[i], source));
            index.Insert(hash, (uint)i);
            if ((i & (i + 1)) == 0)
            {
                // After each power of two (around every growth), every id so far must still be found.
                for (int j = 0; j <= i; j++)
                {
                    Assert.Equal((uint)j, index.Find(IdHash.Hash(ids[j]), ids[j], source));
                }
            }
        }

        for (int j = 0; j < ids.Length; j++)
        {
            Assert.Equal((uint)j, index.Find(IdHash.Hash(ids[j]), ids[j], source));
        }

        Assert.Equal(CompactIdIndex.NotFound, index.Find(IdHash.Hash(12345), 12345, source));
    }

    [Fact]
    public void Remove_NewestEntriesInReverse_LeavesTheRestFindableAndTheRemovedAbsent()
    {
        var ids = new UInt128[5_000];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = new UInt128(0, (ulong)i + 1); // sequential ids: long clusters after hashing are still possible
        }

        var index = new CompactIdIndex(capacity: ids.Length, minValueBits: 4);
        var source = new ArraySource(ids);
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
            uint expected = j < 4_000 ? (uint)j : CompactIdIndex.NotFound;
            Assert.Equal(expected, index.Find(IdHash.Hash(ids[j]), ids[j], source));
        }
    }

    private readonly struct ArraySource(UInt128[] ids) : IIdSource
    {
        public UInt128 IdAt(uint value) => ids[value];
    }
}
