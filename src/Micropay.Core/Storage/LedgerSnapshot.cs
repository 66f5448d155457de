namespace Micropay.Core.Storage;

/// <summary>
/// A snapshot of the ledger's state after a given batch, as bytes the engine produced and will read back; the
/// store keeps them opaque and guarantees only that they come back intact or not at all.
/// </summary>
/// <param name="BatchNumber">The last batch whose effects the snapshot includes; replay continues from the next one.</param>
/// <param name="State">The snapshot's bytes.</param>
public readonly record struct LedgerSnapshot(ulong BatchNumber, ReadOnlyMemory<byte> State);
