using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// Where an order's apply time goes, beyond a plain transfer's (<see cref="OrderApplyBenchmarks"/>): the same events
/// applied in steps that add one part of <c>IdentityBook.Execute</c> at a time, on the same fresh ledgers.
/// </summary>
/// <remarks>
/// <para>
/// The ledger, events and warm-up are <see cref="OrderApplyBenchmarks"/>' (131,024 events per invocation on a new ledger
/// per iteration; 4,096 warm-up transfers, or orders for <c>Ledger_ExecuteOrders</c>). The steps:
/// </para>
/// <list type="bullet">
/// <item><c>Ledger_CreateTransfers</c> (baseline): the batch path, with its look-ahead prefetch pipeline.</item>
/// <item><c>Ledger_CreateOrderTransfer</c>: the same transfers one at a time through the ledger's single-transfer path
/// for orders (<c>LedgerStateMachine.CreateOrderTransfer</c>, after <c>BeginExtensionBatch</c> as the order operation
/// calls it): the cost of leaving the batch pipeline.</item>
/// <item><c>Ledger_ProbeAndCreateOrderTransfer</c>: plus <c>IsTransferIdUsed</c> before each, the idempotency probe
/// <c>Execute</c> makes before the key checks (the transfer's own checks probe the index again).</item>
/// <item><c>Ledger_ProbeAndCreateFromOrders</c>: the same, each transfer read out of its order
/// (<c>PaymentOrder.ToTransfer</c>; an order is a larger struct than a transfer): the ledger's part of an order.</item>
/// <item><c>Ledger_ExecuteOrders</c>: the whole order path (plus the key lookup and checks, the policy's checks, the
/// window's eviction and insertion).</item>
/// </list>
/// <para>
/// And two parts alone, per operation on a ledger already holding the window: <c>KeyLookup</c> (the registry's
/// <c>Dictionary&lt;UInt128, KeyState&gt;</c> lookup of the order's key id) and <c>WindowEvictAndAdd</c> (one
/// eviction and one insertion on a 4,096-payment <c>SpendWindow</c> in its steady state).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(OrderThroughputConfig))]
[InvocationCount(1, 1)]
public class OrderApplyBreakdownBenchmarks
{
    private const int BatchSize = OrderApplyBenchmarks.BatchSize;
    private const int Batches = OrderApplyBenchmarks.Batches;
    private const int WindowEvents = OrderApplyBenchmarks.WindowEvents;
    private const int Events = BatchSize * Batches;
    private static readonly UInt128 InstanceId = new(0x1111_2222_3333_4444UL, 0x5555_6666_7777_8888UL);
    private static readonly UInt128 FirstId = 1_000_000;

    private readonly OrderResult[] _orderResults = new OrderResult[BatchSize];
    private readonly CreateTransferResult[] _transferResults = new CreateTransferResult[BatchSize];
    private readonly SpendingPolicy _policy = OrderFixture.Policy(windowLength: WindowEvents, windowLimit: 1_000_000);
    private PaymentOrder[][] _orders = [];
    private Transfer[][] _transfers = [];
    private PaymentOrder[] _warmUpOrders = [];
    private Transfer[] _warmUpTransfers = [];
    private Dictionary<UInt128, KeyState> _keys = [];
    private UInt128[] _keyIds = [];
    private SpendWindow _window = new();
    private ulong _windowTime;
    private SigningKey? _deviceKey;
    private LedgerStateMachine? _ledger;
    private int _failed;

    /// <summary>Signs the orders, makes the transfers, and builds the parts measured alone.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _deviceKey = ChannelFixture.PayerKey();
        _warmUpOrders = new PaymentOrder[WindowEvents];
        _warmUpTransfers = new Transfer[WindowEvents];
        OrderFixture.SignOrders(_deviceKey, InstanceId, FirstId, _warmUpOrders);
        OrderFixture.Payments(FirstId, _warmUpTransfers);
        _orders = new PaymentOrder[Batches][];
        _transfers = new Transfer[Batches][];
        for (int b = 0; b < Batches; b++)
        {
            UInt128 first = FirstId + WindowEvents + (UInt128)(ulong)(b * BatchSize);
            _orders[b] = new PaymentOrder[BatchSize];
            _transfers[b] = new Transfer[BatchSize];
            OrderFixture.SignOrders(_deviceKey, InstanceId, first, _orders[b]);
            OrderFixture.Payments(first, _transfers[b]);
        }

