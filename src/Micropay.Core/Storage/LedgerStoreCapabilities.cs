namespace Micropay.Core.Storage;

/// <summary>The optional features an <see cref="ILedgerStore"/> offers.</summary>
/// <remarks>
/// A decorator (a store that wraps another and passes calls on) reports a feature only when it really passes it on:
/// typically its inner store's capabilities, less what it does not forward. A flag whose feature lies behind another
/// interface (<see cref="EncodedAppend"/>) counts only together with that interface: a decorator that forwards its inner
/// store's flags without implementing the interface loses the fast path but nothing else.
/// </remarks>
[Flags]
public enum LedgerStoreCapabilities
{
    /// <summary>Only the journal: append and read batches.</summary>
    None = 0,

    /// <summary><see cref="ILedgerStore.WriteSnapshotAsync"/> and <see cref="ILedgerStore.ReadLatestSnapshotAsync"/> work.</summary>
    Snapshots = 1 << 0,

    /// <summary>
    /// The store implements <see cref="IEncodedBatchAppender"/> and its <see cref="IEncodedBatchAppender.AppendEncoded"/>
    /// works: the engine then appends its own encoded buffer through it instead of <see cref="ILedgerStore.AppendAsync"/>
    /// (no copy of the batch, no second SHA-256, work overlapped with the device's write).
    /// </summary>
    EncodedAppend = 1 << 1,
}
