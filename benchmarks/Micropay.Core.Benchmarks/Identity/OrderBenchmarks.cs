using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using NSec.Cryptography;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// Signed payment orders through the durable engine (<see cref="LedgerEngine.ExecuteOrdersAsync"/>: every signature
/// verified at the edge on every core, then the policy checks, the transfer and one fsync per batch), against the
/// ceiling the verification sets, measured in the same run: NSec's Ed25519 verify of the same 176-byte messages on one
/// core and on every core. Plain transfers through the same engine (<see cref="LedgerEngine.CreateTransfersAsync"/>)
/// show what the engine costs without signatures.
/// </summary>
/// <remarks>
/// <para>
/// Setup (<see cref="OrderFixture"/>): a bank, a payer funded with 2 × 10^12 and a payee on a new durable engine (default
/// <see cref="FileLedgerStoreOptions"/>, in a new temporary directory deleted by the global cleanup; room for 1M
/// transfers), and the payer's device key registered with a policy that limits each payment, the payee, the ledger, and
/// the spending within a rolling window of 1 s of ledger time (10^6; a second of orders at the verification's rate is
/// about 45,000, so the window path runs for every order, evicting what left the window, and never refuses). The global
/// setup executes one batch of orders and checks every result is <see cref="OrderResult.Ok"/> and the key's window
/// spending is the batch's.
/// </para>
/// <para>
/// Each iteration is one invocation of <see cref="Batches"/> batches of <see cref="BatchSize"/> events (8,192).
/// <c>Engine_SignedOrders</c> submits them one after another from one caller, as orders with new ids signed on every
/// core by the (unmeasured) iteration setup: a retried id would be answered by the idempotency probe and measure the
/// wrong path. <c>Engine_SignedOrders_TwoCallers</c> submits the same kind of batches from two concurrent callers (every
/// other batch each), so one caller's batch is applied and made durable while the other's is verified.
/// <c>Engine_EdgeVerifyOnly</c> runs only the engine's edge verification of such batches (nothing queued or applied).
/// <c>Engine_PlainTransfers</c> submits transfers with new ids from one caller. The <c>Raw_</c> methods verify the
/// signatures of one fixed set of 8,192 orders with NSec directly (<c>SignatureAlgorithm.Ed25519.Verify</c> on each
/// order's assembled message: the 32-byte domain tag, the instance id and the 128 signed bytes), one after another on
/// one thread, or in one contiguous slice per core as the engine's edge splits a batch. The mean and <c>Transfers/s</c>
/// are per event (one order is one transfer); every event must succeed (the iteration cleanup checks).
/// </para>
/// <para>
/// The target: the engine's orders per second at least 0.8 × (cores / the time of one raw verify), the rate at which the
/// machine's cores could verify and do nothing else. <c>Raw_NSecVerify_OneCore</c>'s mean is the time of one verify;
/// <c>Raw_NSecVerify_AllCores</c> is the ceiling as a parallel loop reaches it (the baseline of the <c>Ratio</c> column).
/// Journal growth: 2 MiB per <c>Engine_SignedOrders</c> iteration (256-byte records), 1 MiB per plain one.
/// </para>
/// </remarks>
[MemoryDiagnoser]
[MinColumn]
[MaxColumn]
[Config(typeof(OrderThroughputConfig))]
[InvocationCount(1, 1)]
public class OrderBenchmarks
{
    /// <summary>Events per batch: large enough for the edge to verify on every core (from 64 on), one fsync per batch.</summary>
    public const int BatchSize = 1024;

    /// <summary>Batches per invocation.</summary>
    public const int Batches = 8;

    private const int Events = BatchSize * Batches;

    private readonly OrderResult[] _orderResults = new OrderResult[BatchSize];
    private readonly OrderResult[] _secondCallerResults = new OrderResult[BatchSize];
    private readonly CreateTransferResult[] _transferResults = new CreateTransferResult[BatchSize];
    private PaymentOrder[][] _orders = [];
    private Transfer[][] _transfers = [];
    private byte[][] _messages = [];
    private byte[][] _signatures = [];
    private NSec.Cryptography.PublicKey? _rawKey;
    private SigningKey? _deviceKey;
    private LedgerEngine? _engine;
    private string? _directory;
    private ulong _nextId = 1_000_000;
    private int _failed;