        // The registry's dictionary as the ledger holds it (one key), looked up with the orders' key ids.
        LedgerStateMachine ledger = NewLedger();
        IdentityBook.Of(ledger).TryGet(KeyIds.Of(_deviceKey.VerificationKey), out KeyState key);
        _keys = new Dictionary<UInt128, KeyState> { [key.KeyId] = key };
        _keyIds = [.. Enumerable.Repeat(key.KeyId, Events)];
        for (int i = 0; i < WindowEvents; i++)
        {
            _window.Add(++_windowTime, 1);
        }
    }

    /// <summary>A new ledger with the accounts, the key, and 4,096 warm-up transfers (not measured).</summary>
    [IterationSetup(Targets = new[] { nameof(Ledger_CreateTransfers), nameof(Ledger_CreateOrderTransfer), nameof(Ledger_ProbeAndCreateOrderTransfer), nameof(Ledger_ProbeAndCreateFromOrders) })]
    public void IterationSetupTransfers()
    {
        _ledger = NewLedger();
        _failed += _ledger.CreateTransfers(10, _warmUpTransfers, new CreateTransferResult[WindowEvents]);
    }

    /// <summary>A new ledger with the accounts, the key, and the window filled by 4,096 warm-up orders (not measured).</summary>
    [IterationSetup(Target = nameof(Ledger_ExecuteOrders))]
    public void IterationSetupOrders()
    {
        _ledger = NewLedger();
        _failed += OperationRegistry.ExecuteOrders.Apply(_ledger, 10, _warmUpOrders, new OrderResult[WindowEvents]);
    }

    /// <summary>Fails the run if an event was refused.</summary>
    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_failed != 0)
        {
            throw new InvalidOperationException($"{_failed} events failed; the benchmark must measure the success path.");
        }
    }

    /// <summary>Frees the key.</summary>
    [GlobalCleanup]
    public void GlobalCleanup() => _deviceKey?.Dispose();

    /// <summary>The batch path: 16 batches of 8,189 plain transfers.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public void Ledger_CreateTransfers()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (Transfer[] batch in _transfers)
        {
            _failed += ledger.CreateTransfers(20, batch, _transferResults);
        }
    }

    /// <summary>The same transfers through the single-transfer path orders use.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void Ledger_CreateOrderTransfer()
    {
        LedgerStateMachine ledger = _ledger!;
        int failed = 0;
        foreach (Transfer[] batch in _transfers)
        {
            ulong start = ledger.BeginExtensionBatch(20, batch.Length);
            for (int i = 0; i < batch.Length; i++)
            {
                failed += ledger.CreateOrderTransfer(batch[i], start + (ulong)i) == CreateTransferResult.Ok ? 0 : 1;
            }
        }

        _failed += failed;
    }

    /// <summary>The single-transfer path with the idempotency probe <c>Execute</c> makes first.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void Ledger_ProbeAndCreateOrderTransfer()
    {
        LedgerStateMachine ledger = _ledger!;
        int failed = 0;
        foreach (Transfer[] batch in _transfers)
        {
            ulong start = ledger.BeginExtensionBatch(20, batch.Length);
            for (int i = 0; i < batch.Length; i++)
            {
                failed += ledger.IsTransferIdUsed(batch[i].Id) ? 1 : 0;
                failed += ledger.CreateOrderTransfer(batch[i], start + (ulong)i) == CreateTransferResult.Ok ? 0 : 1;
            }
        }

        _failed += failed;
    }

    /// <summary>The same, reading each transfer out of its order (<c>PaymentOrder.ToTransfer</c>): the ledger's part of an order, without the identity checks.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void Ledger_ProbeAndCreateFromOrders()
    {
        LedgerStateMachine ledger = _ledger!;
        int failed = 0;
        foreach (PaymentOrder[] batch in _orders)
        {
            ulong start = ledger.BeginExtensionBatch(20, batch.Length);
            for (int i = 0; i < batch.Length; i++)
            {
                Transfer transfer = batch[i].ToTransfer();
                failed += ledger.IsTransferIdUsed(transfer.Id) ? 1 : 0;
                failed += ledger.CreateOrderTransfer(transfer, start + (ulong)i) == CreateTransferResult.Ok ? 0 : 1;
            }
        }

        _failed += failed;
    }

    /// <summary>The whole order path: 16 batches of 8,189 orders through the operation description.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void Ledger_ExecuteOrders()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (PaymentOrder[] batch in _orders)
        {
            _failed += OperationRegistry.ExecuteOrders.Apply(ledger, 20, batch, _orderResults);
        }
    }

    /// <summary>The registry's key lookup alone, once per order.</summary>
    /// <returns>How many were found.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public int KeyLookup()
    {
        Dictionary<UInt128, KeyState> keys = _keys;
        int found = 0;
        foreach (UInt128 id in _keyIds)
        {
            found += keys.TryGetValue(id, out _) ? 1 : 0;
        }

        return found;
    }

    /// <summary>One eviction and one insertion per order on a full 4,096-payment window: the window's part of an order.</summary>
    /// <returns>The window's sum.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public UInt128 WindowEvictAndAdd()
    {
        SpendWindow window = _window;
        ulong t = _windowTime;
        for (int i = 0; i < Events; i++)
        {
            t++;
            window.Evict(t, WindowEvents);
            if (window.Fits(1, 1_000_000))
            {
                window.Add(t, 1);
            }
        }

        _windowTime = t;
        return window.Sum;
    }

    private LedgerStateMachine NewLedger()
    {
        var ledger = new LedgerStateMachine(16, Events + WindowEvents + 16);
        OrderFixture.SetUpLedger(ledger, InstanceId, _deviceKey!, _policy);
        return ledger;
    }
}
