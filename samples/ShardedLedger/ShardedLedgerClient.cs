using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>
/// What an application calls: routes accounts to their shards, in-shard payments straight to the shard (one
/// single-phase transfer each), cross-shard payments to the payer shard's coordinator; every call batches per shard.
/// </summary>
/// <param name="grains">The cluster's grain factory.</param>
/// <param name="map">The cluster's shard map.</param>
public sealed class ShardedLedgerClient(IGrainFactory grains, ShardMap map)
{
    /// <summary>The shard map.</summary>
    public ShardMap Map => map;

    /// <summary>Creates customer accounts on their shards.</summary>
    /// <param name="ids">Customer account ids.</param>
    /// <param name="flags">Their flags (e.g. <see cref="AccountFlags.DebitsMustNotExceedCredits"/>).</param>
    /// <returns>One result per account.</returns>
    public async Task<CreateAccountResult[]> CreateAccountsAsync(IReadOnlyList<UInt128> ids, AccountFlags flags)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var results = new CreateAccountResult[ids.Count];
        await Task.WhenAll(Enumerable.Range(0, ids.Count).GroupBy(i => map.ShardOf(ids[i])).Select(async shard =>
        {
            int[] positions = shard.ToArray();
            Account[] accounts = positions.Select(i => new Account { Id = ids[i], LedgerId = ShardMap.LedgerId, Code = TransferCodes.CustomerAccount, Flags = flags }).ToArray();
            CreateAccountResult[] shardResults = await grains.GetGrain<ILedgerShardGrain>(shard.Key).CreateAccountsAsync(Records.Encode(accounts));
            for (int k = 0; k < positions.Length; k++)
            {
                results[positions[k]] = shardResults[k];
            }
        }));
        return results;
    }

    /// <summary>Issues money to customers from their shard's treasury; each issue is a payment id of its own.</summary>
    /// <param name="issues">Payment id, account and amount of each.</param>
    /// <returns>One result per issue.</returns>
    public async Task<CreateTransferResult[]> IssueAsync(IReadOnlyList<Payment> issues)
    {
        ArgumentNullException.ThrowIfNull(issues);
        var batches = new ShardBatches(issues.Count);
        foreach (Payment issue in issues)
        {
            ShardMap.CheckPaymentId(issue.Id, nameof(issues));
            int shard = map.ShardOf(issue.Payee);
            batches.Add(shard, new Transfer
            {
                Id = ShardMap.TransferId(issue.Id, PaymentStep.InShard),
                DebitAccountId = ShardMap.TreasuryAccount(shard),
                CreditAccountId = issue.Payee,
                Amount = issue.Amount,
                LedgerId = ShardMap.LedgerId,
                Code = TransferCodes.Issue,
                UserData128 = issue.Id,
            });
        }

        return await batches.RunAsync(grains);
    }

    /// <summary>Pays: in-shard payments as one transfer on their shard, cross-shard ones through the payer shard's coordinator.</summary>
    /// <param name="payments">Payments with distinct ids (payer and payee customer accounts, amount above 0).</param>
    /// <returns>One outcome per payment.</returns>
    /// <exception cref="ArgumentException">A payment is malformed.</exception>
    public async Task<PaymentOutcome[]> PayAsync(IReadOnlyList<Payment> payments)
    {
        ArgumentNullException.ThrowIfNull(payments);
        var outcomes = new PaymentOutcome[payments.Count];
        var inShard = new ShardBatches(payments.Count);
        var inShardPositions = new List<int>();
        var crossShard = new Dictionary<int, List<int>>();
        for (int i = 0; i < payments.Count; i++)
        {
            Payment p = payments[i];
            ShardMap.CheckPaymentId(p.Id, nameof(payments));
            if (!ShardMap.IsCustomerAccount(p.Payer) || !ShardMap.IsCustomerAccount(p.Payee) || p.Amount == UInt128.Zero)
            {
                throw new ArgumentException($"Payment {p.Id} needs two customer accounts and an amount above 0.", nameof(payments));
            }

            int payerShard = map.ShardOf(p.Payer);
            if (payerShard == map.ShardOf(p.Payee))
            {
                inShard.Add(payerShard, new Transfer
                {
                    Id = ShardMap.TransferId(p.Id, PaymentStep.InShard),
                    DebitAccountId = p.Payer,
                    CreditAccountId = p.Payee,
                    Amount = p.Amount,
                    LedgerId = ShardMap.LedgerId,
                    Code = TransferCodes.InShard,
                    UserData128 = p.Id,
                });
                inShardPositions.Add(i);
            }
            else
            {
                if (!crossShard.TryGetValue(payerShard, out List<int>? list))
                {
                    crossShard[payerShard] = list = [];
                }

                list.Add(i);
            }
        }

        var calls = new List<Task>();
        if (inShard.Count > 0)
        {
            calls.Add(Task.Run(async () =>
            {
                CreateTransferResult[] results = await inShard.RunAsync(grains);
                for (int k = 0; k < results.Length; k++)
                {
                    // Exists: the same payment was made before (a retry); any other failure stands.
                    outcomes[inShardPositions[k]] = results[k] switch
                    {
                        CreateTransferResult.Ok or CreateTransferResult.Exists => new PaymentOutcome(PaymentStatus.Committed, CreateTransferResult.Ok),
                        >= CreateTransferResult.ExistsWithDifferentFlags and <= CreateTransferResult.ExistsWithDifferentCode => new PaymentOutcome(PaymentStatus.IdReused, results[k]),
                        _ => new PaymentOutcome(PaymentStatus.Aborted, results[k]),
                    };
                }
            }));
        }

        foreach ((int payerShard, List<int> positions) in crossShard)
        {
            calls.Add(Task.Run(async () =>
            {
                Payment[] batch = positions.Select(i => payments[i]).ToArray();
                PaymentOutcome[] results = await grains.GetGrain<IPaymentCoordinatorGrain>(payerShard).PayAsync(batch);
                for (int k = 0; k < results.Length; k++)
                {
                    outcomes[positions[k]] = results[k];
                }
            }));
        }

        await Task.WhenAll(calls);
        return outcomes;
    }

    /// <summary>Every account of every shard.</summary>
    /// <returns>Per shard, its accounts.</returns>
    public async Task<Account[][]> ReadAccountsAsync() =>
        await Task.WhenAll(Enumerable.Range(0, map.ShardCount).Select(async s => Records.DecodeAccounts(await grains.GetGrain<ILedgerShardGrain>(s).ReadAccountsAsync())));

    /// <summary>Runs recovery on coordinators <paramref name="coordinators"/> (activating them if needed).</summary>
    /// <param name="coordinators">Coordinator keys.</param>
    /// <returns>How many payments were in doubt.</returns>
    public async Task<int> RecoverAsync(IEnumerable<long> coordinators) =>
        (await Task.WhenAll(coordinators.Select(c => grains.GetGrain<IPaymentCoordinatorGrain>(c).RecoverAsync()))).Sum();

    /// <summary>Checks the books across shards against the journal (<see cref="ConservationReport"/>).</summary>
    /// <param name="journal">The cluster's journal.</param>
    /// <returns>The report.</returns>
    public async Task<ConservationReport> AuditAsync(PaymentJournal journal)
    {
        ArgumentNullException.ThrowIfNull(journal);
        Account[][] shards = await ReadAccountsAsync();
        JournalRow[] rows = await journal.ReadAllAsync();

        // Each journaled payment's two resolutions, read from their shards.
        var lookups = new Dictionary<int, List<UInt128>>();
        foreach (JournalRow row in rows)
        {
            Add(lookups, map.ShardOf(row.Payment.Payer), ShardMap.TransferId(row.Payment.Id, PaymentStep.PayerResolution));
            Add(lookups, map.ShardOf(row.Payment.Payee), ShardMap.TransferId(row.Payment.Id, PaymentStep.PayeeResolution));
        }

        var found = new Dictionary<UInt128, Transfer>();
        foreach ((int shard, List<UInt128> ids) in lookups)
        {
            Transfer[] transfers = Records.DecodeTransfers(await grains.GetGrain<ILedgerShardGrain>(shard).LookupTransfersAsync(ids.ToArray()));
            foreach (Transfer t in transfers.Where(t => t.Id != UInt128.Zero))
            {
                found[t.Id] = t;
            }
        }

        return ConservationReport.Build(shards, rows, found);

        static void Add(Dictionary<int, List<UInt128>> lookups, int shard, UInt128 id)
        {
            if (!lookups.TryGetValue(shard, out List<UInt128>? list))
            {
                lookups[shard] = list = [];
            }

            list.Add(id);
        }
    }
}