    /// <summary>Opens a durable engine on a new directory, sets up the accounts and the device key, and checks one batch of orders.</summary>
    [GlobalSetup(Targets = new[] { nameof(Engine_SignedOrders), nameof(Engine_SignedOrders_TwoCallers), nameof(Engine_EdgeVerifyOnly), nameof(Engine_PlainTransfers) })]
    public void GlobalSetupEngine()
    {
        _deviceKey = ChannelFixture.PayerKey();
        _directory = Path.Combine(Path.GetTempPath(), "micropay-order-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _engine = LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(_directory),
            AccountCapacity = 16,
            TransferCapacity = 1 << 20,
        }).AsTask().GetAwaiter().GetResult();
        OrderFixture.SetUpEngine(_engine, _deviceKey, OrderFixture.Policy(windowLength: 1_000_000_000, windowLimit: 1_000_000));
        _orders = [.. Enumerable.Range(0, Batches).Select(_ => new PaymentOrder[BatchSize])];
        _transfers = [.. Enumerable.Range(0, Batches).Select(_ => new Transfer[BatchSize])];

        // One checked batch: every order applies, and the key's window holds the batch (its events are 1 ns apart).
        PaymentOrder[] check = _orders[0];
        OrderFixture.SignOrders(_deviceKey, _engine.InstanceId, _nextId, check);
        _nextId += BatchSize;
        int refused = _engine.ExecuteOrdersAsync(check, _orderResults).AsTask().GetAwaiter().GetResult();
        if (refused != 0 || _orderResults.Any(r => r != OrderResult.Ok))
        {
            throw new InvalidOperationException($"The engine refused {refused} of the benchmark's orders (first: {_orderResults.First(r => r != OrderResult.Ok)}).");
        }

