using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

/// <summary>How <see cref="LedgerEngine.OpenAsync"/> opens an engine.</summary>
public sealed class LedgerEngineOptions
{
    /// <summary>The default <see cref="MaxBatchSize"/>: 8,189 events (a 1 MiB batch with its header, as in TigerBeetle).</summary>
    public const int DefaultMaxBatchSize = 8189;

    /// <summary>The default <see cref="IngressCapacity"/>: 65,536 submissions.</summary>
    public const int DefaultIngressCapacity = 1 << 16;

    /// <summary>
    /// The journal. Required unless <see cref="Durability"/> is <see cref="DurabilityMode.InMemory"/> (where it is
    /// ignored). The engine opens it, owns it from then on, and disposes it in <see cref="LedgerEngine.DisposeAsync"/>.
    /// </summary>
    public ILedgerStore? Store { get; init; }

    /// <summary>When results are released; <see cref="DurabilityMode.Durable"/> by default.</summary>
    public DurabilityMode Durability { get; init; } = DurabilityMode.Durable;

    /// <summary>
    /// The most events applied (and journaled) as one batch; a batch submission may not be larger. 1 to
    /// <see cref="CommitBatch.MaxEventCount"/>; <see cref="DefaultMaxBatchSize"/> by default.
    /// </summary>
    public int MaxBatchSize { get; init; } = DefaultMaxBatchSize;

    /// <summary>
    /// Submissions the ingress ring holds (a power of two, at least 2); <see cref="DefaultIngressCapacity"/> by
    /// default. When it is full, callers wait asynchronously for room.
    /// </summary>
    public int IngressCapacity { get; init; } = DefaultIngressCapacity;

    /// <summary>The clock batch timestamps come from; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Take a snapshot every this many batches (0, the default: only on demand through
    /// <see cref="LedgerEngine.TakeSnapshotAsync"/>). Ignored when the store does not support snapshots. A periodic
    /// snapshot that fails has no caller to tell: the engine keeps running, and reports it through
    /// <see cref="LedgerEngine.LastSnapshotError"/> and <see cref="LedgerEngine.LatestSnapshotBatchNumber"/>.
    /// </summary>
    public int SnapshotIntervalBatches { get; init; }

    // Snapshots up to this many bytes are copied into one array, larger ones into segments of SnapshotSegmentBytes, which
    // every store takes (ILedgerStore.WriteSnapshotAsync takes a sequence). Array.MaxLength and 256 MiB; internal so that
    // tests can take segmented snapshots of small ledgers.
    internal long SnapshotArrayLimit { get; init; } = Array.MaxLength;

    internal int SnapshotSegmentBytes { get; init; } = 256 * 1024 * 1024;

    /// <summary>
    /// Whether an idle engine applies an empty batch (a clock pulse, journaled like any batch) when a hold's timeout
    /// has passed, so the hold is released without waiting for the next submission; <see langword="true"/> by default.
    /// Turn it off where batches must come only from submissions and <see cref="LedgerEngine.PulseAsync"/> (for
    /// example, tests that drive a manual clock and count batches).
    /// </summary>
    public bool ClockPulses { get; init; } = true;

    /// <summary>
    /// Whether the engine keeps, per account, the transfers in which it appears, for
    /// <see cref="LedgerEngine.GetAccountTransfers(in Micropay.Core.Ledger.AccountFilter, Span{Micropay.Core.Ledger.Transfer})"/>;
    /// <see langword="false"/> by default, because it costs the writer: with one million accounts and uniform transfers
    /// (about two per account) the ledger applied 2.2x slower with it (benchmarks/README.md, AccountHistoryApplyBenchmarks),
    /// and it holds 16 to 32 bytes per transfer and 16 to 32 per account (see
    /// <see cref="Micropay.Core.Ledger.LedgerStateMachine.EnableAccountHistory"/>). It is rebuilt at every open with a pass
    /// over every transfer, never stored in snapshots, so it can be turned on or off between opens.
    /// </summary>
    public bool AccountHistory { get; init; }

