using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Tests;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// What the engine does with the journal tail its store cut on open (<see cref="LedgerStoreState.DiscardedTail"/>):
/// exposes it as <see cref="LedgerEngine.DiscardedTailAtOpen"/> and logs a warning through the "Micropay.Core"
/// EventSource, since a damaged acknowledged record looks exactly like a torn write; and reports nothing when nothing was cut.
/// </summary>
public sealed class LedgerEngineDiscardedTailTests : EngineTestKit
{
    [Theory]
    [InlineData(7UL)]
    [InlineData(null)]
    public async Task OpenAsync_StoreCutATailFromTheJournal_DiscardedTailAtOpenReportsItAndAWarningIsLogged(ulong? batchNumber)
    {
        // A location no other test uses: the listener sees every engine's events in this process, tests run in parallel.
        var tail = new DiscardedJournalTail(
            "fake-journal-" + Guid.NewGuid().ToString("N"), Offset: 4096, Length: 1234, batchNumber, "the record's CRC-32C does not match");
        using var listener = new MicropayListener();

        var backing = new InMemoryLedgerStoreBacking();
        await using (LedgerEngine engine = await OpenEngineAsync(new TailReportingStore(new InMemoryLedgerStore(backing), tail)))
        {
            Assert.Same(tail, engine.DiscardedTailAtOpen);

            // The report changes nothing else: the engine runs as usual.
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
        }

        EventWrittenEventArgs logged = Assert.Single(listener.Events, e => e.Payload is { Count: > 0 } payload && Equals(payload[0], tail.Location));
        Assert.Equal("JournalTailDiscarded", logged.EventName);
        Assert.Equal(1, logged.EventId);
        Assert.Equal(EventLevel.Warning, logged.Level);
        Assert.Equal(["location", "offset", "length", "batchNumber", "reason"], logged.PayloadNames!);
        Assert.Equal<object?>([tail.Location, 4096L, 1234L, batchNumber ?? 0UL, tail.Reason], logged.Payload!);

        // A later open whose store cut nothing reports nothing.
        await using LedgerEngine reopened = await OpenEngineAsync(new InMemoryLedgerStore(backing));
        Assert.Null(reopened.DiscardedTailAtOpen);
        Assert.Single(reopened.ReadAllAccounts());
    }

    [Fact]
    public async Task OpenAsync_StoreCutNothing_DiscardedTailAtOpenIsNull()
    {
        await using (LedgerEngine file = await OpenFileEngineAsync())
        {
            Assert.Null(file.DiscardedTailAtOpen);
            Assert.Equal(CreateAccountResult.Ok, await file.CreateAccountAsync(Acct(1)));
        }

        // Reopened after a clean shutdown: the journal ends on a whole record.
        await using (LedgerEngine file = await OpenFileEngineAsync())
        {
            Assert.Null(file.DiscardedTailAtOpen);
        }

        await using LedgerEngine inMemory = await OpenInMemoryEngineAsync();
        Assert.Null(inMemory.DiscardedTailAtOpen);
    }

    /// <summary>Collects the "Micropay.Core" EventSource's events (warnings and worse).</summary>
    private sealed class MicropayListener : EventListener
    {
        // Initialised before the base constructor, which may already call OnEventSourceCreated for existing sources.
        private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

        public IEnumerable<EventWrittenEventArgs> Events => _events;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Micropay.Core")
            {
                EnableEvents(eventSource, EventLevel.Warning);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData) => _events.Enqueue(eventData);
    }

    /// <summary>A store that reports, on open, that its recovery cut <paramref name="tail"/> (otherwise the inner store's behaviour).</summary>
    private sealed class TailReportingStore(ILedgerStore inner, DiscardedJournalTail tail) : ForwardingLedgerStore(inner)
    {
        public override async ValueTask<LedgerStoreState> OpenAsync(CancellationToken cancellationToken = default) =>
            await Inner.OpenAsync(cancellationToken) with { DiscardedTail = tail };
    }
}
