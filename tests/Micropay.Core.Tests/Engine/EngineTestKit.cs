using System.Buffers.Binary;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Tests.Engine;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// A temporary store directory per test, and journal replay and invariant checks for engine tests. The record builders and
/// the conservation check are the shared ones (<see cref="Records"/>, <see cref="Conservation"/>).
/// </summary>
public abstract class EngineTestKit : TemporaryDirectoryTest
{
    /// <summary>
    /// The batches every new ledger starts with: the <c>SetInstanceId</c> batch (batch 1, one record) that
    /// <see cref="LedgerEngine.OpenAsync"/> journals, and waits for, when it opens a ledger without an instance id. The
    /// first batch a test submits to a new ledger is therefore batch <c>GenesisBatches + 1</c>.
    /// </summary>
    public const ulong GenesisBatches = 1;

    /// <summary>The size of a <c>SetInstanceId</c> record (the table in SetInstanceIdOperation.cs).</summary>
    public const int InstanceIdRecordSize = 128;

    protected EngineTestKit()
        : base("micropay-engine-")
    {
    }

    // Clock pulses are off unless a test asks for them: tests compare the engine with a replay of its journal or a
    // model at a known batch, and an idle engine pulsing a due hold (with the wall clock) would add a batch at a moment
    // the test does not control. LedgerEnginePulseTests covers the pulses themselves.
    protected ValueTask<LedgerEngine> OpenFileEngineAsync(
        DurabilityMode mode = DurabilityMode.Durable, int snapshotInterval = 0, int maxBatchSize = LedgerEngineOptions.DefaultMaxBatchSize, bool clockPulses = false) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(Directory),
            Durability = mode,
            SnapshotIntervalBatches = snapshotInterval,
            MaxBatchSize = maxBatchSize,
            ClockPulses = clockPulses,
        });

    protected static ValueTask<LedgerEngine> OpenInMemoryEngineAsync(int ingressCapacity = LedgerEngineOptions.DefaultIngressCapacity) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, IngressCapacity = ingressCapacity, ClockPulses = false });

    /// <summary>Opens a durable engine on the given store (the engine owns and disposes it).</summary>
    protected static ValueTask<LedgerEngine> OpenEngineAsync(ILedgerStore store, int ingressCapacity = LedgerEngineOptions.DefaultIngressCapacity) =>
        LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = store, Durability = DurabilityMode.Durable, IngressCapacity = ingressCapacity, ClockPulses = false });

    /// <summary>
    /// An account whose user data is derived from its id, so a reader can tell a whole row from a torn or misplaced
    /// one (<see cref="FirstBrokenRowInvariant"/>): the user data never changes, so any mix of two rows shows.
    /// </summary>
    public static Account MarkedAccount(UInt128 id, AccountFlags flags = AccountFlags.None) => new()
    {
        Id = id,
        LedgerId = 1,
        Code = 1,
        Flags = flags,
        UserData128 = id * 0x9E37_79B9_7F4A_7C15UL,
        UserData64 = ~(ulong)id,
        UserData32 = (uint)id ^ 0xA5A5_A5A5u,
    };

    /// <summary>
    /// What is wrong with one account read from the engine, or null: its user data must be the one
    /// <see cref="MarkedAccount"/> gave it, and it must satisfy its balance flags (the ledger's invariant, which a row
    /// mixing balances of two moments can break).
    /// </summary>
    public static string? FirstBrokenRowInvariant(in Account account)
    {
        Account expected = MarkedAccount(account.Id, account.Flags);
        if (account.UserData128 != expected.UserData128 || account.UserData64 != expected.UserData64 || account.UserData32 != expected.UserData32 ||
            account.LedgerId != 1 || account.Code != 1 || account.Timestamp == 0)
        {
            return $"torn or misplaced row: {account}";
        }

        return FirstViolatedFlag(account);
    }

    /// <summary>Which balance flag the account violates, or null (no limits are violated in a correct ledger).</summary>
    public static string? FirstViolatedFlag(in Account account)
    {
        // Summed in 129 bits: each balance fits in 128, their sum need not.
        if ((account.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 &&
            (System.Numerics.BigInteger)account.DebitsPending + account.DebitsPosted > account.CreditsPosted)
        {
            return $"debits exceed credits: {account}";
        }

        if ((account.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0 &&
            (System.Numerics.BigInteger)account.CreditsPending + account.CreditsPosted > account.DebitsPosted)
        {
            return $"credits exceed debits: {account}";
        }

        return null;
    }

    /// <summary>
    /// Decodes a transfer from its 128-byte journal record field by field, following the byte table in Transfer.cs
    /// (independently of the engine's codec, so the test also pins the journal format).
    /// </summary>
    public static Transfer DecodeTransfer(ReadOnlySpan<byte> record) => new()
    {
        Id = BinaryPrimitives.ReadUInt128LittleEndian(record),
        DebitAccountId = BinaryPrimitives.ReadUInt128LittleEndian(record[16..]),
        CreditAccountId = BinaryPrimitives.ReadUInt128LittleEndian(record[32..]),
        Amount = BinaryPrimitives.ReadUInt128LittleEndian(record[48..]),
        PendingId = BinaryPrimitives.ReadUInt128LittleEndian(record[64..]),
        UserData128 = BinaryPrimitives.ReadUInt128LittleEndian(record[80..]),
        UserData64 = BinaryPrimitives.ReadUInt64LittleEndian(record[96..]),
        UserData32 = BinaryPrimitives.ReadUInt32LittleEndian(record[104..]),
        Timeout = BinaryPrimitives.ReadUInt32LittleEndian(record[108..]),
        LedgerId = BinaryPrimitives.ReadUInt32LittleEndian(record[112..]),
        Code = BinaryPrimitives.ReadUInt16LittleEndian(record[116..]),
        Flags = (TransferFlags)BinaryPrimitives.ReadUInt16LittleEndian(record[118..]),
        Timestamp = BinaryPrimitives.ReadUInt64LittleEndian(record[120..]),
    };

    /// <summary>Decodes an account from its 128-byte journal record field by field (the byte table in Account.cs).</summary>
    public static Account DecodeAccount(ReadOnlySpan<byte> record) => new()
    {
        Id = BinaryPrimitives.ReadUInt128LittleEndian(record),
        DebitsPending = BinaryPrimitives.ReadUInt128LittleEndian(record[16..]),
        DebitsPosted = BinaryPrimitives.ReadUInt128LittleEndian(record[32..]),
        CreditsPending = BinaryPrimitives.ReadUInt128LittleEndian(record[48..]),
        CreditsPosted = BinaryPrimitives.ReadUInt128LittleEndian(record[64..]),
        UserData128 = BinaryPrimitives.ReadUInt128LittleEndian(record[80..]),
        UserData64 = BinaryPrimitives.ReadUInt64LittleEndian(record[96..]),
        UserData32 = BinaryPrimitives.ReadUInt32LittleEndian(record[104..]),
        Reserved = BinaryPrimitives.ReadUInt32LittleEndian(record[108..]),
        LedgerId = BinaryPrimitives.ReadUInt32LittleEndian(record[112..]),
        Code = BinaryPrimitives.ReadUInt16LittleEndian(record[116..]),
        Flags = (AccountFlags)BinaryPrimitives.ReadUInt16LittleEndian(record[118..]),
        Timestamp = BinaryPrimitives.ReadUInt64LittleEndian(record[120..]),
    };

    /// <summary>
    /// Decodes a <c>SetInstanceId</c> record field by field, following the byte table in SetInstanceIdOperation.cs
    /// (independently of the engine's codec): magic "MPIN", version 1 at offset 4, a zero reserved field at 6, the id at
    /// 8 to 23 (little-endian) and zeros from 24 to the end. Asserts every fixed field and returns the id.
    /// </summary>
    public static UInt128 DecodeInstanceIdRecord(ReadOnlySpan<byte> record)
    {
        Assert.Equal(InstanceIdRecordSize, record.Length);
        Assert.Equal("MPIN"u8.ToArray(), record[..4].ToArray());
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(record[4..]));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(record[6..]));
        int nonZero = record[24..].IndexOfAnyExcept((byte)0);
        Assert.True(nonZero < 0, $"byte {24 + nonZero} of the SetInstanceId record is not zero");
        return BinaryPrimitives.ReadUInt128LittleEndian(record[8..]);
    }

    /// <summary>
    /// Decodes the snapshot's "instance" section field by field, following the table in InstanceSnapshotSection.cs
    /// (independently of the engine's code): 24 bytes, version 1, a zero reserved field, then the id. Returns the id.
    /// </summary>
    public static UInt128 DecodeInstanceSection(ReadOnlySpan<byte> section)
    {
        Assert.Equal(24, section.Length);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(section));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(section[4..]));
        return BinaryPrimitives.ReadUInt128LittleEndian(section[8..]);
    }

    /// <summary>
    /// Writes, through the store API alone, a journal as engines wrote it before ledgers had instance ids: the given
    /// batches (each an <see cref="Account"/>[] or a <see cref="Transfer"/>[]) numbered from 1 and hash-chained, the
    /// i-th (from 0) stamped <c>firstTimestamp + i * 1000</c>, and no SetInstanceId batch. Returns the ledger those
    /// batches make when applied in order with those timestamps (what replay does).
    /// </summary>
    internal static async Task<LedgerStateMachine> WriteJournalWithoutInstanceIdAsync(string directory, ulong firstTimestamp, params object[] batches)
    {
        var ledger = new LedgerStateMachine();
        await using var store = new FileLedgerStore(directory);
        Assert.Equal(0UL, (await store.OpenAsync()).LastBatchNumber);
        BatchHash previous = BatchHash.Zero;
        for (int i = 0; i < batches.Length; i++)
        {
            ulong timestamp = firstTimestamp + ((ulong)i * 1000);
            BatchOperation operation;
            byte[] events;
            int count;
            switch (batches[i])
            {
                case Account[] accounts:
                    (operation, count, events) = (BatchOperation.CreateAccounts, accounts.Length, new byte[accounts.Length * Account.Size]);
                    Account.EncodeAll(accounts, events);
                    ledger.CreateAccounts(timestamp, accounts, new CreateAccountResult[count]);
                    break;
                case Transfer[] transfers:
                    (operation, count, events) = (BatchOperation.CreateTransfers, transfers.Length, new byte[transfers.Length * Transfer.Size]);
                    Transfer.EncodeAll(transfers, events);
                    ledger.CreateTransfers(timestamp, transfers, new CreateTransferResult[count]);
                    break;
                default:
                    throw new ArgumentException($"batch {i + 1} is neither accounts nor transfers", nameof(batches));
            }

            var batch = new CommitBatch(new CommitBatchHeader((ulong)i + 1, operation, timestamp, count, previous, BatchHash.Zero), events);
            await store.AppendAsync(batch);
            byte[] encoded = new byte[batch.EncodedLength];
            batch.Encode(encoded);
            previous = BatchHash.Compute(encoded);
        }

        return ledger;
    }

    /// <summary>
    /// Reads the whole journal in <paramref name="directory"/> (no engine may hold it) and applies it, one batch at a
    /// time with the timestamp in its header, to a fresh <see cref="LedgerStateMachine"/>: the sequential replay that the
    /// engine's state must equal. Keeps every batch's events and results.
    /// </summary>
    internal static async Task<JournalReplay> ReplayJournalAsync(string directory)
    {
        var ledger = new LedgerStateMachine();
        var batches = new List<ReplayedBatch>();
        await using var store = new FileLedgerStore(directory);
        LedgerStoreState state = await store.OpenAsync();
        if (state.LastBatchNumber == 0)
        {
            return new JournalReplay(ledger, batches, 0);
        }

        await foreach (CommitBatch batch in store.ReadBatchesAsync(1))
        {
            Assert.Equal((ulong)batches.Count + 1, batch.BatchNumber);
            CommitBatchHeader header = batch.Header;
            int count = header.EventCount;
            ReadOnlySpan<byte> events = batch.Events.Span;

            // Decoded and applied through the engine's own operation descriptions (what recovery does), not a copy of
            // their dispatch; the field-by-field decoders below then pin the journal's byte format independently.
            Assert.True(OperationRegistry.Default.TryFind(header.Operation, out Operation operation), $"batch {batch.BatchNumber}: unknown operation {header.Operation}");
            Assert.Equal(operation.EventSize, header.EventSize);
            OperationStaging staging = operation.CreateStaging(count);
            staging.Decode(events, count);
            staging.Apply(ledger, header.Timestamp, count);
            switch (staging)
            {
                case OperationStaging<Transfer, CreateTransferResult> applied:
                    Transfer[] transfers = applied.Events[..count];
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal(DecodeTransfer(events.Slice(i * Transfer.Size, Transfer.Size)), transfers[i]);
                    }

                    batches.Add(new ReplayedBatch(batch.BatchNumber, header.Timestamp, null, null, transfers, applied.Results[..count]));
                    break;
                case OperationStaging<Account, CreateAccountResult> applied:
                    Account[] accounts = applied.Events[..count];
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal(DecodeAccount(events.Slice(i * Account.Size, Account.Size)), accounts[i]);
                    }

                    batches.Add(new ReplayedBatch(batch.BatchNumber, header.Timestamp, accounts, applied.Results[..count], null, null));
                    break;
                case OperationStaging<InstanceIdRecord, InstanceIdResult> applied:
                    Assert.Equal(InstanceIdRecordSize, header.EventSize);
                    UInt128[] ids = [.. applied.Events[..count].Select(e => e.Id)];
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal(DecodeInstanceIdRecord(events.Slice(i * InstanceIdRecordSize, InstanceIdRecordSize)), ids[i]);
                    }

                    batches.Add(new ReplayedBatch(batch.BatchNumber, header.Timestamp, null, null, null, null, ids, applied.Results[..count]));
                    break;
                default:
                    Assert.Fail($"batch {batch.BatchNumber}: the replay has no typed record for {operation}");
                    break;
            }
        }

        Assert.Equal(state.LastBatchNumber, (ulong)batches.Count);
        return new JournalReplay(ledger, batches, state.LastBatchNumber);
    }

    /// <summary>
    /// Asserts that the engine has the replay's instance id, that its accounts equal the replay's, row by row, and that it
    /// holds each given transfer exactly as the replay does.
    /// </summary>
    public static void AssertSameState(LedgerStateMachine expected, LedgerEngine engine, IEnumerable<UInt128> transferIds)
    {
        Assert.Equal(expected.InstanceId, engine.InstanceId);
        Account[] actual = engine.ReadAllAccounts();
        Assert.Equal(expected.AccountCount, actual.Length);
        ReadOnlySpan<Account> rows = expected.Accounts;
        for (int i = 0; i < actual.Length; i++)
        {
            if (rows[i] != actual[i])
            {
                Assert.Fail($"account row {i} differs:\n  replay {rows[i]}\n  engine {actual[i]}");
            }
        }

        foreach (UInt128 id in transferIds)
        {
            bool inReplay = expected.TryGetTransfer(id, out Transfer replayed);
            bool inEngine = engine.TryGetTransfer(id, out Transfer held);
            Assert.True(inReplay == inEngine, $"transfer {id}: in the replay {inReplay}, in the engine {inEngine}");
            Assert.Equal(replayed, held);
        }
    }

    /// <summary>A journal applied sequentially: the resulting ledger and every batch with its results.</summary>
    internal sealed record JournalReplay(LedgerStateMachine Ledger, IReadOnlyList<ReplayedBatch> Batches, ulong LastBatchNumber);

    /// <summary>One journaled batch as the replay decoded and applied it: the events and results of its one operation.</summary>
    internal sealed record ReplayedBatch(
        ulong BatchNumber,
        ulong Timestamp,
        Account[]? Accounts,
        CreateAccountResult[]? AccountResults,
        Transfer[]? Transfers,
        CreateTransferResult[]? TransferResults,
        UInt128[]? InstanceIds = null,
        InstanceIdResult[]? InstanceIdResults = null);

    /// <summary>
    /// A clock the test sets: the engine stamps each batch with <see cref="TimeProvider.GetUtcNow"/>, so a test that
    /// sets it before each submission knows the exact timestamp the ledger was given.
    /// </summary>
    public sealed class ManualClock : TimeProvider
    {
        // Written by the test thread, read by the engine's apply thread.
        private long _utcTicks = DateTime.UnixEpoch.Ticks + TimeSpan.TicksPerDay;

        /// <summary>The clock as nanoseconds since the Unix epoch (the engine's batch timestamp); a multiple of 100.</summary>
        public ulong Nanoseconds
        {
            get => (ulong)(Volatile.Read(ref _utcTicks) - DateTime.UnixEpoch.Ticks) * 100;
            set => Volatile.Write(ref _utcTicks, DateTime.UnixEpoch.Ticks + (long)(value / 100));
        }

        public override DateTimeOffset GetUtcNow() => new(Volatile.Read(ref _utcTicks), TimeSpan.Zero);
    }
}
