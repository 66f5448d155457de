using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

namespace Micropay.Core.Hosting;

/// <summary>
/// What a service needs to run a <see cref="LedgerEngine"/> in the generic host: where the journal lives, how durable
/// results are, the optional audit log, and capacities. Checked when the host starts (the messages name the setting);
/// mapped to <see cref="FileLedgerStoreOptions"/> and <see cref="LedgerEngineOptions"/>, and
/// <see cref="ConfigureEngine"/> reaches whatever else <see cref="LedgerEngineOptions"/> offers.
/// </summary>
/// <remarks>
/// Settable properties so the configuration binder can fill them (see
/// <see cref="MicropayServiceCollectionExtensions.AddMicropay(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration, Action{MicropayOptions}?)"/>);
/// <see cref="OperatorKey"/> and <see cref="ConfigureEngine"/> are set in code only.
/// </remarks>
public sealed class MicropayOptions
{
    /// <summary>The configuration section a service conventionally binds these options from: "Micropay".</summary>
    public const string DefaultSectionName = "Micropay";

    /// <summary>The default <see cref="MonitorInterval"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultMonitorInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The directory of the journal (a <see cref="FileLedgerStore"/>; created if missing). Required unless
    /// <see cref="Durability"/> is <see cref="DurabilityMode.InMemory"/>, where it is ignored. One engine per directory:
    /// the store locks it.
    /// </summary>
    public string? JournalDirectory { get; set; }

    /// <summary>When results are released (<see cref="LedgerEngineOptions.Durability"/>); <see cref="DurabilityMode.Durable"/> by default.</summary>
    public DurabilityMode Durability { get; set; } = DurabilityMode.Durable;

    /// <summary>The journal's segment size (<see cref="FileLedgerStoreOptions.SegmentSizeBytes"/>); 64 MiB by default.</summary>
    public long SegmentSizeBytes { get; set; } = FileLedgerStoreOptions.DefaultSegmentSizeBytes;

    /// <summary>Snapshot files kept (<see cref="FileLedgerStoreOptions.SnapshotsToKeep"/>; 0 keeps all); 2 by default.</summary>
    public int SnapshotsToKeep { get; set; } = FileLedgerStoreOptions.DefaultSnapshotsToKeep;

    /// <summary>Whether opening rechecks the whole journal's hash chain (<see cref="FileLedgerStoreOptions.VerifyHashChainOnOpen"/>).</summary>
    public bool VerifyHashChainOnOpen { get; set; }

    /// <summary>Whether durable journal pages leave the page cache (<see cref="FileLedgerStoreOptions.DropJournalFromPageCache"/>).</summary>
    public bool DropJournalFromPageCache { get; set; }

    /// <summary>Take a snapshot every this many batches (<see cref="LedgerEngineOptions.SnapshotIntervalBatches"/>); 0, the default: only on demand.</summary>
    public int SnapshotIntervalBatches { get; set; }

    /// <summary>The most events per batch (<see cref="LedgerEngineOptions.MaxBatchSize"/>).</summary>
    public int MaxBatchSize { get; set; } = LedgerEngineOptions.DefaultMaxBatchSize;

    /// <summary>Submissions the ingress ring holds, a power of two (<see cref="LedgerEngineOptions.IngressCapacity"/>).</summary>
    public int IngressCapacity { get; set; } = LedgerEngineOptions.DefaultIngressCapacity;

    /// <summary>Accounts to reserve room for up front (<see cref="LedgerEngineOptions.AccountCapacity"/>).</summary>
    public int AccountCapacity { get; set; }

    /// <summary>Transfers to reserve room for up front (<see cref="LedgerEngineOptions.TransferCapacity"/>).</summary>
    public int TransferCapacity { get; set; }

    /// <summary>Whether an idle engine pulses its clock to release timed-out holds (<see cref="LedgerEngineOptions.ClockPulses"/>); on by default.</summary>
    public bool ClockPulses { get; set; } = true;

    /// <summary>
    /// The audit log's directory (<see cref="Audit.AuditOptions.Directory"/>), or <see langword="null"/> (the default) for no
    /// audit log. Needs <see cref="OperatorKey"/>, which signs its checkpoints, and a journal (not <see cref="DurabilityMode.InMemory"/>).
    /// </summary>
    public string? AuditDirectory { get; set; }

    /// <summary>The audit log's origin line (<see cref="Audit.AuditOptions.Origin"/>), or <see langword="null"/> for one derived from the instance id.</summary>
    public string? AuditOrigin { get; set; }

    /// <summary>Sign a checkpoint at least every this many batches (<see cref="Audit.AuditOptions.CheckpointEveryBatches"/>); null keeps the engine's default.</summary>
    public int? AuditCheckpointEveryBatches { get; set; }

    /// <summary>Sign a checkpoint at least this often (<see cref="Audit.AuditOptions.CheckpointInterval"/>); null keeps the engine's default.</summary>
    public TimeSpan? AuditCheckpointInterval { get; set; }

    /// <summary>
    /// The ledger operator's key (<see cref="LedgerEngineOptions.OperatorKey"/>): signs channel certificates and the audit
    /// log's checkpoints; <see langword="null"/> by default. Set in code (loaded from a secret store), never bound from
    /// configuration. The engine does not own it: whoever created it disposes it after the host has stopped.
    /// </summary>
    public SigningKey? OperatorKey { get; set; }

    /// <summary>
    /// How often a background loop polls the running engine for a failure and for snapshot results, which the engine
    /// only exposes as properties (<see cref="LedgerEngine.Failure"/>, <see cref="LedgerEngine.LastSnapshotError"/>), to log
    /// them; <see cref="DefaultMonitorInterval"/> by default. Health checks and metrics read the engine directly and do not wait for it.
    /// </summary>
    public TimeSpan MonitorInterval { get; set; } = DefaultMonitorInterval;

    /// <summary>
    /// Called with the <see cref="LedgerEngineOptions"/> mapped from these options (their <see cref="LedgerEngineOptions.Store"/>
    /// already created) just before the engine opens; returns the options to open with. <see cref="LedgerEngineOptions"/> is
    /// init-only, so a callback that changes something (an <see cref="LedgerEngineOptions.InstanceId"/>, a
    /// <see cref="LedgerEngineOptions.TimeProvider"/>) returns a new instance copying the rest. Keep the given
    /// <see cref="LedgerEngineOptions.Store"/>: the journal metrics are measured around it, and a store the callback
    /// replaces it with goes unmeasured (the given one is then disposed unopened).
    /// </summary>
    public Func<LedgerEngineOptions, LedgerEngineOptions>? ConfigureEngine { get; set; }
}
