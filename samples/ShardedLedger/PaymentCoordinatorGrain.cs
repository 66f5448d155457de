using Micropay.Core.Ledger;
using Npgsql;
using Orleans.Concurrency;

namespace ShardedLedger;

/// <summary>
/// Drives cross-shard payments: journal the intent, hold on both shards, journal the decision, post or void both sides,
/// journal the end. Each phase takes the whole batch: one journal transaction, or one grain call per shard involved
/// (the shards of one phase in parallel).
/// </summary>
/// <remarks>
/// <para>
/// What must hold: (1) nothing is held before the intent is durable, so recovery finds every payment that may have a
/// hold; (2) nothing is posted or voided before the decision is durable, and the decision is a compare-and-set, so every
/// driver of a payment (this activation, a retry, recovery after a crash, a dead activation still running) carries out
/// the same one; (3) every transfer id derives from the payment id (<see cref="ShardMap.TransferId"/>), so a step run
/// twice is answered Exists (same fields) and moves nothing twice; a result ExistsWithDifferent* means the id is someone
/// else's, and then the hold is treated as failed and never voided or posted.
/// </para>
/// <para>
/// Aborting a side sends the hold again followed by its void, in one batch: if the hold was never placed (the
/// coordinator died first), placing it now and voiding it at once leaves the id taken, so a hold still on its way from
/// a dead driver can never land later and stay held for good; if the hold fails now (the payer lacks the funds), a
/// transient failure burns its id with the same effect.
/// </para>
/// <para>
/// Reentrant: batches interleave freely (each payment is serialized by its journal row, not by the grain), which is
/// what lets several batches share the shards' group commits.
/// </para>
/// </remarks>
[Reentrant]
public sealed class PaymentCoordinatorGrain(ShardedLedgerSettings settings, NpgsqlDataSource dataSource) : Grain, IPaymentCoordinatorGrain
{
    private readonly ShardMap _map = new(settings.ShardCount);
    private readonly PaymentJournal _journal = new(dataSource, settings.Cluster);

    // This activation's id in the journal rows it writes: recovery resolves only rows other activations left.
    private readonly Guid _driver = Guid.NewGuid();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _journal.EnsureTableAsync();

        // A new activation inherits whatever a dead one left in doubt. Recovery calls the shards, which may themselves
        // be moving off a dead silo, so it runs just after activation (a timer that fires once) rather than inside it,
        // where a slow shard would fail the activation; callers may also run it (RecoverAsync) and wait for it.
        this.RegisterGrainTimer(async _ => await RecoverAsync(), TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <inheritdoc />
    public async Task<PaymentOutcome[]> PayAsync(Payment[] payments)
    {
        ArgumentNullException.ThrowIfNull(payments);
        var seen = new HashSet<UInt128>();
        foreach (Payment p in payments)
        {
            ShardMap.CheckPaymentId(p.Id, nameof(payments));
            if (!seen.Add(p.Id))
            {
                throw new ArgumentException($"Payment {p.Id} appears twice in one batch.", nameof(payments));
            }

            if (!ShardMap.IsCustomerAccount(p.Payer) || !ShardMap.IsCustomerAccount(p.Payee) || p.Amount == UInt128.Zero)
            {
                throw new ArgumentException($"Payment {p.Id} needs two customer accounts and an amount above 0.", nameof(payments));
            }

            if (_map.ShardOf(p.Payer) == _map.ShardOf(p.Payee))
            {
                throw new ArgumentException($"Payment {p.Id} is within shard {_map.ShardOf(p.Payer)}: send it to the shard, not the coordinator.", nameof(payments));
            }
        }

        var outcomes = new PaymentOutcome[payments.Length];
        if (payments.Length == 0)
        {
            return outcomes;
        }

        JournalRow[] rows = await _journal.RecordIntentsAsync(this.GetPrimaryKeyLong(), _driver, payments);
        var mine = new List<JournalRow>(rows.Length);
        var positions = new List<int>(rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Payment != payments[i])
            {
                outcomes[i] = new PaymentOutcome(PaymentStatus.IdReused, CreateTransferResult.Ok);
                continue;
            }

            mine.Add(rows[i]);
            positions.Add(i);
        }

        PaymentOutcome[] driven;
        try
        {
            driven = await DriveAsync(mine.ToArray(), recovering: false);
        }
        catch
        {
            // The rows this activation journaled stay in doubt, and its own recovery skips them: let a new activation
            // (the next call makes one) recover them.
            DeactivateOnIdle();
            throw;
        }

        for (int i = 0; i < driven.Length; i++)
        {
            outcomes[positions[i]] = driven[i];
        }

        return outcomes;
    }

