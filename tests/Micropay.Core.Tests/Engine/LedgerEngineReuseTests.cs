using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// Callers reuse their memory (and the engine its pooled submissions) the moment a call completes: nothing the engine
/// still needs may be read from either after that point.
/// </summary>
public sealed class LedgerEngineReuseTests : EngineTestKit
{
    [Theory]
    [InlineData(DurabilityMode.Buffered)]
    [InlineData(DurabilityMode.Durable)]
    public async Task CreateTransfersAsync_CallerOverwritesItsArrayOnCompletion_JournalHoldsWhatWasSubmitted(DurabilityMode mode)
    {
        const int Batches = 40;
        const int Size = 300; // above the size applied straight from the caller's memory
        await using (LedgerEngine engine = await OpenFileEngineAsync(mode))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            var transfers = new Transfer[Size];
            var results = new CreateTransferResult[Size];
            for (int b = 0; b < Batches; b++)
            {
                for (int i = 0; i < Size; i++)
                {
                    transfers[i] = Tr((UInt128)(1_000_000 + (b * Size) + i), 1, 2, 1);
                }

                Assert.Equal(0, await engine.CreateTransfersAsync(transfers, results));

                // What a caller may do once its call completed: reuse the array for something else.
                for (int i = 0; i < Size; i++)
                {
                    transfers[i] = Tr((UInt128)(9_000_000 + i), 2, 1, 5);
                }
            }
        }

        await using LedgerEngine reopened = await OpenFileEngineAsync();
        for (int n = 0; n < Batches * Size; n++)
        {
            Assert.True(reopened.TryGetTransfer((UInt128)(1_000_000 + n), out _), $"submitted transfer {1_000_000 + n} is missing after reopen");
        }

        Assert.False(reopened.TryGetTransfer(9_000_000, out _), "the journal holds what the caller wrote after completion");
        Assert.True(reopened.TryGetAccount(2, out Account credit));
        Assert.Equal((UInt128)(Batches * Size), credit.CreditsPosted);
    }

    [Fact]
    public async Task TakeSnapshotAsync_InterleavedWithSubmissionsFromSeveralCallers_EveryCallCompletesOnce()
    {
        await using LedgerEngine engine = await OpenFileEngineAsync();
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        int next = 0;
        async Task Caller()
        {
            var transfers = new Transfer[4];
            var results = new CreateTransferResult[4];
            for (int round = 0; round < 25; round++)
            {
                for (int i = 0; i < transfers.Length; i++)
                {
                    transfers[i] = Tr((UInt128)(100 + Interlocked.Increment(ref next)), 1, 2, 1);
                }

                Assert.Equal(0, await engine.CreateTransfersAsync(transfers, results));
                Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + Interlocked.Increment(ref next)), 1, 2, 1)));
                Assert.True(await engine.TakeSnapshotAsync() > 0);
            }
        }

        await Task.WhenAll(Task.Run(Caller), Task.Run(Caller), Task.Run(Caller));

        Assert.True(engine.TryGetAccount(2, out Account credit));
        Assert.Equal((UInt128)next, credit.CreditsPosted);
    }
}
