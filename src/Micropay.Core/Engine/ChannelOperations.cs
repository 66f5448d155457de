using Micropay.Core.Channels;
using Micropay.Core.Ledger;
using System.Buffers;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// What the channel operations share: each applies its events through the ledger's <see cref="ChannelBook"/>, as one
/// extension batch (the clock, expiries and deadlines advance exactly as for a batch of transfers). Channel events are
/// never linked.
/// </summary>
/// <typeparam name="TEvent">The operation's event.</typeparam>
internal abstract class ChannelOperation<TEvent>(BatchOperation code, string name, int eventSize) : Operation<TEvent, ChannelResult>(code, name, eventSize)
    where TEvent : struct
{
    public sealed override int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<TEvent> events, Span<ChannelResult> results)
    {
        ChannelBook book = ChannelBook.Of(ledger);
        ulong start = ledger.BeginExtensionBatch(timestamp, events.Length);
        int failed = 0;
        for (int i = 0; i < events.Length; i++)
        {
            ChannelResult result = Apply(book, events[i], start + (ulong)i);
            results[i] = result;
            failed += result == ChannelResult.Ok ? 0 : 1;
        }

        return failed;
    }

    public sealed override bool IsLinked(in TEvent e) => false;

    public sealed override long ToOutcome(ChannelResult result) => (long)result;

    public sealed override ChannelResult FromOutcome(long outcome) => (ChannelResult)outcome;

    /// <summary>Applies one event at its timestamp.</summary>
    protected abstract ChannelResult Apply(ChannelBook book, in TEvent e, ulong timestamp);

    /// <summary>A journaled record that does not parse: the store's checksums passed it, so the bytes were written so.</summary>
    protected LedgerEngineException Unreadable(int index, ChannelFormatError error) =>
        new($"A journaled {Name} record (event {index} of its batch) does not parse: {error}.", null);
}

/// <summary>Opening channels: 256-byte <see cref="ChannelOpenRequest"/> records.</summary>
internal sealed class OpenChannelsOperation() : ChannelOperation<ChannelOpenRequest>(BatchOperation.OpenChannels, "OpenChannels", ChannelOpenRequest.Size)
{
    public override void Encode(ReadOnlySpan<ChannelOpenRequest> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            events[i].Encode(destination.Slice(i * ChannelOpenRequest.Size, ChannelOpenRequest.Size));
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<ChannelOpenRequest> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            if (!ChannelOpenRequest.TryParse(source.Slice(i * ChannelOpenRequest.Size, ChannelOpenRequest.Size), out events[i], out ChannelFormatError error))
            {
                throw Unreadable(i, error);
            }
        }
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelOpenRequest e, ulong timestamp) => book.Open(e, timestamp);
}

/// <summary>Topping channels up: 128-byte <see cref="ChannelTopUp"/> records.</summary>
internal sealed class TopUpChannelsOperation() : ChannelOperation<ChannelTopUp>(BatchOperation.TopUpChannels, "TopUpChannels", ChannelTopUp.Size)
{
    public override void Encode(ReadOnlySpan<ChannelTopUp> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            events[i].Encode(destination.Slice(i * ChannelTopUp.Size, ChannelTopUp.Size));
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<ChannelTopUp> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            if (!ChannelTopUp.TryParse(source.Slice(i * ChannelTopUp.Size, ChannelTopUp.Size), out events[i], out ChannelFormatError error))
            {
                throw Unreadable(i, error);
            }
        }
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelTopUp e, ulong timestamp) => book.TopUp(e, timestamp);
}

/// <summary>Redeeming vouchers: each record is the 128-byte signed <see cref="Voucher"/> itself, so the journal keeps every signature.</summary>
internal sealed class RedeemVouchersOperation() : ChannelOperation<Voucher>(BatchOperation.RedeemVouchers, "RedeemVouchers", Voucher.Size)
{
    public override void Encode(ReadOnlySpan<Voucher> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            events[i].Encode(destination.Slice(i * Voucher.Size, Voucher.Size));
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<Voucher> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            if (!Voucher.TryParse(source.Slice(i * Voucher.Size, Voucher.Size), out events[i], out ChannelFormatError error))
            {
                throw Unreadable(i, error);
            }
        }
    }

    protected override ChannelResult Apply(ChannelBook book, in Voucher e, ulong timestamp) => book.Redeem(e, timestamp);
}

/// <summary>
/// Redeeming hash-chain ticks: 128-byte records, the 64-byte <see cref="Tick"/> then 64 zero bytes (room for what a
/// later version may bind to a redemption, and the 128-byte multiple every channel record keeps).
/// </summary>
internal sealed class RedeemTicksOperation() : ChannelOperation<Tick>(BatchOperation.RedeemTicks, "RedeemTicks", RecordSize)
{
    private const int RecordSize = 128;

    public override void Encode(ReadOnlySpan<Tick> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            Span<byte> record = destination.Slice(i * RecordSize, RecordSize);
            events[i].Encode(record);
            record[Tick.Size..].Clear();
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<Tick> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            ReadOnlySpan<byte> record = source.Slice(i * RecordSize, RecordSize);
            if (!Tick.TryParse(record[..Tick.Size], out events[i], out TickFormatError error) || record[Tick.Size..].ContainsAnyExcept((byte)0))
            {
                throw new LedgerEngineException($"A journaled {Name} record (event {i} of its batch) does not parse: {error}.", null);
            }
        }
    }

    protected override ChannelResult Apply(ChannelBook book, in Tick e, ulong timestamp) => book.RedeemTick(e, timestamp);
}

/// <summary>Closing channels: 128-byte <see cref="ChannelClose"/> records.</summary>
internal sealed class CloseChannelsOperation() : ChannelOperation<ChannelClose>(BatchOperation.CloseChannels, "CloseChannels", ChannelClose.Size)
{
    public override void Encode(ReadOnlySpan<ChannelClose> events, Span<byte> destination)
    {
        for (int i = 0; i < events.Length; i++)
        {
            events[i].Encode(destination.Slice(i * ChannelClose.Size, ChannelClose.Size));
        }
    }

    public override void Decode(ReadOnlySpan<byte> source, Span<ChannelClose> events)
    {
        for (int i = 0; i < events.Length; i++)
        {
            if (!ChannelClose.TryParse(source.Slice(i * ChannelClose.Size, ChannelClose.Size), out events[i], out ChannelFormatError error))
            {
                throw Unreadable(i, error);
            }
        }
    }

    protected override ChannelResult Apply(ChannelBook book, in ChannelClose e, ulong timestamp) => book.Close(e, timestamp);
}

/// <summary>The channels as a snapshot section ("channels"; the layout is in ChannelBook.Snapshot.cs).</summary>
internal sealed class ChannelSnapshotSection(LedgerStateMachine ledger) : SnapshotSection(SectionName)
{
    /// <summary>The section's name in the envelope.</summary>
    public const string SectionName = "channels";

    public override long Size => ChannelBook.Of(ledger).SnapshotSize;

    public override void Write(IBufferWriter<byte> destination) => ChannelBook.Of(ledger).WriteSnapshot(destination);
}