        if (!_engine.TryGetKey(KeyIds.Of(_deviceKey.VerificationKey), out KeyInfo key) || key.SpentInWindow != (UInt128)BatchSize * OrderFixture.Amount)
        {
            throw new InvalidOperationException($"The device key's window does not hold the checked batch: {key.SpentInWindow}.");
        }
    }

    /// <summary>Signs one fixed set of orders and assembles their signed messages for NSec.</summary>
    [GlobalSetup(Targets = new[] { nameof(Raw_NSecVerify_OneCore), nameof(Raw_NSecVerify_AllCores) })]
    public void GlobalSetupRaw()
    {
        _deviceKey = ChannelFixture.PayerKey();
        var instanceId = new UInt128(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);
        var orders = new PaymentOrder[Events];
        OrderFixture.SignOrders(_deviceKey, instanceId, _nextId, orders);
        _rawKey = NSec.Cryptography.PublicKey.Import(SignatureAlgorithm.Ed25519, _deviceKey.VerificationKey.AsSpan(), KeyBlobFormat.RawPublicKey);
        _messages = new byte[Events][];
        _signatures = new byte[Events][];
        Span<byte> buffer = stackalloc byte[SignedMessage.HeaderSize + PaymentOrder.SignedSize];
        for (int i = 0; i < Events; i++)
        {
            _messages[i] = orders[i].AssembleMessage(buffer, instanceId).ToArray();
            _signatures[i] = new byte[VerificationKey.SignatureSize];
            orders[i].CopySignatureTo(_signatures[i]);
        }

        if (_messages[0].Length != 176 || Raw_NSecVerify_OneCore() != 0 || Raw_NSecVerify_AllCores() != 0)
        {
            throw new InvalidOperationException("The orders' signatures do not verify over their assembled messages.");
        }
    }

    /// <summary>Signs the next orders, with new ids, on every core (not measured).</summary>
    [IterationSetup(Targets = new[] { nameof(Engine_SignedOrders), nameof(Engine_SignedOrders_TwoCallers), nameof(Engine_EdgeVerifyOnly) })]
    public void IterationSetupOrders()
    {
        foreach (PaymentOrder[] batch in _orders)
        {
            OrderFixture.SignOrders(_deviceKey!, _engine!.InstanceId, _nextId, batch);
            _nextId += BatchSize;
        }
    }

    /// <summary>Gives the transfers new ids (not measured).</summary>
    [IterationSetup(Target = nameof(Engine_PlainTransfers))]
    public void IterationSetupTransfers()
    {
        foreach (Transfer[] batch in _transfers)
        {
            OrderFixture.Payments(_nextId, batch);
            _nextId += BatchSize;
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

    /// <summary>Disposes the engine (and its store), deletes the directory, frees the key.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine = null;
        _deviceKey?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        _directory = null;
    }

    /// <summary>NSec's Ed25519 verify of 8,192 orders' messages, one after another on one thread: the mean is one verify.</summary>
    /// <returns>The number that do not verify (0).</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public int Raw_NSecVerify_OneCore() => VerifyRaw(0, Events);

    /// <summary>The same verifies in one contiguous slice per core, as the engine's edge splits a batch: the verification ceiling.</summary>
    /// <returns>The number that do not verify (0).</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public int Raw_NSecVerify_AllCores()
    {
        int refused = 0;
        int slices = Environment.ProcessorCount;
        Parallel.For(0, slices, () => 0, (slice, _, local) => local + VerifyRaw(Events * slice / slices, Events * (slice + 1) / slices), local => Interlocked.Add(ref refused, local));
        return refused;
    }

    /// <summary>Signed orders, 8 batches of 1,024 through the durable engine, one after another: verified at the edge on every core, applied, made durable.</summary>
    /// <returns>A task that completes when every batch is durable.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task Engine_SignedOrders()
    {
        LedgerEngine engine = _engine!;
        foreach (PaymentOrder[] batch in _orders)
        {
            _failed += await engine.ExecuteOrdersAsync(batch, _orderResults);
        }
    }

    /// <summary>
    /// The same orders from two concurrent callers, each submitting every other batch: one caller's batch is applied
    /// and made durable while the other's is verified, so the cores do not wait for the fsync.
    /// </summary>
    /// <returns>A task that completes when every batch is durable.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task Engine_SignedOrders_TwoCallers()
    {
        int[] failed = await Task.WhenAll(Task.Run(() => Caller(0, _orderResults)), Task.Run(() => Caller(1, _secondCallerResults)));
        _failed += failed[0] + failed[1];

        async Task<int> Caller(int first, OrderResult[] results)
        {
            int refused = 0;
            for (int b = first; b < _orders.Length; b += 2)
            {
                refused += await _engine!.ExecuteOrdersAsync(_orders[b], results);
            }

            return refused;
        }
    }

    /// <summary>
    /// The edge alone: the engine's internal <c>LedgerEngine.VerifyOrders</c>, the first step of
    /// <see cref="LedgerEngine.ExecuteOrdersAsync"/> (key lookup, message assembly, verify; one slice per core), on the
    /// same batches, nothing queued or applied. Splits <c>Engine_SignedOrders</c> into the edge and the rest.
    /// </summary>
    /// <returns>The number refused (0).</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public int Engine_EdgeVerifyOnly()
    {
        LedgerEngine engine = _engine!;
        int refused = 0;
        foreach (PaymentOrder[] batch in _orders)
        {
            refused += engine.VerifyOrders(batch, _orderResults, out _);
        }

        _failed += refused;
        return refused;
    }

    /// <summary>Plain transfers, 8 batches of 1,024 through the same durable engine, one after another.</summary>
    /// <returns>A task that completes when every batch is durable.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task Engine_PlainTransfers()
    {
        LedgerEngine engine = _engine!;
        foreach (Transfer[] batch in _transfers)
        {
            _failed += await engine.CreateTransfersAsync(batch, _transferResults);
        }
    }

    private int VerifyRaw(int from, int to)
    {
        NSec.Cryptography.PublicKey key = _rawKey!;
        int refused = 0;
        for (int i = from; i < to; i++)
        {
            refused += SignatureAlgorithm.Ed25519.Verify(key, _messages[i], _signatures[i]) ? 0 : 1;
        }

        return refused;
    }
}
