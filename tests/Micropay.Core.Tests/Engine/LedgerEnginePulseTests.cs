using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

public sealed class LedgerEnginePulseTests : EngineTestKit
{
    private const ulong Second = 1_000_000_000;

    [Fact]
    public async Task PulseAsync_AfterAHoldIsDue_ReleasesItAndReopenAgrees()
    {
        var clock = new ManualClock();
        Account[] live;
        await using (LedgerEngine engine = await OpenAsync(clock, pulses: false))
        {
            Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(new Transfer
            {
                Id = 10, DebitAccountId = 1, CreditAccountId = 2, Amount = 7, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = 1,
            }));
            Assert.True(engine.TryGetAccount(1, out Account held));
            Assert.Equal((UInt128)7, held.DebitsPending);

            clock.Nanoseconds += 2 * Second;
            ulong batch = await engine.PulseAsync();

            Assert.Equal(engine.ReleasedBatchNumber, batch);
            Assert.True(engine.TryGetAccount(1, out Account released));
            Assert.Equal(UInt128.Zero, released.DebitsPending);
            live = engine.ReadAllAccounts();
        }

        // The pulse is journaled (an empty batch), so replay releases the hold too.
        await using LedgerEngine reopened = await OpenAsync(clock, pulses: false);
        Assert.Equal(live, reopened.ReadAllAccounts());
        Assert.Equal(CreateTransferResult.PendingTransferExpired, await reopened.CreateTransferAsync(new Transfer
        {
            Id = 11, PendingId = 10, Amount = UInt128.MaxValue, Flags = TransferFlags.PostPendingTransfer,
        }));
    }

    [Fact]
    public async Task ClockPulses_IdleEngineWithAHoldDue_ReleasesItWithoutAnySubmission()
    {
        var clock = new ManualClock();
        await using LedgerEngine engine = await OpenAsync(clock, pulses: true);
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(new Transfer
        {
            Id = 10, DebitAccountId = 1, CreditAccountId = 2, Amount = 7, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = 1,
        }));

        clock.Nanoseconds += 2 * Second;

        // The idle loop wakes at least every 100 ms and sees the hold due.
        Account account = default;
        for (int i = 0; i < 200 && (!engine.TryGetAccount(1, out account) || account.DebitsPending != 0); i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(UInt128.Zero, account.DebitsPending);
    }

    private ValueTask<LedgerEngine> OpenAsync(ManualClock clock, bool pulses) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = new FileLedgerStore(Directory), TimeProvider = clock, ClockPulses = pulses });
}
