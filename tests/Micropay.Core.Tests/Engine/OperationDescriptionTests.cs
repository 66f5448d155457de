using System.Buffers.Binary;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Engine;

/// <summary>
/// The engine's open operation set: a kind added by a description alone (here a test-only "note" kind with 24-byte
/// events, so event sizes other than 128 are exercised end to end) is submitted, batched, journaled, released and
/// replayed like accounts and transfers; a journal holding a kind this build does not know, or a known kind at a size
/// it does not encode, fails to open with a message naming it, and is never decoded as something else.
/// </summary>
/// <remarks>
/// What the note kind needed, which is the claim of the design: its description (<see cref="NoteOperation"/>), its
/// state (<see cref="NoteBook"/>, standing in for the state machine's) and a registry that lists it. Nothing in the
/// engine, the stores or the header. The test registries extend <see cref="OperationRegistry.Default"/> at its end, as
/// its documentation asks (an operation keeps its index in every registry): the engine needs SetInstanceId to give a
/// new ledger its genesis batch.
/// </remarks>
public sealed class OperationDescriptionTests : EngineTestKit
{
    /// <summary>A code no real operation uses.</summary>
    private const BatchOperation NoteCode = (BatchOperation)0x7FF0;

    [Fact]
    public async Task TestOnlyKind_SubmittedAlongsideTransfers_IsJournaledAndReplayedInOrder()
    {
        var notes = new NoteOperation(NoteCode, eventSize: 24);
        await using (LedgerEngine engine = await OpenAsync(WithNotes(notes)))
        {
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(2)));

            // Singles of both kinds at once: the apply loop batches each kind apart (a batch holds one operation).
            var pending = new List<Task>();
            for (int i = 1; i <= 200; i++)
            {
                pending.Add(engine.SubmitOne(notes, new Note((UInt128)i, (ulong)i * 10), default).AsTask());
                pending.Add(engine.CreateTransferAsync(Tr((UInt128)i, 1, 2, 1)).AsTask());
            }

            await Task.WhenAll(pending);

