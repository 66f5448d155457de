using System.Buffers;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>Key registry changes: 1024-byte <see cref="KeyOperation"/> records, applied by the ledger's <see cref="IdentityBook"/>.</summary>
internal sealed class ManageKeysOperation() : RecordOperation<KeyOperation, KeyResult>(BatchOperation.ManageKeys, "ManageKeys", KeyOperation.Size)
{
    protected override KeyResult ApplyOne(LedgerStateMachine ledger, in KeyOperation e, ulong timestamp) => IdentityBook.Of(ledger).Apply(e, timestamp);

    protected override void EncodeRecord(in KeyOperation e, Span<byte> record) => e.Encode(record);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out KeyOperation e, out string? error)
    {
        bool parsed = KeyOperation.TryParse(record, out e, out IdentityFormatError reason);
        error = parsed ? null : reason.ToString();
        return parsed;
    }
}

/// <summary>
/// Signed payment orders: <see cref="PaymentOrder"/> records of <paramref name="recordSize"/> bytes (256 without
/// co-signatures; 1024 for a batch with at least one), applied by the ledger's <see cref="IdentityBook"/> as one gated
/// transfer batch (the transfers' look-ahead pipeline, the key's checks before each).
/// </summary>
internal sealed class ExecuteOrdersOperation(BatchOperation code, string name, int recordSize) : RecordCodecOperation<PaymentOrder, OrderResult>(code, name, recordSize)
{
    public override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<PaymentOrder> events, Span<OrderResult> results) =>
        IdentityBook.Of(ledger).Execute(timestamp, events, results);

    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in PaymentOrder e, in JournalEdge edge, out bool signed)
    {
        signed = true;
        return JournalEdge.Refusal(EdgeVerification.VerifyOrder(e, edge.InstanceId, edge.Keys));
    }

    protected override void EncodeRecord(in PaymentOrder e, Span<byte> record) => e.EncodeRecord(record, EventSize);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out PaymentOrder e, out string? error)
    {
        bool parsed = PaymentOrder.TryParse(record, out e, out IdentityFormatError reason);
        error = parsed ? null : reason.ToString();
        return parsed;
    }
}

/// <summary>The key registry as a snapshot section (layout in IdentityBook.Snapshot.cs).</summary>
internal sealed class IdentitySnapshotSection(LedgerStateMachine ledger) : SnapshotSection(IdentityBook.SectionName)
{
    public override long Size => IdentityBook.Of(ledger).SnapshotSize;

    public override void Write(IBufferWriter<byte> destination) => IdentityBook.Of(ledger).WriteSnapshot(destination);
}
