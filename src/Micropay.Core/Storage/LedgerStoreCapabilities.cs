namespace Micropay.Core.Storage;

/// <summary>The optional features an <see cref="ILedgerStore"/> offers.</summary>
[Flags]
public enum LedgerStoreCapabilities
{
    /// <summary>Only the journal: append and read batches.</summary>
    None = 0,

    /// <summary><see cref="ILedgerStore.WriteSnapshotAsync"/> and <see cref="ILedgerStore.ReadLatestSnapshotAsync"/> work.</summary>
    Snapshots = 1 << 0,
}