            // A batch with a duplicate inside it and one of an earlier single: results come back per event.
            var batch = new Note[] { new(1000, 1), new(1001, 2), new(1000, 3), new(5, 4) };
            var results = new NoteResult[batch.Length];
            Assert.Equal(2, await engine.SubmitMany(notes, batch, results, "events", default));
            Assert.Equal([NoteResult.Ok, NoteResult.Ok, NoteResult.Duplicate, NoteResult.Duplicate], results);
            Assert.Equal(NoteResult.Duplicate, await engine.SubmitOne(notes, new Note(7, 0), default));
        }

        Assert.Equal(202, notes.Book.Entries.Count);
        var replayed = new NoteOperation(NoteCode, eventSize: 24);
        await using (LedgerEngine reopened = await OpenAsync(WithNotes(replayed)))
        {
            // The replay rebuilt the notes from the journal: same ids, values and batch timestamps, in the same order.
            Assert.Equal(notes.Book.Entries, replayed.Book.Entries);
            Assert.True(reopened.TryGetAccount(2, out Account credited));
            Assert.Equal((UInt128)200, credited.CreditsPosted);
        }
    }

    [Fact]
    public async Task OpenAsync_JournalHoldsAKindThisBuildDoesNotKnow_RefusesNamingTheCodeAndTheKnownKinds()
    {
        var notes = new NoteOperation(NoteCode, eventSize: 24);
        ulong noteBatch;
        await using (LedgerEngine engine = await OpenAsync(WithNotes(notes)))
        {
            Assert.Equal(CreateAccountResult.Ok, await engine.CreateAccountAsync(Acct(1)));
            Assert.Equal(NoteResult.Ok, await engine.SubmitOne(notes, new Note(1, 1), default));
            noteBatch = engine.ReleasedBatchNumber;
        }

        var error = await Assert.ThrowsAsync<LedgerEngineException>(async () => await OpenAsync(OperationRegistry.Default));
        Assert.Equal(GenesisBatches + 2, noteBatch);
        Assert.Contains($"Batch {noteBatch} of the journal holds operation code 32752", error.Message);
        Assert.Contains(
            "(it knows CreateAccounts (code 1), CreateTransfers (code 2), SetInstanceId (code 3), OpenChannels (code 4), TopUpChannels (code 5), " +
            "RedeemVouchers (code 6), RedeemTicks (code 7), CloseChannels (code 8), ManageKeys (code 9), ExecuteOrders (code 10), " +
            "ExecuteCoSignedOrders (code 11), OpenCoSignedChannels (code 12))",
            error.Message);
    }

    [Fact]
    public async Task OpenAsync_JournalHoldsAKnownKindAtAnotherEventSize_RefusesNamingBothSizes()
    {
        var notes = new NoteOperation(NoteCode, eventSize: 24);
        await using (LedgerEngine engine = await OpenAsync(WithNotes(notes)))
        {
            Assert.Equal(NoteResult.Ok, await engine.SubmitOne(notes, new Note(1, 1), default));
        }

        var wider = new NoteOperation(NoteCode, eventSize: 32);
        var error = await Assert.ThrowsAsync<LedgerEngineException>(async () => await OpenAsync(WithNotes(wider)));
        Assert.Contains("events of 24 bytes", error.Message);
        Assert.Contains("encodes them in 32 bytes", error.Message);
    }

    [Fact]
    public async Task SubmitOne_OperationNotInTheEnginesRegistry_ThrowsArgumentException()
    {
        await using LedgerEngine engine = await OpenAsync(OperationRegistry.Default);
        var stranger = new NoteOperation(NoteCode, eventSize: 24);
        new OperationRegistry(stranger); // gives it index 0, where the engine has CreateAccounts
        var error = Assert.Throws<ArgumentException>(() => engine.SubmitOne(stranger, new Note(1, 1), default));
        Assert.Contains("is not one of this engine's operations", error.Message);
    }

    [Fact]
    public void Registry_TwoOperationsShareACode_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new OperationRegistry(OperationRegistry.CreateAccounts, OperationRegistry.CreateTransfers, new NoteOperation(BatchOperation.CreateTransfers, 24)));
        Assert.Contains("share an operation code", error.Message);
    }

    /// <summary>This build's operations (<see cref="OperationRegistry.Default"/>, in its order) and the test kind at the end.</summary>
    private static OperationRegistry WithNotes(NoteOperation notes) =>
        new([.. OperationRegistry.Default.All, notes]);

    private ValueTask<LedgerEngine> OpenAsync(OperationRegistry registry) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory),
            Durability = DurabilityMode.Durable,
            ClockPulses = false,
            Operations = registry,
        });

    /// <summary>The test kind's event: an id and a value.</summary>
    private readonly record struct Note(UInt128 Id, ulong Value);

    private enum NoteResult : uint
    {
        Ok = 0,
        Duplicate = 1,
    }

    /// <summary>The test kind's state: every note applied, with the batch timestamp it was applied at.</summary>
    private sealed class NoteBook
    {
        private readonly HashSet<UInt128> _ids = [];

        public List<(UInt128 Id, ulong Value, ulong Timestamp)> Entries { get; } = [];

        public NoteResult Apply(in Note note, ulong timestamp)
        {
            if (!_ids.Add(note.Id))
            {
                return NoteResult.Duplicate;
            }

            Entries.Add((note.Id, note.Value, timestamp));
            return NoteResult.Ok;
        }
    }

    /// <summary>The whole description of the test kind: code, size, apply, codec.</summary>
    private sealed class NoteOperation(BatchOperation code, int eventSize) : Operation<Note, NoteResult>(code, "Note", eventSize)
    {
        public NoteBook Book { get; } = new();

        public override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<Note> events, Span<NoteResult> results)
        {
            int failed = 0;
            for (int i = 0; i < events.Length; i++)
            {
                results[i] = Book.Apply(events[i], timestamp);
                failed += results[i] == NoteResult.Ok ? 0 : 1;
            }

            return failed;
        }

        public override void Encode(ReadOnlySpan<Note> events, Span<byte> destination)
        {
            destination.Clear();
            for (int i = 0; i < events.Length; i++)
            {
                Span<byte> record = destination.Slice(i * EventSize, EventSize);
                BinaryPrimitives.WriteUInt128LittleEndian(record, events[i].Id);
                BinaryPrimitives.WriteUInt64LittleEndian(record[16..], events[i].Value);
            }
        }

        public override void Decode(ReadOnlySpan<byte> source, Span<Note> events)
        {
            for (int i = 0; i < events.Length; i++)
            {
                ReadOnlySpan<byte> record = source.Slice(i * EventSize, EventSize);
                events[i] = new Note(BinaryPrimitives.ReadUInt128LittleEndian(record), BinaryPrimitives.ReadUInt64LittleEndian(record[16..]));
            }
        }

        public override bool IsLinked(in Note e) => false;

        public override long ToOutcome(NoteResult result) => (long)result;

        public override NoteResult FromOutcome(long outcome) => (NoteResult)outcome;
    }
}
