namespace ShardedLedger.Tests;

public sealed class ShardMapTests
{
    [Fact]
    public void ShardOf_CustomerAndSystemIds_FollowsTheDocumentedFunction()
    {
        var map = new ShardMap(4);
        Assert.Equal(3, map.ShardOf(7));
        Assert.Equal(0, map.ShardOf(8));
        Assert.Equal(2, map.ShardOf(ShardMap.BridgeAccount(2)));
        Assert.Equal(3, map.ShardOf(ShardMap.TreasuryAccount(3)));
    }

    [Fact]
    public void ShardOf_ZeroOrAnotherClustersSystemId_Throws()
    {
        var map = new ShardMap(2);
        Assert.Throws<ArgumentException>(() => map.ShardOf(0));
        Assert.Throws<ArgumentException>(() => map.ShardOf(ShardMap.BridgeAccount(5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardMap(0));
    }

    [Fact]
    public void TransferId_StepsOfOnePayment_AreDistinctAndOfNoOtherPayment()
    {
        UInt128[] ids = [.. Enumerable.Range(1, 3).SelectMany(p => Enum.GetValues<PaymentStep>().Select(s => ShardMap.TransferId((UInt128)p, s)))];
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }
}
