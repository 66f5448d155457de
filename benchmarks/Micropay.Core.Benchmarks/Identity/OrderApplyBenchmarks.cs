using BenchmarkDotNet.Attributes;
using Micropay.Core.Benchmarks.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;

namespace Micropay.Core.Benchmarks.Identity;

/// <summary>
/// The writer's cost of a payment order, without the engine and without signatures: orders applied through the engine's
/// own operation description (<c>OperationRegistry.ExecuteOrders.Apply</c>, the writer thread's call and the journal
/// replay's) on a bare <see cref="LedgerStateMachine"/>, against <see cref="LedgerStateMachine.CreateTransfers"/> of as
/// many plain transfers (the baseline): what the key and policy checks add to a transfer.
/// </summary>
/// <remarks>
/// <para>
/// Setup: 16 batches of 8,189 orders (131,024), each paying 1 from the payer to the payee with its own id, signed once
/// by the payer's device key in the global setup, and plain transfers with the same ids, accounts and amounts. The
/// writer never verifies (the engine's edge did), so the signatures make no difference here; every order is a real
/// signed one all the same.
/// </para>
/// <para>
/// Each iteration applies all 131,024 events to a new ledger, made by the (unmeasured) iteration setup: room for every
/// event, the instance id, <see cref="ChannelFixture"/>'s three accounts and funding, the device key registered with a
/// policy that limits each payment, the payee (an allowed-payees list), the ledger, and the spending within a rolling
/// window of 4,096 ns of ledger time (limit 10^6: never refused). A bare ledger stamps consecutive events 1 ns apart,
/// so the window holds the last 4,096 payments and every order evicts one and adds one: a busy key's steady state,
/// whatever the window's length. The setup fills the window first with 4,096 warm-up orders (so its ring is at its
/// final size and the measured pass allocates nothing); the baseline's ledger gets 4,096 warm-up transfers instead, so
/// both start from ledgers of the same size. The global setup applies one whole pass and checks every result is
/// <see cref="OrderResult.Ok"/> and the window holds 4,096 payments at the end; each iteration's cleanup checks no
/// measured event failed. One invocation per iteration (a new ledger each time); the mean is per event.
/// </para>
/// <para>
/// The target: applying an order costs at most 1.15 × applying a plain transfer (a <c>Ratio</c> of at most 1.15).
/// </para>
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(OrderThroughputConfig))]
[InvocationCount(1, 1)]
public class OrderApplyBenchmarks
{
    /// <summary>Events per batch: the engine's largest batch.</summary>
    public const int BatchSize = LedgerEngineOptions.DefaultMaxBatchSize;

    /// <summary>Batches per invocation.</summary>
    public const int Batches = 16;

    /// <summary>The rolling window's length in nanoseconds of ledger time, and so the payments it holds (one per ns).</summary>
    public const int WindowEvents = 4_096;

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
    private SigningKey? _deviceKey;
    private LedgerStateMachine? _ledger;
    private int _failed;

    /// <summary>Signs the orders and the warm-up orders, makes the transfers, and checks one pass of orders.</summary>
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

        IterationSetupOrders();
        Ledger_ExecuteOrders();
        IterationCleanup();
        IdentityBook book = IdentityBook.Of(_ledger!);
        if (!book.TryGet(KeyIds.Of(_deviceKey.VerificationKey), out KeyState key) ||
            key.Window.SumAt(_ledger!.LastTimestamp, key.Policy.WindowLength) != WindowEvents * OrderFixture.Amount || key.Window.Count != WindowEvents)
        {
            throw new InvalidOperationException($"The device key's window does not hold the last {WindowEvents} payments.");
        }
    }

    /// <summary>A new ledger with the accounts, the key, and the window filled by the warm-up orders (not measured).</summary>
    [IterationSetup(Target = nameof(Ledger_ExecuteOrders))]
    public void IterationSetupOrders()
    {
        _ledger = NewLedger();
        if (OperationRegistry.ExecuteOrders.Apply(_ledger, 10, _warmUpOrders, new OrderResult[WindowEvents]) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the warm-up orders.");
        }
    }

    /// <summary>A new ledger with the accounts, the key, and as many warm-up transfers (not measured).</summary>
    [IterationSetup(Target = nameof(Ledger_CreateTransfers))]
    public void IterationSetupTransfers()
    {
        _ledger = NewLedger();
        if (_ledger.CreateTransfers(10, _warmUpTransfers, new CreateTransferResult[WindowEvents]) != 0)
        {
            throw new InvalidOperationException("The ledger refused some of the warm-up transfers.");
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

    /// <summary>Frees the key.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _ledger = null;
        _deviceKey?.Dispose();
    }

    /// <summary>The ledger applying 16 batches of 8,189 plain transfers.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public void Ledger_CreateTransfers()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (Transfer[] batch in _transfers)
        {
            _failed += ledger.CreateTransfers(20, batch, _transferResults);
        }
    }

    /// <summary>The writer applying 16 batches of 8,189 payment orders through the operation description: key, policy, window, transfer.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public void Ledger_ExecuteOrders()
    {
        LedgerStateMachine ledger = _ledger!;
        foreach (PaymentOrder[] batch in _orders)
        {
            _failed += OperationRegistry.ExecuteOrders.Apply(ledger, 20, batch, _orderResults);
        }
    }

    private LedgerStateMachine NewLedger()
    {
        var ledger = new LedgerStateMachine(16, Events + WindowEvents + 16);
        OrderFixture.SetUpLedger(ledger, InstanceId, _deviceKey!, _policy);
        return ledger;
    }
}
