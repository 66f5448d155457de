using BenchmarkDotNet.Attributes;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Benchmarks.Channels;

/// <summary>
/// Redemption throughput, in two places. <c>Engine</c>: batches of 8,189 vouchers through
/// <see cref="LedgerEngine.RedeemVouchersAsync"/> on a durable engine over a <see cref="FileLedgerStore"/>, against
/// batches of 8,189 plain transfers through <see cref="LedgerEngine.CreateTransfersAsync"/> on an engine set up the same
/// way (the baseline). <c>Ledger</c>: the writer alone, the same vouchers applied through the engine's own operation
/// description on a bare <see cref="LedgerStateMachine"/>, against <see cref="LedgerStateMachine.CreateTransfers"/> of as
/// many plain transfers (the baseline).
/// </summary>
/// <remarks>
/// <para>
/// Setup (<see cref="ChannelFixture"/>): a bank, a funded payer and a payee, and one open cumulative channel, on a new
/// engine (durable, default <see cref="FileLedgerStoreOptions"/>, in a new temporary directory deleted by the global
/// cleanup; room reserved for 1M transfers) or on a new ledger (room for 2M transfers). Each benchmark case gets its own
/// engine or ledger, so both sides of a comparison start from the same state.
/// </para>
/// <para>
/// Each iteration is one invocation of new events, made in the (unmeasured) iteration setup: vouchers continue the
/// run's numbering on 16 lanes (each pays 1; no (lane, sequence) repeats, so every redemption pays), transfers take
/// new ids (the payer pays the payee 1). <c>Engine_RedeemVouchers</c> gets vouchers signed by the payer's key (2 batches
/// per invocation, signed on every core in the setup); the engine verifies each one at the edge before queueing the
/// batch (in parallel, see <c>BatchVerifyBenchmarks</c>), then the writer applies the batch and the publisher makes it
/// durable (one fsync), as for <c>Engine_CreateTransfers</c> (2 batches per invocation too). One caller submits the
/// batches one after another. <c>Ledger_RedeemVouchers</c> applies 8 batches per invocation through
/// <c>OperationRegistry.RedeemVouchers.Apply</c>, the writer thread's call, with vouchers that carry no valid
/// signature: the writer never verifies (the edge did), so the bytes make no difference there;
/// <c>Ledger_CreateTransfers</c> applies 8 batches of plain transfers. The mean and <c>Transfers/s</c> are per event;
/// every event must succeed (the iteration cleanup checks).
/// </para>
/// <para>
/// A redemption on the writer costs a channel lookup, the SHA-256 of its derived transfer id, the idempotency probe and
/// the system transfer out of escrow. Journal growth: 2 MiB per engine iteration. The engine's batch path may allocate
/// per batch (the parallel verification's loop state, the submission's task); the ledger's should allocate nothing
/// within the reserved room.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(RedeemThroughputConfig))]
[InvocationCount(1, 1)]
public class RedeemBenchmarks
{
    /// <summary>Batches per invocation of the engine benchmarks.</summary>
    public const int EngineBatches = 2;

    /// <summary>Batches per invocation of the ledger benchmarks.</summary>
    public const int LedgerBatches = 8;

    private const uint Lanes = 16;
    private const string EngineCategory = "Engine";
    private const string LedgerCategory = "Ledger";

    private readonly ChannelResult[] _channelResults = new ChannelResult[ChannelFixture.BatchSize];
    private readonly CreateTransferResult[] _transferResults = new CreateTransferResult[ChannelFixture.BatchSize];
    private Voucher[][] _vouchers = [];
    private readonly Dictionary<Voucher[], VoucherRedemption[]> _redemptions = new(ReferenceEqualityComparer.Instance);
    private Transfer[][] _transfers = [];
    private SigningKey? _payerKey;
    private ChannelConfig? _config;
    private LedgerEngine? _engine;
    private LedgerStateMachine? _ledger;
    private string? _directory;
    private long _nextVoucher;
    private ulong _nextTransferId = 1_000_000;
    private ulong _timestamp = 10;
    private int _failed;

