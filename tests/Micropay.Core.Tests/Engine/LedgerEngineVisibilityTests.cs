using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// Reads see a batch only once it is released: with the file store's fast path the publisher indexes a batch's
/// transfers while the device writes it, before the fsync, so the read side must keep them hidden until release.
/// </summary>
public sealed class LedgerEngineVisibilityTests : EngineTestKit
{
    [Fact]
    public async Task TryGetTransfer_WhileItsBatchIsBeingWritten_DoesNotSeeItBeforeItIsDurable()
    {
        const int Batches = 40;
        const int PerBatch = 2_000; // 256 KB per batch: the store's large-batch path, with the overlap before the fsync
        var store = new FileLedgerStore(Directory);
        var observations = new List<(UInt128 Id, ulong DurableWhenSeen)>();
        await using (LedgerEngine engine = await OpenEngineAsync(store))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Transfer[][] batches = new Transfer[Batches][];
            for (int b = 0; b < Batches; b++)
            {
                batches[b] = new Transfer[PerBatch];
                for (int i = 0; i < PerBatch; i++)
                {
                    batches[b][i] = Tr((UInt128)((b * PerBatch) + i + 1), 1, 2, 1);
                }
            }

            // The reader polls the first transfer of the next batch without pause; when it shows, it notes how far the
            // journal was durable right then, and moves on to the next batch.
            using var stop = new CancellationTokenSource();
            Task reader = Task.Factory.StartNew(
                () =>
                {
                    int next = 0;
                    while (next < Batches && !stop.IsCancellationRequested)
                    {
                        UInt128 id = batches[next][0].Id;
                        if (engine.TryGetTransfer(id, out _))
                        {
                            observations.Add((id, store.LastDurableBatchNumber));
                            next++;
                        }
                    }
                },
                TaskCreationOptions.LongRunning);

            var results = new CreateTransferResult[PerBatch];
            foreach (Transfer[] batch in batches)
            {
                Assert.Equal(0, await engine.CreateTransfersAsync(batch, results));
            }

            // Every batch is visible now; give the reader time to note the last ones (it stops by itself), but never
            // hang the suite if something is wrong.
            stop.CancelAfter(TimeSpan.FromSeconds(30));
            await reader;
        }

        Assert.Equal(Batches, observations.Count);
        Dictionary<UInt128, ulong> batchOf = await BatchOfEachTransferAsync();
        foreach ((UInt128 id, ulong durable) in observations)
        {
            Assert.True(batchOf[id] <= durable, $"transfer {id} of batch {batchOf[id]} was readable when only batch {durable} was durable");
        }
    }

    /// <summary>Reads the journal back: the batch each transfer was journaled in.</summary>
    private async Task<Dictionary<UInt128, ulong>> BatchOfEachTransferAsync()
    {
        var batchOf = new Dictionary<UInt128, ulong>();
        await using var store = new FileLedgerStore(Directory);
        await store.OpenAsync();
        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            if (batch.Header.Operation != BatchOperation.CreateTransfers)
            {
                continue;
            }

            var transfers = new Transfer[batch.Header.EventCount];
            Transfer.DecodeAll(batch.Events.Span, transfers);
            foreach (Transfer transfer in transfers)
            {
                batchOf[transfer.Id] = batch.BatchNumber;
            }
        }

        return batchOf;
    }
}