    /// <summary>The operations the engine applies and replays; tests extend the default with kinds of their own.</summary>
    internal OperationRegistry Operations { get; init; } = OperationRegistry.Default;

    /// <summary>
    /// The instance id to give a new ledger, or <see langword="null"/> (the default) for a random one. A ledger's instance
    /// id is fixed when it is first created, journaled and kept in snapshots (see <see cref="LedgerEngine.InstanceId"/>);
    /// opening an existing ledger with this set to another id fails, which catches opening the wrong store. Set it for
    /// reproducible runs (tests, a demo's <c>--seed</c>); production ledgers keep the random default. Not 0.
    /// </summary>
    public UInt128? InstanceId { get; init; }

    /// <summary>
    /// The ledger operator's key, which signs channel certificates (<see cref="LedgerEngine.TryIssueCertificate"/>), so a
    /// payee holding only its verification key can trust a channel offline; <see langword="null"/> (the default): the
    /// engine issues none. The engine signs with it and does not own it (the caller disposes it after the engine).
    /// </summary>
    public Crypto.SigningKey? OperatorKey { get; init; }

    /// <summary>
    /// The audit log: an RFC 9162 Merkle tree over every committed event with signed C2SP checkpoints and receipts
    /// (<see cref="LedgerEngine.TryGetReceipt(UInt128, out Audit.AuditReceipt?)"/>), or <see langword="null"/> (the default) for
    /// none. Needs a store (not <see cref="DurabilityMode.InMemory"/>) and <see cref="OperatorKey"/>, which signs the checkpoints.
    /// </summary>
    public Audit.AuditOptions? Audit { get; init; }

    /// <summary>Accounts to reserve room for up front (see <see cref="Ledger.LedgerStateMachine(int, int)"/>).</summary>
    public int AccountCapacity { get; init; }

    /// <summary>Transfers to reserve room for up front (see <see cref="Ledger.LedgerStateMachine(int, int)"/>).</summary>
    public int TransferCapacity { get; init; }

    /// <summary>Checks the options, naming the first one that is wrong.</summary>
    internal void Validate()
    {
        if (Durability is not (DurabilityMode.Durable or DurabilityMode.Buffered or DurabilityMode.InMemory))
        {
            throw new ArgumentOutOfRangeException(nameof(Durability), Durability, "Unknown durability mode.");
        }

        if (Durability != DurabilityMode.InMemory && Store is null)
        {
            throw new ArgumentException($"{nameof(Store)} is required in {Durability} mode (only {nameof(DurabilityMode.InMemory)} runs without a store).", nameof(Store));
        }

        if (MaxBatchSize < 1 || MaxBatchSize > CommitBatch.MaxEventCount)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, $"The batch size must be 1 to {CommitBatch.MaxEventCount}.");
        }

        if (IngressCapacity < 2 || !int.IsPow2(IngressCapacity))
        {
            throw new ArgumentOutOfRangeException(nameof(IngressCapacity), IngressCapacity, "The ingress capacity must be a power of two of at least 2.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentOutOfRangeException.ThrowIfNegative(SnapshotIntervalBatches);
        ArgumentOutOfRangeException.ThrowIfNegative(AccountCapacity);
        ArgumentOutOfRangeException.ThrowIfNegative(TransferCapacity);
        if (Audit is not null)
        {
            if (Durability == DurabilityMode.InMemory)
            {
                throw new ArgumentException("The audit log proves journaled events; an engine in InMemory mode journals none.", nameof(Audit));
            }

            if (OperatorKey is null)
            {
                throw new ArgumentException("The audit log's checkpoints are signed with OperatorKey, which is not set.", nameof(OperatorKey));
            }

            Audit.Validate();
        }

        if (InstanceId == UInt128.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InstanceId), "An instance id is never 0 (0 means \"not set\"); leave it null for a random one.");
        }
    }
}
