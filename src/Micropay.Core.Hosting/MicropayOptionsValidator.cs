using Micropay.Core.Engine;
using Micropay.Core.Storage;
using Microsoft.Extensions.Options;

namespace Micropay.Core.Hosting;

/// <summary>
/// Checks <see cref="MicropayOptions"/> when the host starts, listing every wrong setting by name, so a misconfigured
/// service fails at startup with <see cref="OptionsValidationException"/> rather than at its first payment.
/// </summary>
/// <remarks>
/// It mirrors the checks <see cref="LedgerEngine.OpenAsync"/> makes, in the options' own names. Whatever
/// <see cref="MicropayOptions.ConfigureEngine"/> changes is checked by the engine when it opens.
/// </remarks>
internal sealed class MicropayOptionsValidator : IValidateOptions<MicropayOptions>
{
    private const string Prefix = nameof(MicropayOptions) + ".";

    public ValidateOptionsResult Validate(string? name, MicropayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string> failures = [];
        bool inMemory = options.Durability == DurabilityMode.InMemory;
        if (!Enum.IsDefined(options.Durability))
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.Durability)} is {options.Durability}, which is not a durability mode (Durable, Buffered or InMemory).");
        }
        else if (!inMemory && string.IsNullOrWhiteSpace(options.JournalDirectory))
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.JournalDirectory)} is required in {options.Durability} mode: the directory the journal is written to (only InMemory runs without one).");
        }

        if (options.SegmentSizeBytes is < FileLedgerStoreOptions.MinSegmentSizeBytes or > FileLedgerStoreOptions.MaxSegmentSizeBytes)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.SegmentSizeBytes)} is {options.SegmentSizeBytes}; it must be {FileLedgerStoreOptions.MinSegmentSizeBytes} to {FileLedgerStoreOptions.MaxSegmentSizeBytes}.");
        }

        AddIfNegative(failures, options.SnapshotsToKeep, nameof(MicropayOptions.SnapshotsToKeep));
        AddIfNegative(failures, options.SnapshotIntervalBatches, nameof(MicropayOptions.SnapshotIntervalBatches));
        AddIfNegative(failures, options.AccountCapacity, nameof(MicropayOptions.AccountCapacity));
        AddIfNegative(failures, options.TransferCapacity, nameof(MicropayOptions.TransferCapacity));
        if (options.MaxBatchSize is < 1 or > CommitBatch.MaxEventCount)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.MaxBatchSize)} is {options.MaxBatchSize}; it must be 1 to {CommitBatch.MaxEventCount}.");
        }

        if (options.IngressCapacity < 2 || !int.IsPow2(options.IngressCapacity))
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.IngressCapacity)} is {options.IngressCapacity}; it must be a power of two of at least 2.");
        }

        if (options.MonitorInterval <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.MonitorInterval)} is {options.MonitorInterval}; it must be positive.");
        }

        ValidateAudit(options, inMemory, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateAudit(MicropayOptions options, bool inMemory, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(options.AuditDirectory))
        {
            // Audit settings without a directory would be silently ignored; say so instead.
            if (options.AuditOrigin is not null || options.AuditCheckpointEveryBatches is not null || options.AuditCheckpointInterval is not null)
            {
                failures.Add($"{Prefix}{nameof(MicropayOptions.AuditOrigin)}/{nameof(MicropayOptions.AuditCheckpointEveryBatches)}/{nameof(MicropayOptions.AuditCheckpointInterval)} are set, but {Prefix}{nameof(MicropayOptions.AuditDirectory)} is not: no audit log is kept.");
            }

            return;
        }

        if (options.OperatorKey is null)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.AuditDirectory)} is set, but {Prefix}{nameof(MicropayOptions.OperatorKey)} is not: the audit log's checkpoints are signed with the operator key.");
        }

        if (inMemory)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.AuditDirectory)} is set in InMemory mode: the audit log proves journaled events, and an in-memory engine journals none.");
        }

        if (options.AuditCheckpointEveryBatches is < 0)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.AuditCheckpointEveryBatches)} is {options.AuditCheckpointEveryBatches}; it must not be negative.");
        }

        if (options.AuditCheckpointInterval is { } interval && interval < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{nameof(MicropayOptions.AuditCheckpointInterval)} is {interval}; it must not be negative.");
        }
    }

    private static void AddIfNegative(List<string> failures, int value, string setting)
    {
        if (value < 0)
        {
            failures.Add($"{Prefix}{setting} is {value}; it must not be negative.");
        }
    }
}
