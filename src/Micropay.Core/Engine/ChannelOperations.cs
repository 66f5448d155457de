using System.Buffers;
using System.Runtime.CompilerServices;
using Micropay.Core.Channels;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// What the operations over the ledger's extensions (channels, keys, orders) share: each encodes and decodes its events
/// record by record with the event type's own wire format. Their events are never linked, and their results are 32-bit
/// enums whose 0 means Ok.
/// </summary>
/// <typeparam name="TEvent">The operation's event.</typeparam>
/// <typeparam name="TResult">The per-event result.</typeparam>
internal abstract class RecordCodecOperation<TEvent, TResult> : Operation<TEvent, TResult>
    where TEvent : struct
    where TResult : unmanaged, Enum
{
    protected RecordCodecOperation(BatchOperation code, string name, int eventSize)
        : base(code, name, eventSize)
    {
        if (Unsafe.SizeOf<TResult>() != sizeof(uint))
        {
            throw new ArgumentException($"{typeof(TResult).Name} must be a 32-bit enum.", nameof(TResult));
        }
    }

    public sealed override void Encode(ReadOnlySpan<TEvent> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            EncodeRecord(events[i], destination.Slice(i * EventSize, EventSize));
        }
    }

    public sealed override void Decode(ReadOnlySpan<byte> source, Span<TEvent> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            if (!TryDecodeRecord(source.Slice(i * EventSize, EventSize), out events[i], out string? error))
            {
                // The store's checksums passed the record, so it was written so: never guess what it meant.
                throw new LedgerEngineException($"A journaled {Name} record (event {i} of its batch) does not parse: {error}.", null);
            }
        }
    }

    public sealed override bool IsLinked(in TEvent e) => false;

    public sealed override long ToOutcome(TResult result) => Unsafe.As<TResult, uint>(ref result);

    public sealed override TResult FromOutcome(long outcome)
    {
        uint value = (uint)outcome;
        return Unsafe.As<uint, TResult>(ref value);
    }

    /// <summary>Writes one event as its <see cref="Operation.EventSize"/>-byte journal record.</summary>
    protected abstract void EncodeRecord(in TEvent e, Span<byte> record);

    /// <summary>Reads one journal record; false with the format's reason when it does not parse.</summary>
    protected abstract bool TryDecodeRecord(ReadOnlySpan<byte> record, out TEvent e, out string? error);
}

/// <summary>
/// A record operation whose events apply one by one as one extension batch: the clock, expiries and deadlines advance
/// exactly as for a batch of transfers, and event <c>i</c> gets the batch's start plus <c>i</c>.
/// </summary>
/// <typeparam name="TEvent">The operation's event.</typeparam>
/// <typeparam name="TResult">The per-event result.</typeparam>
internal abstract class RecordOperation<TEvent, TResult>(BatchOperation code, string name, int eventSize) : RecordCodecOperation<TEvent, TResult>(code, name, eventSize)
    where TEvent : struct
    where TResult : unmanaged, Enum
{
    public sealed override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<TEvent> events, Span<TResult> results)
    {
        ulong start = ledger.BeginExtensionBatch(timestamp, events.Length);
        int failed = 0;
        for (int i = 0; i < events.Length; i++)
        {
            TResult result = ApplyOne(ledger, events[i], start + (ulong)i);
            results[i] = result;
            failed += Unsafe.As<TResult, uint>(ref result) == 0 ? 0 : 1;
        }

        return failed;
    }

    /// <summary>Applies one event at its timestamp.</summary>
    protected abstract TResult ApplyOne(LedgerStateMachine ledger, in TEvent e, ulong timestamp);
}

/// <summary>The channel operations: each event applies through the ledger's <see cref="ChannelBook"/>.</summary>
/// <typeparam name="TEvent">The operation's event.</typeparam>
internal abstract class ChannelOperation<TEvent>(BatchOperation code, string name, int eventSize) : RecordOperation<TEvent, ChannelResult>(code, name, eventSize)
    where TEvent : struct
{
    protected sealed override ChannelResult ApplyOne(LedgerStateMachine ledger, in TEvent e, ulong timestamp) => Apply(ChannelBook.Of(ledger), e, timestamp);

    /// <summary>Applies one event at its timestamp.</summary>
    protected abstract ChannelResult Apply(ChannelBook book, in TEvent e, ulong timestamp);

    /// <summary>A format's parse outcome as <see cref="RecordCodecOperation{TEvent, TResult}.TryDecodeRecord"/>'s.</summary>
    protected static bool Parsed(bool parsed, ChannelFormatError reason, out string? error)
    {
        error = parsed ? null : reason.ToString();
        return parsed;
    }
}

/// <summary>Opening channels: 256-byte <see cref="ChannelOpenRequest"/> records.</summary>
internal sealed class OpenChannelsOperation() : ChannelOperation<ChannelOpenRequest>(BatchOperation.OpenChannels, "OpenChannels", ChannelOpenRequest.Size)
{
    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in ChannelOpenRequest e, in JournalEdge edge, out bool signed)
    {
        signed = true;
        return JournalEdge.Refusal(EdgeVerification.VerifyOpen(e, edge.InstanceId, edge.Keys));
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelOpenRequest e, ulong timestamp) => book.Open(e, timestamp);

    protected override void EncodeRecord(in ChannelOpenRequest e, Span<byte> record) => e.Encode(record);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out ChannelOpenRequest e, out string? error) =>
        Parsed(ChannelOpenRequest.TryParse(record, out e, out ChannelFormatError reason), reason, out error);
}

