using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>A journal row.</summary>
/// <param name="Payment">The payment as journaled.</param>
/// <param name="State">Its state.</param>
/// <param name="Reason">For an abort, the result that caused it.</param>
/// <param name="Coordinator">The coordinator that owns it.</param>
public readonly record struct JournalRow(Payment Payment, JournalState State, CreateTransferResult Reason, long Coordinator);
