namespace Micropay.Core.Storage.Specification;

/// <summary>What a <see cref="FaultInjectingLedgerStore"/> does to one append.</summary>
public enum AppendFault
{
    /// <summary>Pass the append through to the inner store unchanged.</summary>
    None = 0,

    /// <summary>Throw <see cref="LedgerStoreException"/> without calling the inner store: the batch is not written,
    /// so it must be absent after reopening.</summary>
    FailBeforeWrite = 1,

    /// <summary>Let the inner store append (so the batch is durable), then throw <see cref="LedgerStoreException"/>:
    /// the acknowledgement is lost above the store and the caller sees an unknown outcome, which a retry of the identical
    /// batch must resolve (through the same wrapper, whose inner store did not fail, or after a reopen).</summary>
    FailAfterWrite = 2,

    /// <summary>Wait <see cref="FaultInjectingLedgerStore.Delay"/> (honouring the append's token) before passing the
    /// append through: a slow store. Cancelled during the wait, the append throws
    /// <see cref="OperationCanceledException"/> and nothing is written.</summary>
    DelayBeforeWrite = 3,

    /// <summary>Let the inner store append, then wait <see cref="FaultInjectingLedgerStore.Delay"/> (honouring the
    /// append's token) before completing: a slow or torn acknowledgement. Cancelled during the wait, the append throws
    /// <see cref="OperationCanceledException"/>, so it is not reported durable although it is.</summary>
    DelayAfterWrite = 4,
}