/// <summary>
/// Opening channels with a step-up co-signature: 1088-byte records, the open's 256 bytes then the
/// <see cref="Identity.CoSignature"/> (all zeros for an open of the batch that has none).
/// </summary>
internal sealed class OpenCoSignedChannelsOperation() : ChannelOperation<ChannelOpenRequest>(BatchOperation.OpenCoSignedChannels, "OpenCoSignedChannels", ChannelOpenRequest.CoSignedSize)
{
    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in ChannelOpenRequest e, in JournalEdge edge, out bool signed)
    {
        signed = true;
        return JournalEdge.Refusal(EdgeVerification.VerifyOpen(e, edge.InstanceId, edge.Keys));
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelOpenRequest e, ulong timestamp) => book.Open(e, timestamp);

    protected override void EncodeRecord(in ChannelOpenRequest e, Span<byte> record) => e.EncodeRecord(record, ChannelOpenRequest.CoSignedSize);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out ChannelOpenRequest e, out string? error) =>
        ChannelOpenRequest.TryParseCoSigned(record, out e, out error);
}

/// <summary>Topping channels up: 128-byte <see cref="ChannelTopUp"/> records.</summary>
internal sealed class TopUpChannelsOperation() : ChannelOperation<ChannelTopUp>(BatchOperation.TopUpChannels, "TopUpChannels", ChannelTopUp.Size)
{
    protected override ChannelResult Apply(ChannelBook book, in ChannelTopUp e, ulong timestamp) => book.TopUp(e, timestamp);

    protected override void EncodeRecord(in ChannelTopUp e, Span<byte> record) => e.Encode(record);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out ChannelTopUp e, out string? error) =>
        Parsed(ChannelTopUp.TryParse(record, out e, out ChannelFormatError reason), reason, out error);
}

/// <summary>
/// Redeeming vouchers: each record is the 128-byte signed <see cref="Voucher"/> itself, so the journal keeps every
/// signature; the event carries the redemption's derived transfer id beside it (<see cref="VoucherRedemption"/>), which
/// decoding recomputes.
/// </summary>
internal sealed class RedeemVouchersOperation() : ChannelOperation<VoucherRedemption>(BatchOperation.RedeemVouchers, "RedeemVouchers", Voucher.Size)
{
    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in VoucherRedemption e, in JournalEdge edge, out bool signed)
    {
        signed = true;
        return JournalEdge.Refusal(EdgeVerification.VerifyVoucher(e.Voucher, edge.InstanceId, edge.Channels));
    }

    protected override ChannelResult Apply(ChannelBook book, in VoucherRedemption e, ulong timestamp) => book.Redeem(e, timestamp);

    protected override void EncodeRecord(in VoucherRedemption e, Span<byte> record) => e.Voucher.Encode(record);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out VoucherRedemption e, out string? error)
    {
        bool parsed = Parsed(Voucher.TryParse(record, out Voucher voucher, out ChannelFormatError reason), reason, out error);
        e = parsed ? VoucherRedemption.Of(voucher) : default;
        return parsed;
    }
}

/// <summary>
/// Redeeming hash-chain ticks: 128-byte records, the 64-byte <see cref="Tick"/> then 64 zero bytes (room for what a
/// later version may bind to a redemption, and the 128-byte multiple every channel record keeps).
/// </summary>
internal sealed class RedeemTicksOperation() : ChannelOperation<Tick>(BatchOperation.RedeemTicks, "RedeemTicks", RecordSize)
{
    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in Tick e, in JournalEdge edge, out bool signed)
    {
        signed = true;
        return JournalEdge.Refusal(EdgeVerification.VerifyTick(e, edge.Channels));
    }

    private const int RecordSize = 128;

    protected override ChannelResult Apply(ChannelBook book, in Tick e, ulong timestamp) => book.RedeemTick(e, timestamp);

    protected override void EncodeRecord(in Tick e, Span<byte> record)
    {
        e.Encode(record);
        record[Tick.Size..].Clear();
    }

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out Tick e, out string? error)
    {
        if (!Tick.TryParse(record[..Tick.Size], out e, out TickFormatError reason))
        {
            error = reason.ToString();
            return false;
        }

        error = record[Tick.Size..].ContainsAnyExcept((byte)0) ? "the record's last 64 bytes are not zero" : null;
        return error is null;
    }
}

/// <summary>Closing channels: 128-byte <see cref="ChannelClose"/> records.</summary>
internal sealed class CloseChannelsOperation() : ChannelOperation<ChannelClose>(BatchOperation.CloseChannels, "CloseChannels", ChannelClose.Size)
{
    public override bool CarriesSignatures => true;

    public override string? RecheckEdge(in ChannelClose e, in JournalEdge edge, out bool signed)
    {
        // A cooperative close carries no signature (the payee's, through the operator); its channel is still checked.
        signed = e.Kind != ChannelCloseKind.Cooperative;
        return JournalEdge.Refusal(EdgeVerification.VerifyClose(e, edge.InstanceId, edge.Channels));
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelClose e, ulong timestamp) => book.Close(e, timestamp);

    protected override void EncodeRecord(in ChannelClose e, Span<byte> record) => e.Encode(record);

    protected override bool TryDecodeRecord(ReadOnlySpan<byte> record, out ChannelClose e, out string? error) =>
        Parsed(ChannelClose.TryParse(record, out e, out ChannelFormatError reason), reason, out error);
}

/// <summary>The channels as a snapshot section ("channels"; the layout is in ChannelBook.Snapshot.cs).</summary>
internal sealed class ChannelSnapshotSection(LedgerStateMachine ledger) : SnapshotSection(SectionName)
{
    /// <summary>The section's name in the envelope.</summary>
    public const string SectionName = "channels";

    public override long Size => ChannelBook.Of(ledger).SnapshotSize;

    public override void Write(IBufferWriter<byte> destination) => ChannelBook.Of(ledger).WriteSnapshot(destination);
}
