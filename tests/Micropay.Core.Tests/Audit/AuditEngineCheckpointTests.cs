using System.Diagnostics;
using Micropay.Core.Audit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Storage.Tests;
using Xunit.Abstractions;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Audit;

/// <summary>
/// Checkpoints cover durable batches only: in Buffered mode a transfer released before its batch is durable has no
/// receipt until it is, and every receipt handed out lies under a checkpoint no larger than the durable tree. Periodic
/// checkpoints come every N durable batches, and after the interval also while the engine is idle.
/// </summary>
public sealed class AuditEngineCheckpointTests(ITestOutputHelper output) : TemporaryDirectoryTest("mp-audit-checkpoints-")
{
    private string Journal => Path.Combine(Directory, "journal");

    private LedgerEngineOptions Options(ILedgerStore store, DurabilityMode mode, int checkpointEvery, TimeSpan interval) => new()
    {
        Durability = mode,
        Store = store,
        OperatorKey = AuditEngineTests.Operator,
        InstanceId = 0x4242,
        ClockPulses = false,
        Audit = new AuditOptions { Directory = Path.Combine(Directory, "audit"), CheckpointEveryBatches = checkpointEvery, CheckpointInterval = interval },
    };

    [Fact]
    public async Task TryGetReceipt_Buffered_ATransferReleasedBeforeItsBatchIsDurable_IsNotDurableYetUntilItIs()
    {
        var store = new GatedStore(new FileLedgerStore(Journal));
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(store, DurabilityMode.Buffered, 0, TimeSpan.Zero));
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(10, 1, 2, 1)));
        await WaitUntilAsync(() => engine.TryGetReceipt((UInt128)10, out _) == ReceiptStatus.Ok);
        long durableBefore = engine.DurableAuditTreeSize;

        // The store holds the next append: the transfer is released (Buffered) but its batch is not durable.
        store.Close();
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(11, 1, 2, 1)));
        Assert.True(engine.TryGetTransfer(11, out _));
        ulong batch = engine.ReleasedBatchNumber;
        Assert.Equal(ReceiptStatus.NotDurableYet, engine.TryGetReceipt((UInt128)11, out AuditReceipt? none));
        Assert.Null(none);
        Assert.Equal(ReceiptStatus.NotDurableYet, engine.TryGetReceipt(batch, 0, out _));
        Assert.Equal(durableBefore, engine.DurableAuditTreeSize);

        // A checkpoint now covers the durable batches only, not the released one.
        SignedCheckpoint checkpoint = engine.Checkpoint();
        Assert.Equal(durableBefore, checkpoint.Size);
        Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt((UInt128)10, out AuditReceipt? older));
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(older!, engine.AuditVerifierKey!));

        store.Open();
        await WaitUntilAsync(() => engine.DurableAuditTreeSize > durableBefore);
        Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt((UInt128)11, out AuditReceipt? receipt));
        Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, engine.AuditVerifierKey!, out AuditLeaf leaf));
        Assert.True(leaf.TryGetTransfer(out Transfer transfer));
        Assert.Equal((UInt128)11, transfer.Id);
        Assert.Equal(batch, leaf.BatchNumber);
    }

    [Fact]
    public async Task TryGetReceipt_BufferedUnderLoad_EveryReceiptIsUnderACheckpointOfDurableBatches()
    {
        // Appends are slowed at random, so readers race the durable head; whatever they get must be Ok only when durable.
        var store = new GatedStore(new FileLedgerStore(Journal)) { RandomDelay = true };
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(store, DurabilityMode.Buffered, 2, TimeSpan.Zero));
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        NoteVerifierKey key = engine.AuditVerifierKey!;

        var released = new System.Collections.Concurrent.ConcurrentQueue<UInt128>();
        int ok = 0, notDurable = 0;
        using var done = new CancellationTokenSource();
        Task writers = Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 150; i++)
            {
                UInt128 id = (UInt128)(1_000 + (w * 1_000) + i);
                Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(id, 1, 2, 1)));
                released.Enqueue(id);
            }
        })));
        Task reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested || !released.IsEmpty)
            {
                if (!released.TryDequeue(out UInt128 id))
                {
                    Thread.Yield();
                    continue;
                }

                ReceiptStatus status = engine.TryGetReceipt(id, out AuditReceipt? receipt);
                if (status == ReceiptStatus.NotDurableYet)
                {
                    notDurable++;
                    continue;
                }

                Assert.Equal(ReceiptStatus.Ok, status);
                ok++;
                Assert.Equal(ReceiptResult.Ok, ReceiptVerifier.Verify(receipt!, key, out AuditLeaf leaf));
                Assert.True(leaf.TryGetTransfer(out Transfer transfer) && transfer.Id == id);
                Assert.True(Checkpoint.TryParse(NoteText(receipt!.CheckpointNote, key), out Checkpoint? signed, out _));

                // Read after the receipt was made: the durable head only grows, so it bounds the checkpoint's tree.
                Assert.True(signed.Size <= engine.DurableAuditTreeSize, $"a checkpoint of {signed.Size} leaves, durable {engine.DurableAuditTreeSize}");
                Assert.True(receipt.LeafIndex < signed.Size);
            }
        });

        await writers;
        done.Cancel();
        await reader;
        Assert.True(ok > 0, "no receipt was Ok");

        // Once everything is durable, every transfer has its receipt.
        await WaitUntilAsync(() => engine.TryGetReceipt((UInt128)(1_000 + (3 * 1_000) + 149), out _) == ReceiptStatus.Ok);
        await WaitUntilAsync(() => Enumerable.Range(0, 4).All(w => engine.TryGetReceipt((UInt128)(1_000 + (w * 1_000) + 149), out _) == ReceiptStatus.Ok));
        for (int w = 0; w < 4; w++)
        {
            for (int i = 0; i < 150; i++)
            {
                Assert.Equal(ReceiptStatus.Ok, engine.TryGetReceipt((UInt128)(1_000 + (w * 1_000) + i), out _));
            }
        }

        Assert.True(engine.LatestCheckpoint!.Size <= engine.DurableAuditTreeSize);
        output.WriteLine($"while the appends ran: {ok} receipts Ok, {notDurable} not durable yet");
    }

    [Fact]
    public async Task Checkpoints_EveryThreeDurableBatches_AdvanceByCount()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(new FileLedgerStore(Journal), DurabilityMode.Durable, 3, TimeSpan.Zero));

        // Batch 1 fixed the instance id: no checkpoint yet.
        Assert.Null(engine.LatestCheckpoint);
        Assert.Equal(1UL, engine.ReleasedBatchNumber);
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Null(engine.LatestCheckpoint);

        // Batch 3 completes the first three: each later third batch signs the next checkpoint, covering the tree after it.
        var sizes = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)));
            ulong batch = engine.ReleasedBatchNumber;
            SignedCheckpoint? latest = engine.LatestCheckpoint;
            Assert.NotNull(latest);
            Assert.Equal(batch - (batch % 3), latest.BatchNumber);
            if (batch % 3 == 0)
            {
                Assert.Equal(engine.DurableAuditTreeSize, latest.Size);
                sizes.Add(latest.Size);
            }
        }

        Assert.Equal([4L, 7L, 10L, 13L], sizes);
    }

    [Fact]
    public async Task Checkpoints_AfterTheInterval_AnIdleEngineSignsOne()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(new FileLedgerStore(Journal), DurabilityMode.Durable, 0, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr(7, 1, 2, 1)));
        long durable = engine.DurableAuditTreeSize;

        // Nothing more is submitted: the publisher, idle, signs a checkpoint over the durable batches once the interval passed.
        await WaitUntilAsync(() => engine.LatestCheckpoint?.Size == durable);
        Assert.Equal(engine.ReleasedBatchNumber, engine.LatestCheckpoint!.BatchNumber);

        // And an idle engine with nothing new signs nothing more.
        SignedCheckpoint latest = engine.LatestCheckpoint;
        await Task.Delay(200);
        Assert.Same(latest, engine.LatestCheckpoint);
    }

    [Fact]
    public async Task Checkpoints_NeitherByCountNorByTime_OnlyOnDemand()
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(Options(new FileLedgerStore(Journal), DurabilityMode.Durable, 0, TimeSpan.Zero));
        Assert.Equal(0, await engine.CreateAccountsAsync(new[] { Acct(1), Acct(2) }, new CreateAccountResult[2]));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(CreateTransferResult.Ok, await engine.CreateTransferAsync(Tr((UInt128)(100 + i), 1, 2, 1)));
        }

        await Task.Delay(100);
        Assert.Null(engine.LatestCheckpoint);
        SignedCheckpoint signed = engine.Checkpoint();
        Assert.Equal(engine.DurableAuditTreeSize, signed.Size);
        Assert.Same(signed, engine.Checkpoint());
        Assert.Same(signed, engine.LatestCheckpoint);
    }

    private static string? NoteText(string note, NoteVerifierKey key) =>
        SignedNote.TryOpen(System.Text.Encoding.UTF8.GetBytes(note), [key], out string? text, out _) == NoteResult.Ok ? text : null;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the condition did not come true within 20 seconds");
            await Task.Delay(5);
        }
    }

    /// <summary>A store whose appends wait while it is closed (or for a random moment, under load).</summary>
    private sealed class GatedStore(ILedgerStore inner) : ForwardingLedgerStore(inner)
    {
        private readonly ManualResetEventSlim _open = new(initialState: true);
        private readonly Random _random = new(5);

        public bool RandomDelay { get; init; }

        public void Close() => _open.Reset();

        public void Open() => _open.Set();

        public override ValueTask AppendAsync(CommitBatch batch, CancellationToken cancellationToken = default)
        {
            _open.Wait(cancellationToken);
            if (RandomDelay && _random.Next(3) == 0)
            {
                Thread.Sleep(_random.Next(1, 4));
            }

            return Inner.AppendAsync(batch, cancellationToken);
        }
    }
}
