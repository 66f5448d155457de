using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// The operations an engine knows, in a fixed order (an operation's place is its <see cref="Operation.Index"/>).
/// <see cref="Default"/> is the one place where this build's operation kinds are registered.
/// </summary>
internal sealed class OperationRegistry
{
    public static readonly CreateAccountsOperation CreateAccounts = new();
    public static readonly CreateTransfersOperation CreateTransfers = new();
    public static readonly SetInstanceIdOperation SetInstanceId = new();
    public static readonly OpenChannelsOperation OpenChannels = new();
    public static readonly TopUpChannelsOperation TopUpChannels = new();
    public static readonly RedeemVouchersOperation RedeemVouchers = new();
    public static readonly RedeemTicksOperation RedeemTicks = new();
    public static readonly CloseChannelsOperation CloseChannels = new();
    public static readonly ManageKeysOperation ManageKeys = new();
    public static readonly ExecuteOrdersOperation ExecuteOrders = new(BatchOperation.ExecuteOrders, "ExecuteOrders", Identity.PaymentOrder.Size);
    public static readonly ExecuteOrdersOperation ExecuteCoSignedOrders = new(BatchOperation.ExecuteCoSignedOrders, "ExecuteCoSignedOrders", Identity.PaymentOrder.CoSignedSize);
    public static readonly OpenCoSignedChannelsOperation OpenCoSignedChannels = new();

    /// <summary>Every operation of this build. Add a new kind at the end (indexes of the others must not move).</summary>
    public static readonly OperationRegistry Default = new(
        CreateAccounts, CreateTransfers, SetInstanceId, OpenChannels, TopUpChannels, RedeemVouchers, RedeemTicks, CloseChannels,
        ManageKeys, ExecuteOrders, ExecuteCoSignedOrders, OpenCoSignedChannels);

    private readonly Operation?[] _byCode;
    private readonly Operation[] _all;

    /// <summary>Creates a registry; each operation takes its place as its index (tests extend <see cref="Default"/> at its end).</summary>
    /// <exception cref="ArgumentException">Two operations share a code, or an operation already sits at another index elsewhere.</exception>
    public OperationRegistry(params Operation[] operations)
    {
        _all = [.. operations];
        ushort maxCode = 0;
        for (int i = 0; i < operations.Length; i++)
        {
            Operation operation = operations[i];
            if (operation.Index != -1 && operation.Index != i)
            {
                throw new ArgumentException($"{operation} is registered at index {operation.Index} elsewhere; registries must agree on it.", nameof(operations));
            }

            operation.Index = i;
            maxCode = Math.Max(maxCode, (ushort)operation.Code);
            MaxEventSize = Math.Max(MaxEventSize, operation.EventSize);
        }

        _byCode = new Operation?[maxCode + 1];
        foreach (Operation operation in operations)
        {
            if (_byCode[(ushort)operation.Code] is { } other)
            {
                throw new ArgumentException($"{operation} and {other} share an operation code.", nameof(operations));
            }

            _byCode[(ushort)operation.Code] = operation;
        }
    }

    /// <summary>The operations, by index.</summary>
    public IReadOnlyList<Operation> All => _all;

    /// <summary>The largest event any operation encodes: the size of a batch's encode buffer per event.</summary>
    public int MaxEventSize { get; }

    /// <summary>Whether <paramref name="operation"/> is this registry's at its index.</summary>
    /// <remarks>Checked on every submit: an array read and a reference compare.</remarks>
    public bool Contains(Operation operation) => (uint)operation.Index < (uint)_all.Length && ReferenceEquals(_all[operation.Index], operation);

    /// <summary>The operation with a journal code, if this build knows it.</summary>
    public bool TryFind(BatchOperation code, out Operation operation)
    {
        operation = (ushort)code < _byCode.Length ? _byCode[(ushort)code]! : null!;
        return operation is not null;
    }

    /// <summary>The known operations, for messages: "CreateAccounts (code 1), CreateTransfers (code 2)".</summary>
    public string Describe() => string.Join(", ", All);
}

/// <summary>Creating accounts: 128-byte <see cref="Account"/> events, applied by <see cref="LedgerStateMachine.CreateAccounts"/>.</summary>
internal sealed class CreateAccountsOperation() : Operation<Account, CreateAccountResult>(BatchOperation.CreateAccounts, "CreateAccounts", Account.Size)
{
    public override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<Account> events, Span<CreateAccountResult> results) =>
        ledger.CreateAccounts(timestamp, events, results);

    public override void Encode(ReadOnlySpan<Account> events, Span<byte> destination) => Account.EncodeAll(events, destination);

    public override void Decode(ReadOnlySpan<byte> source, Span<Account> events) => Account.DecodeAll(source, events);

    public override bool IsLinked(in Account e) => (e.Flags & AccountFlags.Linked) != 0;

    public override long ToOutcome(CreateAccountResult result) => (long)result;

    public override CreateAccountResult FromOutcome(long outcome) => (CreateAccountResult)outcome;
}

/// <summary>Creating transfers: 128-byte <see cref="Transfer"/> events, applied by <see cref="LedgerStateMachine.CreateTransfers"/>.</summary>
internal sealed class CreateTransfersOperation() : Operation<Transfer, CreateTransferResult>(BatchOperation.CreateTransfers, "CreateTransfers", Transfer.Size)
{
    public override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<Transfer> events, Span<CreateTransferResult> results) =>
        ledger.CreateTransfers(timestamp, events, results);

    public override void Encode(ReadOnlySpan<Transfer> events, Span<byte> destination) => Transfer.EncodeAll(events, destination);

    public override void Decode(ReadOnlySpan<byte> source, Span<Transfer> events) => Transfer.DecodeAll(source, events);

    public override bool IsLinked(in Transfer e) => (e.Flags & TransferFlags.Linked) != 0;

    public override long ToOutcome(CreateTransferResult result) => (long)result;

    public override CreateTransferResult FromOutcome(long outcome) => (CreateTransferResult)outcome;
}
