using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>
/// One kind of journaled operation, described once: its code in the journal, the size of its event records, how the
/// state machine applies a batch of its events, and how recovery replays one. The engine (submission, gather, apply,
/// encode, release) and recovery dispatch through descriptions only, so a kind is added by writing its description
/// (with the state it changes) and listing it in <see cref="OperationRegistry"/>.
/// </summary>
/// <remarks>
/// Every dispatch is a virtual call per batch or per submission, never per event: the per-event work happens inside
/// the typed description (<see cref="Operation{TEvent, TResult}"/>), where the JIT sees concrete types.
/// </remarks>
internal abstract class Operation
{
    protected Operation(BatchOperation code, string name, int eventSize)
    {
        if (code == BatchOperation.None)
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "Operation code 0 means no operation.");
        }

        Code = code;
        Name = name;
        EventSize = eventSize;
    }

    /// <summary>The operation's code in a batch header (<see cref="CommitBatchHeader.Operation"/>): fixed forever once written.</summary>
    public BatchOperation Code { get; }

    /// <summary>The operation's name, for messages.</summary>
    public string Name { get; }

    /// <summary>The size of one encoded event in bytes (<see cref="CommitBatchHeader.EventSize"/>).</summary>
    public int EventSize { get; }

    /// <summary>
    /// Whether a batch of this operation is released only once it is durable, even in <see cref="DurabilityMode.Buffered"/>
    /// mode: for facts that must never be taken back once a caller saw them (the ledger's instance id, which signatures bind).
    /// </summary>
    public virtual bool ReleasedOnlyWhenDurable => false;

    /// <summary>
    /// Whether its events carry signatures the edge checks (orders, channel opens, vouchers, ticks, closes): such a kind
    /// overrides <see cref="Operation{TEvent, TResult}.RecheckEdge"/> too, so <see cref="AuditVerifier"/> re-verifies its
    /// journaled events.
    /// </summary>
    public virtual bool CarriesSignatures => false;

    /// <summary>The operation's place in <see cref="OperationRegistry.All"/>, which indexes per-operation arrays.</summary>
    public int Index { get; internal set; } = -1;

    /// <summary>Room for the events and results of one batch of up to <paramref name="capacity"/> events.</summary>
    public abstract OperationStaging CreateStaging(int capacity);

    /// <summary>The typed part of a <see cref="Submission"/> for this operation (one per submission and operation, reused).</summary>
    public abstract SubmissionPayload CreatePayload(Submission owner);

    /// <inheritdoc />
    public override string ToString() => $"{Name} (code {(ushort)Code})";
}

/// <summary>An operation whose events are <typeparamref name="TEvent"/> records with one <typeparamref name="TResult"/> each.</summary>
/// <typeparam name="TEvent">The event record.</typeparam>
/// <typeparam name="TResult">The per-event result code: an enum whose default (0) means Ok (the engine counts failures by it).</typeparam>
internal abstract class Operation<TEvent, TResult> : Operation
    where TEvent : struct
    where TResult : unmanaged, Enum
{
    protected Operation(BatchOperation code, string name, int eventSize)
        : base(code, name, eventSize)
    {
    }

    /// <summary>Applies a batch (the state machine's call, on the writer thread): one result per event; returns the failed count.</summary>
    public abstract int Apply(LedgerStateMachine ledger, ulong timestamp, ReadOnlySpan<TEvent> events, Span<TResult> results);

    /// <summary>Encodes events as the journal stores them, <see cref="Operation.EventSize"/> bytes each.</summary>
    public abstract void Encode(ReadOnlySpan<TEvent> events, Span<byte> destination);

    /// <summary>Decodes journaled events (replay).</summary>
    public abstract void Decode(ReadOnlySpan<byte> source, Span<TEvent> events);

    /// <summary>Whether an event is linked to the next: a batch must not end between them.</summary>
    public abstract bool IsLinked(in TEvent e);

    /// <summary>A result as the submission's outcome word.</summary>
    public abstract long ToOutcome(TResult result);

    /// <summary>The result an outcome word holds (the inverse of <see cref="ToOutcome"/>).</summary>
    public abstract TResult FromOutcome(long outcome);

    /// <summary>
    /// The edge's checks of one journaled event again, for <see cref="AuditVerifier"/>: against the keys and channels a
    /// replay applied before the event's batch, which is what the edge knew when it let the event through. Null when the
    /// edge would pass it, else its refusal; <paramref name="signed"/> says whether the event carried a signature of its
    /// own (a cooperative close does not). Kinds without signatures keep this default.
    /// </summary>
    public virtual string? RecheckEdge(in TEvent e, in JournalEdge edge, out bool signed)
    {
        signed = false;
        return null;
    }

    public sealed override OperationStaging CreateStaging(int capacity) => new OperationStaging<TEvent, TResult>(this, capacity);

    public sealed override SubmissionPayload CreatePayload(Submission owner) => new SubmissionPayload<TEvent, TResult>(this, owner);
}
