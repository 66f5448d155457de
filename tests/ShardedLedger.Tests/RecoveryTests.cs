using Micropay.Core.Ledger;

namespace ShardedLedger.Tests;

/// <summary>Recovery against drivers that are not quite dead: one decision per payment, and no hold lands after an abort.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class RecoveryTests(ClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task DecideAsync_ConflictingDecisions_TheFirstStandsForBoth()
    {
        UInt128 block = Ids.Block();
        var payment = new Payment(block + 1, block + 2, block + 3, 5);
        await Cluster.Journal.RecordIntentsAsync(99, Guid.NewGuid(), [payment]);

        JournalRow[] first = await Cluster.Journal.DecideAsync([payment.Id], [JournalState.Aborting], [CreateTransferResult.ExceedsCredits]);
        JournalRow[] second = await Cluster.Journal.DecideAsync([payment.Id], [JournalState.Committing], [CreateTransferResult.Ok]);

        Assert.Equal(JournalState.Aborting, first[0].State);
        Assert.Equal(JournalState.Aborting, second[0].State);
        Assert.Equal(CreateTransferResult.ExceedsCredits, second[0].Reason);

        // The other tests audit the shared cluster's whole journal: leave this row finished, as a driver would.
        await Cluster.Journal.FinishAsync([payment.Id]);
    }

    [Fact]
    public async Task RecoverAsync_IntentWhoseHoldsNeverLanded_AbortsAndALateHoldCannotLand()
    {
        UInt128 block = Ids.Block();
        Books books = await Books.OpenAsync(Cluster, block, 4, 1_000, block);
        var payment = new Payment(block + 1_000, books.Customers[0], books.Customers[1], 600);
        int coordinator = Cluster.Map.ShardOf(payment.Payer);

        // A driver journaled the intent and died before placing any hold (another activation's id on the row).
        await Cluster.Journal.RecordIntentsAsync(coordinator, Guid.NewGuid(), [payment]);
        Assert.Equal(1, await Cluster.Client.RecoverAsync([coordinator]));
        Assert.Equal(JournalState.Aborted, (await Cluster.Journal.ReadAllAsync()).Single(r => r.Payment.Id == payment.Id).State);

        // The dead driver's hold arrives after all: it finds its id taken (placed and voided by the abort) and holds nothing.
        var lateHold = new Transfer
        {
            Id = ShardMap.TransferId(payment.Id, PaymentStep.PayerHold),
            DebitAccountId = payment.Payer,
            CreditAccountId = ShardMap.BridgeAccount(coordinator),
            Amount = payment.Amount,
            LedgerId = ShardMap.LedgerId,
            Code = TransferCodes.CrossShardHold,
            Flags = TransferFlags.Pending,
            UserData128 = payment.Id,
        };
        CreateTransferResult[] late = await Cluster.Cluster.GrainFactory.GetGrain<ILedgerShardGrain>(coordinator).CreateTransfersAsync(Records.Encode([lateHold]));

        Assert.Equal(CreateTransferResult.Exists, late[0]);
        Assert.Empty(await books.MismatchesAsync(Cluster));
        ConservationReport report = await Cluster.Client.AuditAsync(Cluster.Journal);
        Assert.True(report.Holds, report.ToString());
    }
}
