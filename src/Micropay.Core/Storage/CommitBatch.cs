namespace Micropay.Core.Storage;

/// <summary>
/// One batch the engine applied to the ledger, as the journal stores it: a <see cref="CommitBatchHeader"/> and
/// the batch's events as fixed-size records (128 bytes for accounts and transfers; the header says the size), in order.
/// </summary>
/// <remarks>
/// <para>Encoding: the 128-byte header (see <see cref="CommitBatchHeader"/>) followed by
/// <c>EventCount</c> records of <c>EventSize</c> bytes each, so an encoded batch is <c>128 + EventCount * EventSize</c> bytes.
/// The hash that chains batches (<see cref="CommitBatchHeader.PreviousBatchHash"/>) is SHA-256 of those bytes.</para>
/// <para>The event records are opaque to storage: stores keep and return them byte for byte.</para>
/// <para>A value type over caller-owned memory, so that appending allocates nothing; <see cref="Events"/> must not
/// change while a store is appending the batch.</para>
/// </remarks>
public readonly struct CommitBatch
{
    /// <summary>The size of an account or transfer record in bytes, and of every event a header without an event size holds: 128.</summary>
    public const int EventSize = 128;

    /// <summary>The most events one batch may hold.</summary>
    public const int MaxEventCount = 1 << 20;

    /// <summary>The most bytes of events one batch may hold (so an encoded batch stays well under 2 GiB): 128 MiB.</summary>
    public const long MaxEventsLength = (long)MaxEventCount * EventSize;

    /// <summary>Creates a batch.</summary>
    /// <param name="header">The header; its <see cref="CommitBatchHeader.EventCount"/> must match <paramref name="events"/>.</param>
    /// <param name="events">The event records: exactly <c>header.EventCount * header.EventSize</c> bytes.</param>
    /// <exception cref="ArgumentException">The events' length does not match the header, or there are too many.</exception>
    public CommitBatch(CommitBatchHeader header, ReadOnlyMemory<byte> events)
    {
        if (header.EventCount > MaxEventCount)
        {
            throw new ArgumentException($"A batch holds at most {MaxEventCount} events; the header says {header.EventCount}.", nameof(header));
        }

        if (header.EventsLength > MaxEventsLength)
        {
            throw new ArgumentException($"A batch holds at most {MaxEventsLength} bytes of events; the header says {header.EventsLength}.", nameof(header));
        }

        if (events.Length != header.EventsLength)
        {
            throw new ArgumentException(
                $"The header says {header.EventCount} events of {header.EventSize} bytes, which is {header.EventsLength} bytes; {events.Length} bytes were given.",
                nameof(events));
        }

        Header = header;
        Events = events;
    }

    /// <summary>The batch's header.</summary>
    public CommitBatchHeader Header { get; }

    /// <summary>The batch's event records, <see cref="CommitBatchHeader.EventSize"/> bytes each.</summary>
    public ReadOnlyMemory<byte> Events { get; }

    /// <summary>The batch's number (from the header).</summary>
    public ulong BatchNumber => Header.BatchNumber;

    /// <summary>The length of the encoded batch: <c>128 + EventCount * EventSize</c>.</summary>
    public int EncodedLength => CommitBatchHeader.Size + Events.Length;

    /// <summary>Writes the encoded batch.</summary>
    /// <param name="destination">At least <see cref="EncodedLength"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void Encode(Span<byte> destination)
    {
        if (!TryEncode(destination, out _))
        {
            throw new ArgumentException($"The destination must hold at least {EncodedLength} bytes.", nameof(destination));
        }
    }

    /// <summary>Writes the encoded batch if it fits.</summary>
    /// <param name="destination">Where to write.</param>
    /// <param name="bytesWritten"><see cref="EncodedLength"/> on success, else 0.</param>
    /// <returns>Whether the batch fit.</returns>
    public bool TryEncode(Span<byte> destination, out int bytesWritten)
    {
        int length = EncodedLength;
        if (destination.Length < length)
        {
            bytesWritten = 0;
            return false;
        }

        Header.Encode(destination);
        Events.Span.CopyTo(destination[CommitBatchHeader.Size..]);
        bytesWritten = length;
        return true;
    }

    /// <summary>Reads an encoded batch. The returned batch's events are a slice of <paramref name="source"/> (no copy).</summary>
    /// <param name="source">Exactly one encoded batch.</param>
    /// <param name="batch">The batch, when the result is <see cref="CommitBatchParseResult.Ok"/>.</param>
    /// <returns>What is wrong with the bytes, or <see cref="CommitBatchParseResult.Ok"/>.</returns>
    public static CommitBatchParseResult TryParse(ReadOnlyMemory<byte> source, out CommitBatch batch)
    {
        batch = default;
        CommitBatchParseResult result = CommitBatchHeader.TryParse(source.Span, out CommitBatchHeader header);
        if (result != CommitBatchParseResult.Ok)
        {
            return result;
        }

        long length = CommitBatchHeader.Size + header.EventsLength;
        if (source.Length < length)
        {
            return CommitBatchParseResult.Truncated;
        }

        if (source.Length > length)
        {
            return CommitBatchParseResult.TrailingBytes;
        }

        batch = new CommitBatch(header, source[CommitBatchHeader.Size..]);
        return CommitBatchParseResult.Ok;
    }
}
