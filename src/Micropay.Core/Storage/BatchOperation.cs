namespace Micropay.Core.Storage;

/// <summary>What the events of a <see cref="CommitBatch"/> are: which ledger operation the engine applied.</summary>
public enum BatchOperation : ushort
{
    /// <summary>Not an operation; never valid in a stored batch.</summary>
    None = 0,

    /// <summary>The events are <see cref="Ledger.Account"/> records passed to <see cref="Ledger.LedgerStateMachine.CreateAccounts"/>.</summary>
    CreateAccounts = 1,

    /// <summary>The events are <see cref="Ledger.Transfer"/> records passed to <see cref="Ledger.LedgerStateMachine.CreateTransfers"/>.</summary>
    CreateTransfers = 2,
}