    /// <summary>Opens a durable engine on a new directory, with the accounts and the channel.</summary>
    [GlobalSetup(Targets = new[] { nameof(Engine_CreateTransfers), nameof(Engine_RedeemVouchers), nameof(Engine_RedeemPreVerifiedVouchers) })]
    public void GlobalSetupEngine()
    {
        _payerKey = ChannelFixture.PayerKey();
        _directory = Path.Combine(Path.GetTempPath(), "micropay-redeem-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(_directory),
            AccountCapacity = 16,
            TransferCapacity = 1 << 20,
        }).AsTask().GetAwaiter().GetResult();
        _config = ChannelFixture.OpenOnEngine(_engine, _payerKey);
        Allocate(EngineBatches);
    }

    /// <summary>Creates a ledger with the accounts and the channel.</summary>
    [GlobalSetup(Targets = new[] { nameof(Ledger_CreateTransfers), nameof(Ledger_RedeemVouchers) })]
    public void GlobalSetupLedger()
    {
        _payerKey = ChannelFixture.PayerKey();
        _ledger = new LedgerStateMachine(16, 1 << 21);
        _config = ChannelFixture.OpenOnLedger(_ledger, new UInt128(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL), _payerKey);
        Allocate(LedgerBatches);
    }

    /// <summary>Signs the next vouchers for the engine (not measured).</summary>
    [IterationSetup(Targets = new[] { nameof(Engine_RedeemVouchers), nameof(Engine_RedeemPreVerifiedVouchers) })]
    public void IterationSetupSignedVouchers()
    {
        foreach (Voucher[] batch in _vouchers)
        {
            ChannelFixture.SignVouchers(_payerKey!, _config!, _nextVoucher, Lanes, batch);
            _nextVoucher += batch.Length;
            _redemptions[batch] = [.. batch.Select(v => VoucherRedemption.Of(v))];
        }
    }

    /// <summary>Makes the next vouchers for the ledger (not measured).</summary>
    [IterationSetup(Target = nameof(Ledger_RedeemVouchers))]
    public void IterationSetupUnsignedVouchers()
    {
        foreach (Voucher[] batch in _vouchers)
        {
            ChannelFixture.UnsignedVouchers(_config!, _nextVoucher, Lanes, batch);
            _nextVoucher += batch.Length;
            _redemptions[batch] = [.. batch.Select(v => VoucherRedemption.Of(v))];
        }
    }

    /// <summary>Gives the transfers new ids (not measured).</summary>
    [IterationSetup(Targets = new[] { nameof(Engine_CreateTransfers), nameof(Ledger_CreateTransfers) })]
    public void IterationSetupTransfers()
    {
        foreach (Transfer[] batch in _transfers)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i] = ChannelFixture.Payment(_nextTransferId++);
            }
        }
    }

    /// <summary>Fails the run if an event was refused: the benchmark must measure the success path.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} events failed; the benchmark must measure the success path.");
        }
    }

    /// <summary>Disposes the engine (and its store) and deletes the directory.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine = null;
        _ledger = null;
        _payerKey?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        _directory = null;
    }

    /// <summary>Plain transfers, 2 batches of 8,189 through the durable engine, one after another.</summary>
    /// <returns>A task that completes when both batches are durable.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = EngineBatches * ChannelFixture.BatchSize)]
    [BenchmarkCategory(EngineCategory)]
    public async Task Engine_CreateTransfers()
    {
        LedgerEngine engine = _engine!;
        foreach (Transfer[] batch in _transfers)
        {
            _failed += await engine.CreateTransfersAsync(batch, _transferResults);
        }
    }

    /// <summary>Signed vouchers, 2 batches of 8,189 through the durable engine (verified at the edge, then applied and made durable).</summary>
    /// <returns>A task that completes when both batches are durable.</returns>
    [Benchmark(OperationsPerInvoke = EngineBatches * ChannelFixture.BatchSize)]
    [BenchmarkCategory(EngineCategory)]
    public async Task Engine_RedeemVouchers()
    {
        LedgerEngine engine = _engine!;
        foreach (Voucher[] batch in _vouchers)
        {
            _failed += await engine.RedeemVouchersAsync(batch, _channelResults);
        }
    }

    /// <summary>
    /// The same signed vouchers, already verified (as a payee's <c>ChannelReceiver</c> verified them offline), through
    /// the durable engine's redemption pipeline without the edge's signature checks: the engine's internal submit, which
    /// the public methods call after verifying. This is the "redeem with pre-verified vouchers" figure: what the
    /// writer, the journal and the release cost per redemption.
    /// </summary>
    /// <returns>A task that completes when both batches are durable.</returns>
    [Benchmark(OperationsPerInvoke = EngineBatches * ChannelFixture.BatchSize)]
    [BenchmarkCategory(EngineCategory)]
    public async Task Engine_RedeemPreVerifiedVouchers()
    {
        LedgerEngine engine = _engine!;
        foreach (Voucher[] batch in _vouchers)
        {
            _failed += await engine.SubmitMany(OperationRegistry.RedeemVouchers, Redemptions(batch), _channelResults, "vouchers", CancellationToken.None);
        }
    }

    /// <summary>The ledger applying 8 batches of 8,189 plain transfers.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = LedgerBatches * ChannelFixture.BatchSize)]
    [BenchmarkCategory(LedgerCategory)]
    public void Ledger_CreateTransfers()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (Transfer[] batch in _transfers)
        {
            _failed += ledger.CreateTransfers(_timestamp++, batch, _transferResults);
        }
    }

    /// <summary>The writer's redemption alone: 8 batches of 8,189 vouchers through the operation description, on the ledger.</summary>
    [Benchmark(OperationsPerInvoke = LedgerBatches * ChannelFixture.BatchSize)]
    [BenchmarkCategory(LedgerCategory)]
    public void Ledger_RedeemVouchers()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (Voucher[] batch in _vouchers)
        {
            _failed += OperationRegistry.RedeemVouchers.Apply(ledger, _timestamp++, Redemptions(batch), _channelResults);
        }
    }

    /// <summary>
    /// The redemptions of a batch (voucher and derived transfer id), made by the iteration setup: deriving the ids is edge
    /// work, done on the callers' cores while they verify (see <c>LedgerEngine.VerifyVouchers</c>), not the writer's.
    /// </summary>
    private VoucherRedemption[] Redemptions(Voucher[] batch) => _redemptions[batch];

    private void Allocate(int batches)
    {
        _vouchers = [.. Enumerable.Range(0, batches).Select(_ => new Voucher[ChannelFixture.BatchSize])];
        _transfers = [.. Enumerable.Range(0, batches).Select(_ => new Transfer[ChannelFixture.BatchSize])];
    }
}