    /// <inheritdoc />
    public async Task<int> RecoverAsync()
    {
        JournalRow[] inDoubt = await _journal.InDoubtAsync(this.GetPrimaryKeyLong(), _driver);
        if (inDoubt.Length > 0)
        {
            await DriveAsync(inDoubt, recovering: true);
        }

        return inDoubt.Length;
    }

    /// <inheritdoc />
    public Task<ActivationInfo> GetActivationAsync() => Task.FromResult(new ActivationInfo(RuntimeIdentity, 0));

    // Takes journaled payments from whatever state they are in to their end. Recovery does not place holds: a payment
    // it finds undecided is aborted (presumed abort), since its driver may still be placing them.
    private async Task<PaymentOutcome[]> DriveAsync(JournalRow[] rows, bool recovering)
    {
        var outcomes = new PaymentOutcome[rows.Length];
        var undecided = new List<int>();
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].State == JournalState.Prepared)
            {
                undecided.Add(i);
            }
        }

        if (undecided.Count > 0)
        {
            var decisions = new JournalState[undecided.Count];
            var reasons = new CreateTransferResult[undecided.Count];
            if (recovering)
            {
                Array.Fill(decisions, JournalState.Aborting);
            }
            else
            {
                var holds = new ShardBatches(2 * undecided.Count);
                foreach (int i in undecided)
                {
                    Payment p = rows[i].Payment;
                    holds.Add(_map.ShardOf(p.Payer), PayerHold(p));
                    holds.Add(_map.ShardOf(p.Payee), PayeeHold(p));
                }

                CreateTransferResult[] results = await holds.RunAsync(GrainFactory);
                for (int k = 0; k < undecided.Count; k++)
                {
                    CreateTransferResult payer = results[2 * k];
                    CreateTransferResult payee = results[(2 * k) + 1];
                    bool commit = Held(payer) && Held(payee);
                    decisions[k] = commit ? JournalState.Committing : JournalState.Aborting;
                    reasons[k] = commit ? CreateTransferResult.Ok : !Held(payer) ? payer : payee;
                }

                await StallIfAsked(undecided.Select(i => rows[i].Payment.Id), settings.StallAfterHolds);
            }

            JournalRow[] decided = await _journal.DecideAsync(undecided.Select(i => rows[i].Payment.Id).ToArray(), decisions, reasons);
            for (int k = 0; k < undecided.Count; k++)
            {
                rows[undecided[k]] = decided[k];
            }
        }

        var open = new List<int>();
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].State is JournalState.Committing or JournalState.Aborting)
            {
                open.Add(i);
            }
        }

        if (open.Count > 0)
        {
            if (!recovering)
            {
                await StallIfAsked(open.Select(i => rows[i].Payment.Id), settings.StallAfterDecision);
            }

            await ResolveAsync(open.Select(i => rows[i]).ToList());
            await _journal.FinishAsync(open.Select(i => rows[i].Payment.Id).ToArray());
        }

        for (int i = 0; i < rows.Length; i++)
        {
            outcomes[i] = rows[i].State is JournalState.Committing or JournalState.Committed
                ? new PaymentOutcome(PaymentStatus.Committed, CreateTransferResult.Ok)
                : new PaymentOutcome(PaymentStatus.Aborted, rows[i].Reason);
        }

        return outcomes;
    }

    // Posts both sides of committing payments, voids both sides of aborting ones; one call per shard.
    private async Task ResolveAsync(List<JournalRow> rows)
    {
        var batches = new ShardBatches(4 * rows.Count);
        foreach (JournalRow row in rows)
        {
            Payment p = row.Payment;
            if (row.State == JournalState.Committing)
            {
                batches.Add(_map.ShardOf(p.Payer), Post(p.Id, PaymentStep.PayerHold, PaymentStep.PayerResolution));
                batches.Add(_map.ShardOf(p.Payee), Post(p.Id, PaymentStep.PayeeHold, PaymentStep.PayeeResolution));
            }
            else
            {
                batches.Add(_map.ShardOf(p.Payer), PayerHold(p));
                batches.Add(_map.ShardOf(p.Payer), Void(p.Id, PaymentStep.PayerHold, PaymentStep.PayerResolution));
                batches.Add(_map.ShardOf(p.Payee), PayeeHold(p));
                batches.Add(_map.ShardOf(p.Payee), Void(p.Id, PaymentStep.PayeeHold, PaymentStep.PayeeResolution));
            }
        }

        CreateTransferResult[] results = await batches.RunAsync(GrainFactory);
        int at = 0;
        foreach (JournalRow row in rows)
        {
            if (row.State == JournalState.Committing)
            {
                // Both holds were placed before the commit was journaled, so a post can only be Ok or Exists.
                for (int side = 0; side < 2; side++, at++)
                {
                    if (!Held(results[at]))
                    {
                        throw new InvalidOperationException($"Payment {row.Payment.Id} is committed but its {(side == 0 ? "payer" : "payee")} side could not be posted: {results[at]}.");
                    }
                }
            }
            else
            {
                for (int side = 0; side < 2; side++, at += 2)
                {
                    CreateTransferResult hold = results[at];
                    CreateTransferResult @void = results[at + 1];
                    bool consistent = Held(hold) ? Held(@void) : @void is CreateTransferResult.PendingTransferNotFound or CreateTransferResult.IdAlreadyFailed;
                    if (!consistent)
                    {
                        throw new InvalidOperationException($"Payment {row.Payment.Id} is aborted but its {(side == 0 ? "payer" : "payee")} side did not void: hold {hold}, void {@void}.");
                    }
                }
            }
        }
    }

    // Exists means the same transfer with the same fields: the step was done before. Nothing else counts as held.
    private static bool Held(CreateTransferResult result) => result is CreateTransferResult.Ok or CreateTransferResult.Exists;

    // Payer to the payer shard's bridge.
    private Transfer PayerHold(Payment p) => new()
    {
        Id = ShardMap.TransferId(p.Id, PaymentStep.PayerHold),
        DebitAccountId = p.Payer,
        CreditAccountId = ShardMap.BridgeAccount(_map.ShardOf(p.Payer)),
        Amount = p.Amount,
        LedgerId = ShardMap.LedgerId,
        Code = TransferCodes.CrossShardHold,
        Flags = TransferFlags.Pending,
        UserData128 = p.Id,
    };

    // The payee shard's bridge to the payee.
    private Transfer PayeeHold(Payment p) => new()
    {
        Id = ShardMap.TransferId(p.Id, PaymentStep.PayeeHold),
        DebitAccountId = ShardMap.BridgeAccount(_map.ShardOf(p.Payee)),
        CreditAccountId = p.Payee,
        Amount = p.Amount,
        LedgerId = ShardMap.LedgerId,
        Code = TransferCodes.CrossShardHold,
        Flags = TransferFlags.Pending,
        UserData128 = p.Id,
    };

    private static Transfer Post(UInt128 paymentId, PaymentStep hold, PaymentStep resolution) => new()
    {
        Id = ShardMap.TransferId(paymentId, resolution),
        PendingId = ShardMap.TransferId(paymentId, hold),
        Amount = UInt128.MaxValue, // the whole held amount
        Flags = TransferFlags.PostPendingTransfer,
        UserData128 = paymentId,
    };

    private static Transfer Void(UInt128 paymentId, PaymentStep hold, PaymentStep resolution) => new()
    {
        Id = ShardMap.TransferId(paymentId, resolution),
        PendingId = ShardMap.TransferId(paymentId, hold),
        Flags = TransferFlags.VoidPendingTransfer,
        UserData128 = paymentId,
    };

    private static async Task StallIfAsked(IEnumerable<UInt128> ids, PaymentIdRange range)
    {
        if (ids.Any(range.Contains))
        {
            // Fault injection (tests, the demo): this driver stops here for good, as if its silo had died.
            await Task.Delay(Timeout.Infinite);
        }
    }
}
