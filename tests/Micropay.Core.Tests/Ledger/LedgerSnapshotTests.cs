using System.Buffers;
using System.Buffers.Binary;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// <see cref="LedgerStateMachine.WriteSnapshot"/> and <see cref="LedgerStateMachine.ReadSnapshot"/>: the header's byte layout, a restored
/// ledger equal to the original in everything it answers and in how it goes on, and every kind of malformed input
/// refused with a <see cref="LedgerSnapshotException"/> naming the problem and its offset.
/// </summary>
public sealed class LedgerSnapshotTests
{
    private const ulong Second = 1_000_000_000;
    private const int HeaderSize = 32;

    // The sample ledger's contents, so tests can compute offsets: 4 accounts, 9 transfers, 2 burnt ids.
    private const int Accounts = 4;
    private const int Transfers = 9;
    private const int Burnt = 2;
    private const int TransfersOffset = HeaderSize + (Accounts * 128);
    private const int StatusesOffset = TransfersOffset + (Transfers * 128);
    private const int BurntOffset = StatusesOffset + Transfers;
    private const int End = BurntOffset + (Burnt * 16);

    private static readonly UInt128 BurntMissingAccount = 900;
    private static readonly UInt128 BurntExceedsCredits = 901;

    /// <summary>
    /// A ledger with every kind of state: accounts with flags, a closed account, single-phase transfers, holds that are
    /// open (with and without a timeout), posted, voided and expired, and two burnt ids.
    /// </summary>
    private static Ledger SampleLedger()
    {
        var ledger = new LedgerStateMachine();
        Assert.Equal(0, ledger.CreateAccounts(10, [
            new Account { Id = 1, LedgerId = 1, Code = 1, UserData128 = 11, UserData64 = 12, UserData32 = 13 },
            new Account { Id = 2, LedgerId = 1, Code = 2 },
            new Account { Id = 3, LedgerId = 1, Code = 1, Flags = AccountFlags.DebitsMustNotExceedCredits },
            new Account { Id = 4, LedgerId = 1, Code = 1, Flags = AccountFlags.Closed },
        ], new CreateAccountResult[4]));
        Assert.Equal(0, ledger.CreateTransfers(20, [
            new Transfer { Id = 100, DebitAccountId = 1, CreditAccountId = 2, Amount = 500, LedgerId = 1, Code = 1, UserData64 = 7 },
            new Transfer { Id = 101, DebitAccountId = 1, CreditAccountId = 3, Amount = 50, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = 5 },
            new Transfer { Id = 102, DebitAccountId = 2, CreditAccountId = 1, Amount = 40, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending },
            new Transfer { Id = 103, DebitAccountId = 1, CreditAccountId = 2, Amount = 30, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending },
            new Transfer { Id = 104, DebitAccountId = 1, CreditAccountId = 2, Amount = 20, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = 1 },
            new Transfer { Id = 105, DebitAccountId = 2, CreditAccountId = 3, Amount = 10, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = 100 },
        ], new CreateTransferResult[6]));
        Assert.Equal(0, ledger.CreateTransfers(30, [
            new Transfer { Id = 106, PendingId = 102, Amount = UInt128.MaxValue, Flags = TransferFlags.PostPendingTransfer },
            new Transfer { Id = 107, PendingId = 103, Flags = TransferFlags.VoidPendingTransfer },
        ], new CreateTransferResult[2]));

        // Hold 104 (1 s) expires at this batch; 101 (5 s) and 105 (100 s) stay open.
        var results = new CreateTransferResult[3];
        ledger.CreateTransfers(2 * Second, [
            new Transfer { Id = BurntMissingAccount, DebitAccountId = 1, CreditAccountId = 77, Amount = 1, LedgerId = 1, Code = 1 },
            new Transfer { Id = 108, DebitAccountId = 2, CreditAccountId = 1, Amount = 5, LedgerId = 1, Code = 1 },
            new Transfer { Id = BurntExceedsCredits, DebitAccountId = 3, CreditAccountId = 1, Amount = 1_000_000, LedgerId = 1, Code = 1 },
        ], results);
        Assert.Equal([CreateTransferResult.CreditAccountNotFound, CreateTransferResult.Ok, CreateTransferResult.ExceedsCredits], results);
        Assert.Equal(Transfers, ledger.TransferCount);
        return ledger;
    }

    private static readonly UInt128[] SampleTransferIds = [100, 101, 102, 103, 104, 105, 106, 107, 108, BurntMissingAccount, BurntExceedsCredits];

    private static byte[] Snapshot(LedgerStateMachine ledger)
    {
        byte[] bytes = new byte[ledger.SnapshotSize];
        ledger.WriteSnapshot(bytes);
        return bytes;
    }

    [Fact]
    public void WriteSnapshot_EmptyLedger_WritesOnlyTheHeader()
    {
        var ledger = new LedgerStateMachine();

        byte[] bytes = Snapshot(ledger);

        Assert.Equal(HeaderSize, ledger.SnapshotSize);
        Assert.Equal(Convert.FromHexString("4D504C53" + "01000000" + "0000000000000000" + "00000000" + "00000000" + "00000000" + "00000000"), bytes);
    }

    [Fact]
    public void ReadSnapshot_EmptyLedger_RoundTripsToAnEmptyLedgerThatWorks()
    {
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(new LedgerStateMachine()));

        Assert.Equal(0, restored.AccountCount);
        Assert.Equal(0, restored.TransferCount);
        Assert.Equal(0UL, restored.LastTimestamp);
        Assert.Equal(CreateAccountResult.Ok, restored.CreateAccount(5, new Account { Id = 1, LedgerId = 1, Code = 1 }));
        Assert.Equal(5UL, restored.LastTimestamp);
    }

    [Fact]
    public void WriteSnapshot_SampleLedger_WritesTheHeaderAndSectionsAtTheDocumentedOffsets()
    {
        LedgerStateMachine ledger = SampleLedger();

        byte[] bytes = Snapshot(ledger);

        Assert.Equal(End, bytes.Length);
        Assert.Equal("MPLS"u8.ToArray(), bytes[0..4]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(ledger.LastTimestamp, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal((uint)Accounts, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal((uint)Transfers, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal((uint)Burnt, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)));

        for (int i = 0; i < Accounts; i++)
        {
            Assert.True(Account.TryParse(bytes.AsSpan(HeaderSize + (i * 128)), out Account account));
            Assert.Equal(ledger.Accounts[i], account);
        }

        for (int i = 0; i < Transfers; i++)
        {
            Assert.True(Transfer.TryParse(bytes.AsSpan(TransfersOffset + (i * 128)), out Transfer transfer));
            Assert.True(ledger.TryGetTransfer(transfer.Id, out Transfer stored));
            Assert.Equal(stored, transfer);
            Assert.True(ledger.TryGetPendingStatus(transfer.Id, out PendingStatus status));
            Assert.Equal((byte)status, bytes[StatusesOffset + i]);
        }

        // Transfers in the order applied, statuses beside them: None, Pending, Posted, Voided, Expired, Pending, None, None, None.
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 1, 0, 0, 0 }, bytes[StatusesOffset..BurntOffset]);
        Assert.Equal(BurntMissingAccount, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(BurntOffset)));
        Assert.Equal(BurntExceedsCredits, BinaryPrimitives.ReadUInt128LittleEndian(bytes.AsSpan(BurntOffset + 16)));
    }

    [Fact]
    public void ReadSnapshot_SampleLedger_RestoresAccountsTransfersStatusesBurntIdsAndClock()
    {
        LedgerStateMachine original = SampleLedger();

        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(original));

        Assert.Equal(original.LastTimestamp, restored.LastTimestamp);
        Assert.Equal(original.Accounts.ToArray(), restored.Accounts.ToArray());
        Assert.Equal(original.TransferCount, restored.TransferCount);
        Assert.Equal(original.BurntIdCount, restored.BurntIdCount);
        foreach (UInt128 id in SampleTransferIds)
        {
            Assert.Equal(original.TryGetTransfer(id, out Transfer a), restored.TryGetTransfer(id, out Transfer b));
            Assert.Equal(a, b);
            Assert.Equal(original.TryGetPendingStatus(id, out PendingStatus s), restored.TryGetPendingStatus(id, out PendingStatus t));
            Assert.Equal(s, t);
        }

        Assert.Equal(Snapshot(original), Snapshot(restored));
    }

    [Fact]
    public void ReadSnapshot_BurntIds_StayBurntInTheRestoredLedger()
    {
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(SampleLedger()));

        var retry = new Transfer { Id = BurntMissingAccount, DebitAccountId = 1, CreditAccountId = 2, Amount = 1, LedgerId = 1, Code = 1 };
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, restored.CreateTransfer(0, retry));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, restored.CreateTransfer(0, retry with { Id = BurntExceedsCredits }));
    }

    [Fact]
    public void ReadSnapshot_OpenHoldsWithTimeouts_ExpireInTheRestoredLedgerExactlyAsInTheOriginal()
    {
        LedgerStateMachine original = SampleLedger();
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(original));

        // Hold 101 (5 s from its timestamp, 21) expires at this pulse, hold 105 (100 s) does not; one nanosecond
        // earlier neither would.
        foreach (LedgerStateMachine ledger in new[] { original, restored })
        {
            Assert.Equal(0, ledger.CreateTransfers(20 + (5 * Second), [], []));
            Assert.True(ledger.TryGetPendingStatus(101, out PendingStatus notYet));
            Assert.Equal(PendingStatus.Pending, notYet);
            Assert.Equal(0, ledger.CreateTransfers(21 + (5 * Second), [], []));
            Assert.True(ledger.TryGetPendingStatus(101, out PendingStatus expired));
            Assert.Equal(PendingStatus.Expired, expired);
            Assert.True(ledger.TryGetPendingStatus(105, out PendingStatus open));
            Assert.Equal(PendingStatus.Pending, open);
        }

        Assert.Equal(Snapshot(original), Snapshot(restored));
    }

    [Fact]
    public void ReadSnapshot_OldHolds_CanBePostedAndVoidedInTheRestoredLedger()
    {
        LedgerStateMachine original = SampleLedger();
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(original));
        Transfer[] batch =
        [
            new Transfer { Id = 200, PendingId = 101, Amount = 20, Flags = TransferFlags.PostPendingTransfer },
            new Transfer { Id = 201, PendingId = 105, Flags = TransferFlags.VoidPendingTransfer },
            new Transfer { Id = 202, PendingId = 102, Flags = TransferFlags.VoidPendingTransfer },
            new Transfer { Id = 100, DebitAccountId = 1, CreditAccountId = 2, Amount = 500, LedgerId = 1, Code = 1, UserData64 = 7 },
        ];

        var expected = new CreateTransferResult[batch.Length];
        var actual = new CreateTransferResult[batch.Length];
        original.CreateTransfers(Second * 3, batch, expected);
        restored.CreateTransfers(Second * 3, batch, actual);

        Assert.Equal(
            [CreateTransferResult.Ok, CreateTransferResult.Ok, CreateTransferResult.PendingTransferAlreadyPosted, CreateTransferResult.Exists],
            expected);
        Assert.Equal(expected, actual);
        Assert.Equal(Snapshot(original), Snapshot(restored));
    }

    /// <summary>
    /// A snapshot written by the ledger before it followed TigerBeetle's rules for posts and voids (commit e8cdada): three
    /// accounts; holds 10 and 11 of user data 7/8/9; post 12 of hold 11, stored with zero user data as that version did;
    /// burnt id 13 (credit account not found); hold 14 (5, timeout 10 s, created at 1004); transfer 15; clock 1005.
    /// </summary>
    private static readonly byte[] SnapshotBeforeTheTigerBeetlePostRules = Convert.FromHexString(
        "4D504C5301000000ED0300000000000003000000050000000100000000000000010000000000000000000000000000006400000000000000" +
        "0000000000000000320000000000000000000000000000000000000000000000000000000000000014000000000000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000000000000010000000100000001000000000000000200000000000000" +
        "0000000000000000050000000000000000000000000000000000000000000000000000000000000064000000000000000000000000000000" +
        "3200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000100000001000000" +
        "0200000000000000030000000000000000000000000000000000000000000000000000000000000014000000000000000000000000000000" +
        "0500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000010000000100000003000000000000000A00000000000000000000000000000001000000000000000000000000000000" +
        "0200000000000000000000000000000064000000000000000000000000000000000000000000000000000000000000000700000000000000" +
        "0000000000000000080000000000000009000000000000000100000001000200E8030000000000000B000000000000000000000000000000" +
        "0100000000000000000000000000000002000000000000000000000000000000320000000000000000000000000000000000000000000000" +
        "000000000000000007000000000000000000000000000000080000000000000009000000000000000100000001000200E903000000000000" +
        "0C00000000000000000000000000000001000000000000000000000000000000020000000000000000000000000000003200000000000000" +
        "00000000000000000B0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0100000001000400EA030000000000000E000000000000000000000000000000020000000000000000000000000000000300000000000000" +
        "0000000000000000050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "0000000000000000000000000A0000000100000001000200EC030000000000000F0000000000000000000000000000000300000000000000" +
        "0000000000000000010000000000000000000000000000001400000000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000000000000000000000000000000100000001000000ED0300000000000001020001000D0000" +
        "00000000000000000000000000");

    [Fact]
    public void ReadSnapshot_WrittenBeforeTheTigerBeetlePostRules_LoadsAndAppliesTheCurrentRules()
    {
        // The format did not change with the semantics: the old bytes load and snapshot back identically.
        LedgerStateMachine ledger = LedgerStateMachine.ReadSnapshot(SnapshotBeforeTheTigerBeetlePostRules, 0, 0);
        Assert.Equal(SnapshotBeforeTheTigerBeetlePostRules, Snapshot(ledger));
        Assert.Equal((3, 5, 1, 1005UL), (ledger.AccountCount, ledger.TransferCount, ledger.BurntIdCount, ledger.LastTimestamp));

        var results = new CreateTransferResult[5];
        ledger.CreateTransfers(0, [
            new Transfer { Id = 20, PendingId = 10, Amount = 30, Flags = TransferFlags.PostPendingTransfer },
            new Transfer { Id = 12, PendingId = 11, Amount = UInt128.MaxValue, Flags = TransferFlags.PostPendingTransfer },
            new Transfer { Id = 13, DebitAccountId = 1, CreditAccountId = 3, Amount = 1, LedgerId = 1, Code = 1 },
            new Transfer { Id = 15, DebitAccountId = 3, CreditAccountId = 1, Amount = 20, LedgerId = 1, Code = 1 },
            new Transfer { Id = 21, PendingId = 14, Flags = TransferFlags.VoidPendingTransfer },
        ], results);

        // A new post of an old hold takes the hold's user data. The retry of the old post, which left its user data zero
        // and was stored so, no longer matches: zero now stands for the hold's 7/8/9 (see ARCHITECTURE section 5).
        Assert.Equal(
            [CreateTransferResult.Ok, CreateTransferResult.ExistsWithDifferentUserData128, CreateTransferResult.IdAlreadyFailed, CreateTransferResult.Exists, CreateTransferResult.Ok],
            results);
        Assert.True(ledger.TryGetTransfer(20, out Transfer post));
        Assert.Equal(((UInt128)7, 8UL, 9U), (post.UserData128, post.UserData64, post.UserData32));
        Assert.True(ledger.TryGetPendingStatus(14, out PendingStatus status));
        Assert.Equal(PendingStatus.Voided, status);
    }

    [Fact]
    public void ReadSnapshot_CapacityHints_GiveALedgerThatGrowsBeyondTheSnapshot()
    {
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(SampleLedger()), accountCapacity: 1000, transferCapacity: 5000);

        var accounts = Enumerable.Range(1000, 500).Select(i => new Account { Id = (UInt128)i, LedgerId = 1, Code = 1 }).ToArray();
        Assert.Equal(0, restored.CreateAccounts(0, accounts, new CreateAccountResult[accounts.Length]));
        Assert.Equal(Accounts + 500, restored.AccountCount);
    }

    [Fact]
    public void ReadSnapshot_NegativeCapacity_ThrowsArgumentOutOfRange()
    {
        byte[] bytes = Snapshot(new LedgerStateMachine());

        Assert.Throws<ArgumentOutOfRangeException>(() => LedgerStateMachine.ReadSnapshot(bytes, accountCapacity: -1, transferCapacity: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LedgerStateMachine.ReadSnapshot(bytes, accountCapacity: 0, transferCapacity: -1));
    }

    [Fact]
    public void WriteSnapshot_DestinationShorterThanSnapshotSize_ThrowsArgumentExceptionNamingIt()
    {
        LedgerStateMachine ledger = SampleLedger();

        ArgumentException e = Assert.Throws<ArgumentException>(() => ledger.WriteSnapshot(new byte[ledger.SnapshotSize - 1]));

        Assert.Equal("destination", e.ParamName);
        Assert.Contains(ledger.SnapshotSize.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteSnapshot_LongerDestination_WritesSnapshotSizeBytesOnly()
    {
        LedgerStateMachine ledger = SampleLedger();
        byte[] bytes = Enumerable.Repeat((byte)0xEE, End + 10).ToArray();

        ledger.WriteSnapshot(bytes);

        Assert.Equal(Snapshot(ledger), bytes[..End]);
        Assert.All(bytes[End..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void ReadSnapshot_LedgerSpanningSeveralTransferChunks_BehavesLikeTheOriginalForLaterBatches()
    {
        // Over 49,152 stored transfers (of 70,000 events) fill three of the transfer table's 16,384-row chunks and part
        // of a fourth, so the chunked write and read paths cross chunk boundaries; a seeded history of every kind of
        // event, then more of it applied to both ledgers.
        var random = new Random(7);
        var original = new LedgerStateMachine();
        Account[] accounts = [.. Enumerable.Range(1, 300).Select(i => new Account { Id = (UInt128)i, LedgerId = 1, Code = 1 })];
        Assert.Equal(0, original.CreateAccounts(1, accounts, new CreateAccountResult[accounts.Length]));
        ulong clock = Second;
        UInt128 nextId = 10_000;
        for (int b = 0; b < 70; b++)
        {
            original.CreateTransfers(clock, RandomBatch(random, ref nextId), new CreateTransferResult[1000]);
            clock += Second / 2;
        }

        Assert.InRange(original.TransferCount, (3 * 16_384) + 1, 70_000);
        Assert.InRange(original.BurntIdCount, 1, 70_000);

        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(original));
        Assert.Equal(Snapshot(original), Snapshot(restored));
        for (int b = 0; b < 12; b++)
        {
            Transfer[] batch = RandomBatch(random, ref nextId);
            var expected = new CreateTransferResult[batch.Length];
            var actual = new CreateTransferResult[batch.Length];
            original.CreateTransfers(clock, batch, expected);
            restored.CreateTransfers(clock, batch, actual);
            Assert.Equal(expected, actual);
            clock += Second / 2;
        }

        Assert.Equal(Snapshot(original), Snapshot(restored));
    }

    [Fact]
    public void WriteAndReadSnapshot_SectionsOfSeveralPieces_SequenceAndSpanAgree()
    {
        // Every section longer than one 2 MiB piece: 20,000 accounts (2 pieces), 40,000 transfers (3 chunks) and
        // 70,000 burnt ids (2 pieces of 65,536), so the piecewise writer and reader cross piece boundaries in each.
        var ledger = new LedgerStateMachine();
        Account[] accounts = [.. Enumerable.Range(1, 20_000).Select(i => new Account { Id = (UInt128)i, LedgerId = 1, Code = 1 })];
        Assert.Equal(0, ledger.CreateAccounts(1, accounts, new CreateAccountResult[accounts.Length]));
        var results = new CreateTransferResult[10_000];
        for (int b = 0; b < 4; b++)
        {
            Transfer[] batch = [.. Enumerable.Range(0, 10_000).Select(i => new Transfer
            {
                Id = (UInt128)(1_000_000 + (b * 10_000) + i), DebitAccountId = (UInt128)(1 + (i % 20_000)), CreditAccountId = (UInt128)(1 + ((i * 7 + b) % 20_000)),
                Amount = 1, LedgerId = 1, Code = 1, Flags = i % 10 == 0 ? TransferFlags.Pending : TransferFlags.None,
            })];
            ledger.CreateTransfers(0, batch, results);
        }

        for (int b = 0; b < 7; b++)
        {
            // Debit account 99,999 does not exist: each transfer fails and burns its id.
            Transfer[] batch = [.. Enumerable.Range(0, 10_000).Select(i => new Transfer
            {
                Id = (UInt128)(5_000_000 + (b * 10_000) + i), DebitAccountId = 99_999, CreditAccountId = 1, Amount = 1, LedgerId = 1, Code = 1,
            })];
            Assert.Equal(10_000, ledger.CreateTransfers(0, batch, results));
        }

        Assert.True(ledger.TransferCount > 2 * 16_384 && ledger.BurntIdCount == 70_000, $"{ledger.TransferCount} transfers, {ledger.BurntIdCount} burnt ids");
        byte[] expected = Snapshot(ledger);

        // Odd segment sizes: the writer starts a new segment whenever a piece does not fit the current one.
        var writer = new SnapshotSegments(3 * 1024 * 1024 + 17);
        ledger.WriteSnapshot(writer);
        ReadOnlySequence<byte> written = writer.ToSequence();
        Assert.False(written.IsSingleSegment, "the snapshot should span several segments");
        Assert.Equal(expected, written.ToArray());

        // Read back from the writer's segments, and from segments that cut records and pieces at odd places.
        Assert.Equal(expected, Snapshot(LedgerStateMachine.ReadSnapshot(written)));
        ReadOnlySequence<byte> cut = SnapshotSequences.Split(expected, Enumerable.Range(1, 40).Select(k => k * 222_223));
        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(cut, accountCapacity: 50_000, transferCapacity: 200_000);
        Assert.Equal(expected, Snapshot(restored));
        Assert.Equal(CreateTransferResult.IdAlreadyFailed, restored.CreateTransfer(2, new Transfer { Id = 5_069_999, DebitAccountId = 99_999, CreditAccountId = 1, Amount = 1, LedgerId = 1, Code = 1 }));
    }

    [Fact]
    [Trait("Category", "Stress")]
    public void WriteAndReadSnapshot_PastTwoGiB_RoundTripsThroughSegments()
    {
        // 16.8M transfers over 1,000 accounts make a 2.17 GB snapshot, past what one span holds: the size at which the
        // span API stops working is exactly where 32-bit offsets would wrap. Needs several GB of memory (two ledgers and
        // the written segments) and about half a minute, hence the stress trait; the CI version is
        // WriteAndReadSnapshot_SectionsOfSeveralPieces_SequenceAndSpanAgree.
        var ledger = new LedgerStateMachine(TwoGiBWorkload.Accounts, TwoGiBWorkload.Transfers);
        Account[] accounts = TwoGiBWorkload.AccountsToCreate();
        Assert.Equal(0, ledger.CreateAccounts(1, accounts, new CreateAccountResult[accounts.Length]));
        var transfers = new Transfer[TwoGiBWorkload.Batch];
        var results = new CreateTransferResult[TwoGiBWorkload.Batch];
        for (int b = 0; b < TwoGiBWorkload.Batches; b++)
        {
            TwoGiBWorkload.FillBatch(transfers, b);
            Assert.Equal(0, ledger.CreateTransfers(0, transfers, results));
        }

        Assert.True(ledger.SnapshotSize > Array.MaxLength, $"the snapshot is {ledger.SnapshotSize} bytes");
        var writer = new SnapshotSegments(256 * 1024 * 1024);
        ledger.WriteSnapshot(writer);
        ReadOnlySequence<byte> written = writer.ToSequence();
        Assert.Equal(ledger.SnapshotSize, written.Length);

        LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(written);
        Assert.Equal(ledger.TransferCount, restored.TransferCount);
        Assert.Equal(ledger.Accounts.ToArray(), restored.Accounts.ToArray());
        Assert.True(restored.TryGetTransfer((UInt128)TwoGiBWorkload.Transfers, out Transfer last));
        Assert.True(ledger.TryGetTransfer((UInt128)TwoGiBWorkload.Transfers, out Transfer expected));
        Assert.Equal(expected, last);

        // The restored ledger writes the same bytes again: the same snapshot, segment by segment.
        var again = new SnapshotSegments(256 * 1024 * 1024);
        restored.WriteSnapshot(again);
        Assert.True(SameBytes(written, again.ToSequence()), "the restored ledger's snapshot differs from the original's");

        // And it works on (after the comparison: any batch advances the clock the header records).
        Assert.Equal(CreateTransferResult.Exists, restored.CreateTransfer(0, expected with { Timestamp = 0 }));
    }

    private static bool SameBytes(ReadOnlySequence<byte> a, ReadOnlySequence<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var chunkA = new byte[1 << 20];
        var chunkB = new byte[1 << 20];
        for (long offset = 0; offset < a.Length; offset += chunkA.Length)
        {
            int length = (int)Math.Min(chunkA.Length, a.Length - offset);
            a.Slice(offset, length).CopyTo(chunkA);
            b.Slice(offset, length).CopyTo(chunkB);
            if (!chunkA.AsSpan(0, length).SequenceEqual(chunkB.AsSpan(0, length)))
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void WriteSnapshot_NullBufferWriter_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>("destination", () => new LedgerStateMachine().WriteSnapshot((IBufferWriter<byte>)null!));
    }

    [Fact]
    public void WriteSnapshot_BufferWriterHandingOutTooLittle_ThrowsInvalidOperationExceptionSayingSo()
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => SampleLedger().WriteSnapshot(new StingyWriter()));
        Assert.Contains("at least sizeHint", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Breaks the IBufferWriter contract: hands out 8 bytes whatever the size hint.</summary>
    private sealed class StingyWriter : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[8];

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer;
    }

    /// <summary>New transfers and holds (some with timeouts), posts and voids of recent holds, retries of old ids, and transfers bound to fail.</summary>
    private static Transfer[] RandomBatch(Random random, ref UInt128 nextId)
    {
        var batch = new Transfer[1000];
        for (int i = 0; i < batch.Length; i++)
        {
            UInt128 id = nextId++;
            UInt128 debit = (UInt128)random.Next(1, 301);
            UInt128 credit = (UInt128)random.Next(1, 301);
            int kind = random.Next(100);
            batch[i] = kind switch
            {
                < 50 => new Transfer { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = (UInt128)random.Next(1, 100), LedgerId = 1, Code = 1 },
                < 70 => new Transfer { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = 10, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = (uint)random.Next(0, 4) },
                < 80 => new Transfer { Id = id, PendingId = nextId - (UInt128)random.Next(1, 3000), Amount = UInt128.MaxValue, Flags = TransferFlags.PostPendingTransfer },
                < 87 => new Transfer { Id = id, PendingId = nextId - (UInt128)random.Next(1, 3000), Flags = TransferFlags.VoidPendingTransfer },
                < 95 => new Transfer { Id = id - (UInt128)random.Next(1, 900), DebitAccountId = debit, CreditAccountId = credit, Amount = 1, LedgerId = 1, Code = 1 },
                _ => new Transfer { Id = id, DebitAccountId = debit, CreditAccountId = 5000, Amount = 1, LedgerId = 1, Code = 1 },
            };
        }

        return batch;
    }

    // ---- Malformed input: every case throws LedgerSnapshotException naming the problem and its offset. ----

    private static LedgerSnapshotException Refused(byte[] bytes, long offset, string expectedText)
    {
        LedgerSnapshotException e = Assert.Throws<LedgerSnapshotException>(() => LedgerStateMachine.ReadSnapshot(bytes));
        Assert.Equal(offset, e.Offset);
        Assert.Contains(expectedText, e.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {offset}", e.Message, StringComparison.Ordinal);
        return e;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(31)]
    public void ReadSnapshot_TruncatedInsideTheHeader_ThrowsNamingTheTruncation(int length)
    {
        byte[] bytes = Snapshot(SampleLedger())[..length];

        Refused(bytes, length, "truncated");
    }

    [Theory]
    [InlineData(HeaderSize)]
    [InlineData(HeaderSize + 100)]
    [InlineData(TransfersOffset + 1)]
    [InlineData(StatusesOffset + 3)]
    [InlineData(BurntOffset + 5)]
    [InlineData(End - 1)]
    public void ReadSnapshot_TruncatedInsideASection_ThrowsNamingTheTruncationAndTheNeededLength(int length)
    {
        byte[] bytes = Snapshot(SampleLedger())[..length];

        LedgerSnapshotException e = Refused(bytes, length, "truncated");
        Assert.Contains($"need {End} bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadSnapshot_BadMagic_ThrowsNamingTheMagic()
    {
        byte[] bytes = Snapshot(SampleLedger());
        bytes[1] = (byte)'X';

        Refused(bytes, 0, "magic");
    }

    [Fact]
    public void ReadSnapshot_ShortInputWithBadMagic_ThrowsNamingTheMagic()
    {
        Refused("MPCB1234"u8.ToArray(), 0, "magic");
    }

    [Fact]
    public void ReadSnapshot_UnknownVersion_ThrowsNamingTheVersion()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 2);

        Refused(bytes, 4, "version 2");
    }

    [Fact]
    public void ReadSnapshot_NonZeroReservedHeaderField_Throws()
    {
        byte[] bytes = Snapshot(SampleLedger());
        bytes[29] = 1;

        Refused(bytes, 28, "reserved");
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(20, 1)]
    [InlineData(24, 1)]
    [InlineData(20, 1000)]
    public void ReadSnapshot_CountLargerThanTheData_ThrowsNamingTheTruncation(int field, int extra)
    {
        byte[] bytes = Snapshot(SampleLedger());
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(field));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(field), count + (uint)extra);

        Refused(bytes, End, "truncated: the header's counts");
    }

    [Fact]
    public void ReadSnapshot_AccountCountBeyondTheLedgersLimit_ThrowsNamingTheCount()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), uint.MaxValue);

        Refused(bytes, 16, "account count 4294967295");
    }

    [Fact]
    public void ReadSnapshot_TransferAndBurntCountsBeyondTheLedgersLimit_ThrowsNamingTheCounts()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 1u << 29);

        Refused(bytes, 20, "transfer count");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    public void ReadSnapshot_TrailingBytes_ThrowsNamingThem(int extra)
    {
        byte[] bytes = [.. Snapshot(SampleLedger()), .. new byte[extra]];

        Refused(bytes, End, $"{extra} trailing bytes");
    }

    [Fact]
    public void ReadSnapshot_DuplicateAccountId_ThrowsAtTheSecondAccount()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(HeaderSize + (2 * 128)), 1);

        Refused(bytes, HeaderSize + (2 * 128), "account 2 has the id 1, which an earlier account already has");
    }

    [Fact]
    public void ReadSnapshot_DuplicateTransferId_ThrowsAtTheSecondTransfer()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(TransfersOffset + (8 * 128)), 100);

        Refused(bytes, TransfersOffset + (8 * 128), "transfer 8 has the id 100, which an earlier transfer already has");
    }

    [Fact]
    public void ReadSnapshot_BurntIdThatIsATransfer_ThrowsAtTheBurntId()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(BurntOffset + 16), 105);

        Refused(bytes, BurntOffset + 16, "burnt id 1 (105) is already a transfer or an earlier burnt id");
    }

    [Fact]
    public void ReadSnapshot_DuplicateBurntId_ThrowsAtTheSecondOne()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(BurntOffset + 16), BurntMissingAccount);

        Refused(bytes, BurntOffset + 16, "burnt id 1 (900) is already");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(0xFF)]
    public void ReadSnapshot_StatusByteOutOfRange_ThrowsAtTheStatusByte(byte status)
    {
        byte[] bytes = Snapshot(SampleLedger());
        bytes[StatusesOffset + 1] = status;

        Refused(bytes, StatusesOffset + 1, $"the status byte of transfer 1 is {status}, which is no PendingStatus");
    }

    [Fact]
    public void ReadSnapshot_StatusOnATransferThatIsNotPending_ThrowsAtTheStatusByte()
    {
        byte[] bytes = Snapshot(SampleLedger());
        bytes[StatusesOffset + 0] = (byte)PendingStatus.Posted;

        Refused(bytes, StatusesOffset, "transfer 0 is not pending but its status is Posted");
    }

    [Fact]
    public void ReadSnapshot_PendingTransferWithStatusNone_ThrowsAtTheStatusByte()
    {
        byte[] bytes = Snapshot(SampleLedger());
        bytes[StatusesOffset + 1] = (byte)PendingStatus.None;

        Refused(bytes, StatusesOffset + 1, "transfer 1 is pending but its status is None");
    }

    [Fact]
    public void ReadSnapshot_OpenHoldNamingAMissingAccount_ThrowsAtTheHold()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(TransfersOffset + 128 + 16), 77);

        Refused(bytes, TransfersOffset + 128, "open hold 1 names an account");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ReadSnapshot_ReservedAccountId_ThrowsAtTheAccount(int which)
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(HeaderSize + 128), which == 0 ? UInt128.Zero : UInt128.MaxValue);

        Refused(bytes, HeaderSize + 128, "the account has the reserved id");
    }

    [Fact]
    public void ReadSnapshot_ReservedBurntId_ThrowsAtTheBurntId()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(BurntOffset), UInt128.Zero);

        Refused(bytes, BurntOffset, "burnt id 0 is the reserved id 0");
    }

    [Fact]
    public void ReadSnapshot_TransferTimestampNotIncreasing_ThrowsAtTheTransfer()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(TransfersOffset + (3 * 128) + 120), 1);

        Refused(bytes, TransfersOffset + (3 * 128), "the transfer's timestamp 1 is not after the previous transfer's");
    }

    [Fact]
    public void ReadSnapshot_TimestampAfterTheLedgersClock_ThrowsAtTheRecord()
    {
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 12);

        Refused(bytes, HeaderSize + (3 * 128), "after the ledger's last timestamp (12)");
    }

    [Fact]
    public void ReadSnapshot_OpenHoldWhoseExpiryOverflows_ThrowsAtTheHold()
    {
        // Raise the clock and the hold's timestamp to the top, keeping the rows in order: its 100 s timeout then overflows.
        byte[] bytes = Snapshot(SampleLedger());
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), ulong.MaxValue);
        for (int i = 5; i < Transfers; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(TransfersOffset + (i * 128) + 120), ulong.MaxValue - 10 + (ulong)i);
        }

        Refused(bytes, TransfersOffset + (5 * 128), "open hold 5's expiry overflows the clock");
    }
}
